// Command sls2siem is a Function Compute function that ships the logs of one
// SLS shard's cursor range, handed to it by an SLS trigger, to a SIEM's
// syslog receiver.
//
// The data flows one way: trigger event (internal/trigger) → log reader
// (internal/logstore) → formatter (internal/format) → syslog sender
// (internal/transport), driven per invocation by internal/ship and served
// under FC's go1 or custom runtime by internal/fcruntime.
//
// Usage:
//
//	sls2siem                 under FC: go1 when FC_RUNTIME_API is set, else the custom runtime server
//	sls2siem serve           the FC 3.0 custom runtime HTTP server (FC_SERVER_PORT, default 9000)
//	sls2siem ship -event F   ship one event from file F (- for stdin) with credentials from ALIBABA_CLOUD_* variables
//	sls2siem consume         consumer-group daemon (internal/consume) until SIGINT or SIGTERM
//	sls2siem status          a consumer group's checkpoints and lag per shard (internal/status)
//	sls2siem redrive         ship again the ranges recorded in the dead-letter logstore (internal/redrive)
//	sls2siem backfill        ship a receive-time window of a logstore (internal/backfill)
//	sls2siem check           validate the configuration in the environment and print it
//	sls2siem version
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"sls2siem/internal/config"
	"sls2siem/internal/consume"
	"sls2siem/internal/fcruntime"
	"sls2siem/internal/metrics"
	"sls2siem/internal/secret"
	"sls2siem/internal/ship"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fcruntime.LimitMemory() // under FC: a soft heap limit from the function's memory size
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	switch {
	case cmd == "" && fcruntime.InGo1():
		fcruntime.StartGo1(newFunction())
		return 0
	case cmd == "serve" || (cmd == "" && inCustomRuntime()):
		return serve()
	case cmd == "ship":
		return shipOnce(args[1:])
	case cmd == "consume":
		return consumeDaemon()
	case cmd == "status":
		return statusCmd(args[1:])
	case cmd == "redrive":
		return redriveCmd(args[1:])
	case cmd == "backfill":
		return backfillCmd(args[1:])
	case cmd == "check":
		return check()
	case cmd == "version":
		fmt.Println("sls2siem", version)
		return 0
	default:
		fmt.Fprint(os.Stderr, usage)
		if cmd == "" || cmd == "help" || cmd == "-h" || cmd == "--help" {
			return 0
		}
		return 2
	}
}

const usage = `sls2siem ships SLS logs to a SIEM over syslog, as a Function Compute function.

Usage:
  sls2siem                 under FC: go1 runtime when FC_RUNTIME_API is set, custom runtime when FC_SERVER_PORT is
  sls2siem serve           run the FC 3.0 custom runtime HTTP server (FC_SERVER_PORT, default 9000)
  sls2siem ship -event F   ship one SLS trigger event from file F (- for stdin); credentials from
                           ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN
  sls2siem consume         consumer-group mode: ship SLS_PROJECT/SLS_LOGSTORE as consumer SLS_CONSUMER_NAME of
                           SLS_CONSUMER_GROUP until SIGINT or SIGTERM, then stop cleanly (same credentials);
                           SHIP_METRICS_ADDR serves /metrics, /healthz and /readyz
  sls2siem status [-project P] [-logstore L] [-group G] [-json] [-max-lag D]
                           per shard: the group's checkpoint, the shard's end, the lag (SLS_ENDPOINT,
                           same credentials); exit status 3 when a shard lags more than -max-lag
  sls2siem redrive [-since D] [-group G] [-serve]
                           ship again the ranges dead-lettered in SHIP_DEADLETTER_LOGSTORE of SLS_PROJECT at
                           SLS_ENDPOINT (same credentials); exit status 3 when a range's data has expired
  sls2siem backfill -project P -logstore L -from T1 -to T2 [-shards LIST] [-state FILE] [-parallel N] [-chunk N]
                           ship the logs received in [T1, T2) (RFC 3339 or unix seconds) from SLS_ENDPOINT
                           (same credentials), shards in parallel, with progress; -state makes it resumable;
                           SIGINT stops at a chunk boundary and prints the resume command (exit status 130)
  sls2siem check           validate the SYSLOG_* / SLS_* configuration and print it
  sls2siem version

Configuration comes from environment variables: see README.md.
`

func inCustomRuntime() bool {
	return os.Getenv(fcruntime.EnvServerPort) != "" || os.Getenv("FC_FUNCTION_NAME") != ""
}

// function is the FC handler: the Shipper, or the configuration error that
// every invocation reports (FC shows it) instead of a crash loop. Timer
// events run the consumer-group driver.
type function struct {
	shipper  *ship.Shipper
	consumer *consume.Invoker
	cfgErr   error
	log      *slog.Logger
}

func newFunction() *function {
	cfg, err := loadConfig()
	log := newLogger(cfg.LogLevel)
	if err != nil {
		log.Error("cold start: configuration rejected; every invocation will fail until it is fixed", "error", err.Error())
		return &function{cfgErr: err, log: log}
	}
	log.Info("cold start", "version", version, "config", cfg.LogValue())
	logWarnings(log, "cold start", cfg)
	shipper := ship.New(cfg, log)
	return &function{shipper: shipper, consumer: consume.NewInvoker(cfg, shipper, log), log: log}
}

func (f *function) Invoke(ctx context.Context, req fcruntime.Request) ([]byte, error) {
	if f.cfgErr != nil {
		return nil, f.cfgErr
	}
	creds := req.Credentials
	if consume.IsTimerEvent(req.Payload) {
		return f.consumer.Invoke(ctx, req.ID, req.Payload, creds)
	}
	sum, err := f.shipper.Ship(ctx, ship.Invocation{RequestID: req.ID, Event: req.Payload, Credentials: creds})
	if err != nil {
		return nil, err
	}
	return json.Marshal(sum)
}

func (f *function) PreStop(ctx context.Context) {
	if f.shipper == nil {
		return
	}
	if err := f.shipper.Close(); err != nil {
		f.log.Warn("pre-stop: closing syslog connections", "error", err.Error())
	}
}

func serve() int {
	fn := newFunction()
	addr, err := fcruntime.ServerAddr()
	if err != nil {
		fn.log.Error(err.Error())
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := fcruntime.Serve(ctx, addr, fn, fn.log); err != nil {
		fn.log.Error(err.Error())
		return 1
	}
	return 0
}

func shipOnce(args []string) int {
	fs := flag.NewFlagSet("ship", flag.ContinueOnError)
	eventPath := fs.String("event", "", "file holding the SLS trigger event (- for stdin)")
	timeout := fs.Duration("timeout", 10*time.Minute, "deadline of the invocation")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *eventPath == "" {
		fmt.Fprintln(os.Stderr, "ship: -event is required")
		return 2
	}
	event, err := readEvent(*eventPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ship:", err)
		return 1
	}
	fn := newFunction()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	defer fn.PreStop(ctx)
	out, err := fn.Invoke(ctx, fcruntime.Request{
		ID:      "local",
		Payload: event,
		Credentials: secret.Credentials{
			AccessKeyID:     os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"),
			AccessKeySecret: os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
			SecurityToken:   os.Getenv("ALIBABA_CLOUD_SECURITY_TOKEN"),
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "ship:", err)
		return 1
	}
	fmt.Println(string(out))
	return 0
}

// consumeDaemon runs the consumer-group daemon until SIGINT or SIGTERM.
func consumeDaemon() int {
	cfg, err := loadConfig()
	c, cerr := config.ConsumeFromEnv()
	log := newLogger(cfg.LogLevel)
	if err = errors.Join(err, cerr); err != nil {
		log.Error("consume: configuration rejected", "error", err.Error())
		return 1
	}
	log.Info("consume: starting", "version", version, "config", cfg.LogValue())
	logWarnings(log, "consume", cfg)
	var obs consume.Observer
	if c.MetricsAddr != "" {
		m := metrics.New(metrics.Options{Version: version, Project: c.Project, Logstore: c.Logstore,
			Group: c.Group, Consumer: c.Name, HeartbeatTimeout: c.HeartbeatTimeout, StuckAfter: c.StuckAfter})
		srv, err := metrics.Listen(c.MetricsAddr, m.Handler(log), log)
		if err != nil {
			log.Error("consume: cannot serve the metrics", "error", fmt.Sprintf("%s: %v", config.VarShipMetricsAddr, err))
			return 1
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			srv.Close(ctx)
		}()
		log.Info("consume: serving metrics and health", "metrics", "http://"+srv.Addr()+"/metrics",
			"healthz", "http://"+srv.Addr()+"/healthz", "readyz", "http://"+srv.Addr()+"/readyz")
		obs = m
	}
	shipper := ship.New(cfg, log)
	defer shipper.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if _, err := consume.RunDaemon(ctx, cfg, c, shipper, log, obs); err != nil {
		return 1 // logged by the driver
	}
	return 0
}

func readEvent(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the event: %w", err)
	}
	return b, nil
}

func check() int {
	cfg, err := loadConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Through LogValue, which redacts: the Config itself holds key material.
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	log.Info("configuration valid", "config", cfg.LogValue())
	logWarnings(log, "check", cfg)
	return 0
}

// loadConfig reads the configuration, with the batch memory budget the
// runtime allows.
func loadConfig() (config.Config, error) {
	cfg, err := config.FromEnv()
	cfg.BatchMemory = fcruntime.BatchMemory()
	return cfg, err
}

// logWarnings logs the settings that weaken security, in every mode.
func logWarnings(log *slog.Logger, mode string, cfg config.Config) {
	for _, w := range cfg.Warnings {
		log.Warn(mode + ": " + w)
	}
}

// newLogger returns the JSON logger of the function's own log lines.
func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
