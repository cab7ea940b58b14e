package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"sls2siem/internal/config"
	"sls2siem/internal/consume"
	"sls2siem/internal/metrics"
	"sls2siem/internal/receivers"
	"sls2siem/internal/ship"
)

// consumeCmd is the consumer-group daemon.
type consumeCmd struct{ env *Env }

func (c *consumeCmd) Name() string { return "consume" }
func (c *consumeCmd) Summary() string {
	return "ship a logstore as a consumer of an SLS consumer group, until SIGINT or SIGTERM"
}

func (c *consumeCmd) Usage() string {
	return `Usage: sls2siem consume

Joins SLS_CONSUMER_GROUP (created when missing) of SLS_PROJECT/SLS_LOGSTORE at
SLS_ENDPOINT as SLS_CONSUMER_NAME, with the AccessKey pair of ALIBABA_CLOUD_*, and ships
the shards the group assigns it until SIGINT or SIGTERM. Then it stops cleanly within
SLS_CONSUMER_STOP_TIMEOUT: the batch in flight is finished, a batch whose delivery
failed is not tried again, the checkpoints of what was delivered are saved and the shards
released. The last log line says how many batches the stop left undelivered (the group
delivers them again).
SHIP_METRICS_ADDR serves /metrics, /healthz and /readyz. Log lines go to stderr.

Exit status: 0 stopped cleanly with every batch started delivered; 1 a failure (a
wrong endpoint, project, logstore or credential, or a stop that took longer than
SLS_CONSUMER_STOP_TIMEOUT); 2 usage or configuration; 130 stopped with batches left
undelivered (their checkpoints were not saved: at-least-once holds).
`
}

func (c *consumeCmd) Run(ctx context.Context, args []string) error {
	if err := parseFlags(newFlags("consume"), args); err != nil {
		return err
	}
	cfg, err := config.Load(c.env.Getenv, config.UseConsume)
	if err != nil {
		return err
	}
	cfg.BatchMemory = c.env.BatchMemory
	log := c.env.newLogger(cfg)
	log.Info("consume: starting", "version", c.env.Build.Version, "config", cfg.LogValue())
	logWarnings(log, "consume", cfg)
	shipper := ship.New(cfg, log)
	defer shipper.Close()
	obs, closeMetrics, err := serveMetrics(cfg.Consume, c.env.Build.Version, shipper.Receivers().Status, log)
	if err != nil {
		return err
	}
	defer closeMetrics()
	sum, err := consume.RunDaemon(ctx, cfg, cfg.Consume, shipper, log, obs)
	switch {
	case err != nil:
		return reported(ExitFailure, err) // the driver's last line says it
	case sum.Undelivered > 0:
		return reported(ExitInterrupted, fmt.Errorf("%d batches undelivered", sum.Undelivered))
	}
	return nil
}

// serveMetrics serves the daemon's metrics and health on SHIP_METRICS_ADDR
// (when set) and returns the observer to tell, and how to stop serving.
func serveMetrics(c config.Consume, version string, health func() []receivers.Status, log *slog.Logger) (consume.Observer, func(), error) {
	if c.MetricsAddr == "" {
		return nil, func() {}, nil
	}
	m := metrics.New(metrics.Options{Version: version, Project: c.Project, Logstore: c.Logstore,
		Group: c.Group, Consumer: c.Name, HeartbeatTimeout: c.HeartbeatTimeout, StuckAfter: c.StuckAfter, Receivers: health})
	srv, err := metrics.Listen(c.MetricsAddr, m.Handler(log), log, metrics.ServeOptions{AllowedHosts: c.MetricsHosts})
	if err != nil {
		return nil, nil, withCode(ExitFailure, fmt.Errorf("%s: %w", config.VarShipMetricsAddr, err))
	}
	log.Info("consume: serving metrics and health", "metrics", "http://"+srv.Addr()+"/metrics",
		"healthz", "http://"+srv.Addr()+"/healthz", "readyz", "http://"+srv.Addr()+"/readyz")
	return m, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Close(ctx)
	}, nil
}
