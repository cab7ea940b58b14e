package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"sls2siem/internal/config"
	"sls2siem/internal/metrics"
	"sls2siem/internal/secret"
	"sls2siem/internal/slsapi"
	"sls2siem/internal/status"
	"sls2siem/internal/trust"
)

// statusCmd reports where a consumer group stands, per shard.
type statusCmd struct {
	env                      *Env
	project, logstore, group string
	json                     bool
	maxLag                   time.Duration
	daemons                  string
}

func (c *statusCmd) Name() string { return "status" }
func (c *statusCmd) Summary() string {
	return "a consumer group's checkpoints and lag per shard (-max-lag: exit 3 beyond it)"
}

func (c *statusCmd) flags() *flag.FlagSet {
	fs := newFlags("status")
	fs.StringVar(&c.project, "project", "", "SLS project `P` (default $SLS_PROJECT)")
	fs.StringVar(&c.logstore, "logstore", "", "logstore `L` (default $SLS_LOGSTORE)")
	fs.StringVar(&c.group, "group", "", "consumer group `G` (default $SLS_CONSUMER_GROUP, else sls2siem)")
	fs.BoolVar(&c.json, "json", false, "print the report as JSON instead of a table")
	fs.DurationVar(&c.maxLag, "max-lag", 0, "exit with status 3 when a shard lags more than `D` (0: never)")
	fs.StringVar(&c.daemons, "metrics", "", "ask the consume daemons serving at `ADDRS` (their SHIP_METRICS_ADDR, host:port, comma-separated) which syslog receiver each shard goes to")
	return fs
}

func (c *statusCmd) Usage() string {
	return `Usage: sls2siem status [-project P] [-logstore L] [-group G] [-json] [-max-lag D] [-metrics ADDRS]

Prints, per shard, the consumer group's checkpoint and the receive time of the log group
at it, the shard's end and its receive time, how many log groups wait and the lag, from
SLS_ENDPOINT with the AccessKey pair of ALIBABA_CLOUD_*: a table, or JSON with -json, on
stdout. With -metrics, also the syslog receiver each shard goes to, as the consume
daemon holding it says on its /healthz (a daemon that does not answer is a warning on
stderr, and its shards show -).
` + flagDefaults(c.flags()) + `
Exit status: 0 fine; 1 the report could not be read (the SLS error code is named);
2 usage or configuration; 3 a shard lags more than -max-lag (the shards are named on
stderr); 130 interrupted.
`
}

func (c *statusCmd) Run(ctx context.Context, args []string) error {
	if err := parseFlags(c.flags(), args); err != nil {
		return err
	}
	if c.maxLag < 0 {
		return badValue("-max-lag is %s: want 0 or more", c.maxLag)
	}
	cfg, err := config.Load(c.env.Getenv, config.UseStatus)
	if err != nil {
		return err
	}
	if err := c.defaults(cfg.SLS); err != nil {
		return err
	}
	daemons, err := daemonAddrs(c.daemons)
	if err != nil {
		return err
	}
	log := c.env.newLogger(cfg)
	logWarnings(log, "status", cfg)
	client, err := slsapi.New(cfg.SLS.Endpoint, cfg.Credentials, slsapi.NewTransport(cfg.Endpoints).WithSigning(cfg.Signing))
	if err != nil {
		return err
	}
	report, err := status.Read(ctx, client, c.project, c.logstore, c.group, c.env.now())
	if err != nil {
		return err
	}
	if len(daemons) > 0 {
		report.AddReceivers(daemons, askDaemons(ctx, daemons, log))
	}
	if c.json {
		enc := json.NewEncoder(c.env.Stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(report)
	} else {
		err = report.WriteTable(c.env.Stdout)
	}
	if err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	return c.lagAlert(report)
}

// defaults fills the flags not given from the environment, and checks
// them.
func (c *statusCmd) defaults(src config.SLS) error {
	c.project = firstSet(c.project, src.Project)
	c.logstore = firstSet(c.logstore, src.Logstore)
	c.group = firstSet(c.group, src.Group)
	return checkSource(c.project, c.logstore)
}

// checkSource checks the -project and -logstore of a command.
func checkSource(project, logstore string) error {
	var errs []string
	for _, f := range []struct {
		flag, env, v, what string
		check              func(string) error
	}{
		{"-project", config.VarSLSProject, project, "the SLS project", trust.Project},
		{"-logstore", config.VarSLSLogstore, logstore, "the logstore", trust.Logstore},
	} {
		switch {
		case f.v == "":
			errs = append(errs, fmt.Sprintf("%s (or %s) is not set: give %s", f.flag, f.env, f.what))
		case f.check(f.v) != nil:
			errs = append(errs, fmt.Sprintf("%s (or %s) %v", f.flag, f.env, f.check(f.v)))
		}
	}
	if len(errs) > 0 {
		return badValue("%s", strings.Join(errs, "; "))
	}
	return nil
}

// lagAlert is the -max-lag check.
func (c *statusCmd) lagAlert(r status.Report) error {
	if c.maxLag <= 0 {
		return nil
	}
	over := r.Over(c.maxLag)
	if len(over) == 0 {
		return nil
	}
	noun, verb := "shards", "lag"
	if len(over) == 1 {
		noun, verb = "shard", "lags"
	}
	return withCode(ExitLost, fmt.Errorf("%s %v %s more than %s (largest %s)", noun, over, verb, c.maxLag, r.MaxLag().Round(time.Second)))
}

// daemonAddrs reads -metrics: host:port addresses, comma-separated.
func daemonAddrs(v string) ([]string, error) {
	if v == "" {
		return nil, nil
	}
	var out []string
	for _, a := range strings.Split(v, ",") {
		a = strings.TrimSpace(a)
		host, port, err := net.SplitHostPort(a)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			return nil, badValue("-metrics has %s: want host:port of a consume daemon's %s, e.g. 127.0.0.1:9464 (several comma-separated)",
				secret.Quote(a), config.VarShipMetricsAddr)
		}
		out = append(out, a)
	}
	return out, nil
}

// daemonTimeout bounds each daemon's answer.
const daemonTimeout = 5 * time.Second

// askDaemons asks each daemon which receiver each of its shards goes to
// (consumer name → shard → receiver); one that does not answer is a
// warning.
func askDaemons(ctx context.Context, addrs []string, log *slog.Logger) map[string]map[int]string {
	held := map[string]map[int]string{}
	for _, a := range addrs {
		actx, cancel := context.WithTimeout(ctx, daemonTimeout)
		h, err := metrics.FetchHealth(actx, a)
		cancel()
		if err != nil {
			log.Warn("status: a consume daemon did not say its receivers; its shards show -", "daemon", a, "error", err.Error())
			continue
		}
		if held[h.Consumer] == nil {
			held[h.Consumer] = map[int]string{}
		}
		for _, s := range h.Shards {
			held[h.Consumer][s.Shard] = s.Receiver
		}
	}
	return held
}

// firstSet is the first of its arguments that is not empty.
func firstSet(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
