package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log/slog"
	"time"

	"sls2siem/internal/config"
	"sls2siem/internal/deadletter"
	"sls2siem/internal/fcruntime"
	"sls2siem/internal/redrive"
	"sls2siem/internal/secret"
	"sls2siem/internal/ship"
	"sls2siem/internal/slsapi"
)

// redriveCmd ships again the ranges recorded in the dead-letter logstore.
type redriveCmd struct {
	env       *Env
	since     time.Duration
	group     string
	serve     bool
	timeout   time.Duration
	rangeTime time.Duration
	chunk     int64
	retryNow  bool
}

func (c *redriveCmd) Name() string { return "redrive" }
func (c *redriveCmd) Summary() string {
	return "ship again the ranges dead-lettered in SHIP_DEADLETTER_LOGSTORE (exit 3: expired)"
}

func (c *redriveCmd) flags() *flag.FlagSet {
	fs := newFlags("redrive")
	fs.DurationVar(&c.since, "since", 0, "read the records of the last `D` instead (a one-off run: no checkpoint is read or saved)")
	fs.StringVar(&c.group, "group", "sls2siem-redrive", "consumer group `G` keeping where the last pass stopped")
	fs.BoolVar(&c.serve, "serve", false, "serve FC invocations (the timer function; under the go1 runtime, sls2siem without arguments and SHIP_FUNCTION=redrive): each runs one pass with the invocation's credentials")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Minute, "bound `D` on the pass")
	fs.DurationVar(&c.rangeTime, "range-time", redrive.DefaultRangeTime, "ship one range for at most `D` per pass (the next pass continues it)")
	fs.Int64Var(&c.chunk, "chunk", redrive.DefaultChunk, "log groups `N` shipped and confirmed between two recorded positions (1–100000)")
	fs.BoolVar(&c.retryNow, "retry-now", false, "try at once the ranges that back off after failures")
	return fs
}

func (c *redriveCmd) Usage() string {
	return `Usage: sls2siem redrive [-since D] [-group G] [-timeout D] [-range-time D] [-chunk N] [-retry-now]
       sls2siem redrive -serve [-group G] [-range-time D] [-chunk N]

Reads the dead-letter records of SHIP_DEADLETTER_LOGSTORE in SLS_PROJECT at
SLS_ENDPOINT (from the consumer group's checkpoints, or of the last -since); acts only on
records signed with SHIP_DEADLETTER_KEY (or SHIP_DEADLETTER_KEY_PREVIOUS) that name
SLS_PROJECT and a logstore of SHIP_REDRIVE_LOGSTORES. Every range still to ship is checked
against its shard, then shipped again with the SYSLOG_* settings from its last confirmed
cursor, for at most -range-time per pass, least recently tried first; the outcome is
recorded (resolved, progress, failed again, expired, invalid) and the pass's JSON result
printed on stdout. Every request goes to SLS_ENDPOINT. Credentials: ALIBABA_CLOUD_*, or
each invocation's with -serve. Log lines go to stderr.
` + flagDefaults(c.flags()) + `
Exit status: 0 nothing failed (ranges shipped, continued or backing off); 1 a failure
(SLS unreachable, a range failed again: a later pass retries it); 2 usage or
configuration; 3 ranges expired: their logs are lost; 130 interrupted (the checkpoints
hold: the next pass reads the same records).
`
}

func (c *redriveCmd) Run(ctx context.Context, args []string) error {
	if err := parseFlags(c.flags(), args); err != nil {
		return err
	}
	switch {
	case c.since < 0:
		return badValue("-since is %s: want a positive duration", c.since)
	case c.timeout <= 0:
		return badValue("-timeout is %s: want a positive duration", c.timeout)
	case c.rangeTime <= 0:
		return badValue("-range-time is %s: want a positive duration", c.rangeTime)
	case c.chunk < 1 || c.chunk > 100000:
		return badValue("-chunk is %d: want a number of log groups from 1 to 100000", c.chunk)
	case c.serve && c.retryNow:
		return badValue("-retry-now is for a pass by hand: the -serve function keeps the pauses")
	case c.serve && c.since > 0:
		return badValue("-since is for a one-off pass: the -serve function keeps checkpoints")
	case c.serve:
		return c.runServe(ctx)
	}
	cfg, err := config.Load(c.env.Getenv, config.UseRedrive)
	if err != nil {
		return err
	}
	r := c.newRedriver(cfg, c.env.newLogger(cfg))
	defer r.shipper.Close()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	res, err := r.pass(ctx, cfg.Credentials, c.since)
	if !res.Read {
		return err // nothing was shipped: no result to print
	}
	if werr := writeJSON(c.env.Stdout, res); werr != nil {
		return errors.Join(err, werr)
	}
	var expired *redrive.ExpiredError
	switch {
	case errors.As(err, &expired):
		return reported(ExitLost, err)
	case err != nil:
		return reported(exitCode(ctx, err), err)
	}
	return nil
}

// redriver is what a redrive pass needs besides the credentials.
type redriver struct {
	cfg     config.Config
	shipper *ship.Shipper
	log     *slog.Logger
	opts    redrive.Options // the flags' part
}

func (c *redriveCmd) newRedriver(cfg config.Config, log *slog.Logger) *redriver {
	cfg.BatchMemory = c.env.BatchMemory
	logWarnings(log, "redrive", cfg)
	return &redriver{cfg: cfg, shipper: ship.New(cfg, log), log: log,
		opts: redrive.Options{Group: c.group, RangeTime: c.rangeTime, Chunk: c.chunk, RetryNow: c.retryNow}}
}

// pass runs one pass with creds, and logs its outcome.
func (r *redriver) pass(ctx context.Context, creds secret.Credentials, since time.Duration) (redrive.Result, error) {
	client, err := slsapi.New(r.cfg.SLS.Endpoint, creds, r.shipper.SLSTransport())
	if err != nil {
		return redrive.Result{}, err
	}
	o := r.opts
	o.Shipper, o.Client, o.Project, o.Sources, o.Since, o.Memory, o.Log = r.shipper, client, r.cfg.SLS.Project, r.cfg.RedriveLogstores, since, r.cfg.BatchMemory, r.log
	o.Verifier = deadletter.Verifier{Keys: r.cfg.DeadLetterKeys, Allowed: r.cfg.Endpoints, Logstore: r.cfg.DeadLetterLogstore}
	o.Margin = r.cfg.DeadlineMargin
	res, err := redrive.Run(ctx, o)
	attrs := []any{"records", res.Records, "skipped", res.Skipped, "unsigned", res.Unsigned, "ranges", res.Ranges,
		"redriven", res.Redriven, "progressed", res.Progressed, "failed", res.Failed, "deferred", res.Deferred,
		"expired", res.Expired, "invalid", res.Invalid, "logs", res.Logs}
	var expired *redrive.ExpiredError
	switch {
	case !res.Read:
	case errors.As(err, &expired):
		r.log.Error("redrive finished: ranges expired, their logs are lost", append(attrs, "error", err.Error())...)
	case err != nil:
		r.log.Error("redrive failed", append(attrs, "error", err.Error())...)
	default:
		r.log.Info("redrive finished", attrs...)
	}
	return res, err
}

// runServe serves the redrive function: go1 when FC_RUNTIME_API is set,
// else the custom runtime.
func (c *redriveCmd) runServe(ctx context.Context) error {
	return serveFunction(ctx, c.env, func() served {
		cfg, cfgErr := config.Load(c.env.Getenv, config.UseRedriveFC)
		cfgErr = errors.Join(cfgErr, servesAs(cfg, config.FunctionRedrive, "redrive -serve"))
		log := c.env.fcLogger(cfg)
		fn := &redriveFunction{cfgErr: cfgErr, log: log}
		if cfgErr != nil {
			log.Error("cold start: configuration rejected; every invocation will fail until it is fixed", "error", cfgErr.Error())
		} else {
			fn.r = c.newRedriver(cfg, log)
		}
		return served{h: fn, log: log, timeout: cfg.FC.Timeout}
	})
}

// redriveFunction is the redrive timer function's handler.
type redriveFunction struct {
	r      *redriver
	cfgErr error
	log    *slog.Logger
}

func (f *redriveFunction) Invoke(ctx context.Context, req fcruntime.Request) ([]byte, error) {
	if f.cfgErr != nil {
		return nil, f.cfgErr
	}
	res, err := f.r.pass(ctx, req.Credentials, 0)
	if err != nil {
		return nil, err
	}
	return json.Marshal(res)
}

func (f *redriveFunction) PreStop(context.Context) {
	if f.r != nil {
		f.r.shipper.Close()
	}
}
