package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"sls2siem/internal/config"
	"sls2siem/internal/deadletter"
	"sls2siem/internal/fcruntime"
	"sls2siem/internal/redrive"
	"sls2siem/internal/secret"
	"sls2siem/internal/ship"
	"sls2siem/internal/trust"
)

// Exit status of redrive when a range expired: the one loss that cannot be
// undone, told apart from a failure that the next pass may fix (1).
const exitExpired = 3

// redriveSetup is what a redrive pass needs besides the credentials.
type redriveSetup struct {
	cfg      config.Config
	shipper  *ship.Shipper
	log      *slog.Logger
	endpoint string // admitted SLS_ENDPOINT
	project  string
	logstore string
}

func newRedriveSetup() (*redriveSetup, error) {
	cfg, err := loadConfig()
	log := newLogger(cfg.LogLevel)
	var errs []error
	errs = append(errs, err)
	if err == nil && cfg.DeadLetterLogstore == "" {
		errs = append(errs, fmt.Errorf("%s is not set: redrive reads the dead-letter logstore it names", config.VarShipDeadLetterLogstore))
	}
	project := strings.TrimSpace(os.Getenv(config.VarSLSProject))
	if perr := trust.Project(project); perr != nil {
		errs = append(errs, fmt.Errorf("%s %w (the source project, which holds the dead-letter logstore)", config.VarSLSProject, perr))
	}
	var endpoint string
	if err == nil {
		ep, eerr := cfg.Endpoints.Admit(os.Getenv(config.VarSLSEndpoint))
		if eerr != nil {
			errs = append(errs, fmt.Errorf("%s %w", config.VarSLSEndpoint, eerr))
		}
		endpoint = ep.URL
	}
	if err := errors.Join(errs...); err != nil {
		log.Error("redrive: configuration rejected", "error", err.Error())
		return &redriveSetup{log: log}, err
	}
	logWarnings(log, "redrive", cfg)
	return &redriveSetup{cfg: cfg, shipper: ship.New(cfg, log), log: log, endpoint: endpoint, project: project, logstore: cfg.DeadLetterLogstore}, nil
}

func (r *redriveSetup) options(creds secret.Credentials, group string, since time.Duration) redrive.Options {
	return redrive.Options{
		Shipper: r.shipper,
		Client:  deadletter.Client{Transport: r.shipper.SLSTransport(), Endpoint: r.endpoint, Creds: creds},
		Allowed: r.cfg.Endpoints, Project: r.project, Logstore: r.logstore,
		Group: group, Since: since, Log: r.log,
	}
}

// redriveCmd runs one redrive pass (or, with -serve, serves FC timer
// invocations that each run one).
func redriveCmd(args []string) int {
	fs := flag.NewFlagSet("redrive", flag.ContinueOnError)
	since := fs.Duration("since", 0, "read the dead-letter records of the last DURATION (a one-off run: no checkpoint is read or saved)")
	group := fs.String("group", "sls2siem-redrive", "consumer group keeping where the last pass stopped")
	serveFC := fs.Bool("serve", false, "serve FC invocations (the timer function): each runs one pass with the invocation's credentials")
	timeout := fs.Duration("timeout", 30*time.Minute, "bound on the pass")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *since < 0 {
		fmt.Fprintln(os.Stderr, "redrive: -since must be positive")
		return 2
	}
	setup, err := newRedriveSetup()
	if *serveFC {
		return serveRedrive(setup, err, *group)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "redrive:", err)
		return 1
	}
	defer setup.shipper.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	res, err := redrive.Run(ctx, setup.options(envCredentials(), *group, *since))
	return reportRedrive(setup.log, res, err)
}

func reportRedrive(log *slog.Logger, res redrive.Result, err error) int {
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	attrs := []any{"records", res.Records, "skipped", res.Skipped, "ranges", res.Ranges, "redriven", res.Redriven,
		"failed", res.Failed, "expired", res.Expired, "logs", res.Logs}
	switch {
	case err != nil && res.Expired > 0:
		log.Error("redrive finished: ranges expired, their logs are lost", append(attrs, "error", err.Error())...)
		return exitExpired
	case err != nil:
		log.Error("redrive failed", append(attrs, "error", err.Error())...)
		return 1
	}
	log.Info("redrive finished", attrs...)
	return 0
}

func envCredentials() secret.Credentials {
	return secret.Credentials{
		AccessKeyID:     os.Getenv(config.VarAccessKeyID),
		AccessKeySecret: os.Getenv(config.VarAccessKeySecret),
		SecurityToken:   os.Getenv(config.VarSecurityToken),
	}
}

// redriveFunction is the timer function's handler.
type redriveFunction struct {
	setup  *redriveSetup
	cfgErr error
	group  string
}

func (f *redriveFunction) Invoke(ctx context.Context, req fcruntime.Request) ([]byte, error) {
	if f.cfgErr != nil {
		return nil, f.cfgErr
	}
	res, err := redrive.Run(ctx, f.setup.options(req.Credentials, f.group, 0))
	reportAttrs := []any{"requestId", req.ID, "ranges", res.Ranges, "redriven", res.Redriven, "failed", res.Failed,
		"expired", res.Expired, "skipped", res.Skipped, "logs", res.Logs}
	if err != nil {
		f.setup.log.Error("redrive invocation failed", append(reportAttrs, "error", err.Error())...)
		return nil, err
	}
	f.setup.log.Info("redrive invocation done", reportAttrs...)
	return json.Marshal(res)
}

func (f *redriveFunction) PreStop(context.Context) {
	if f.setup.shipper != nil {
		f.setup.shipper.Close()
	}
}

func serveRedrive(setup *redriveSetup, cfgErr error, group string) int {
	fn := &redriveFunction{setup: setup, cfgErr: cfgErr, group: group}
	if fcruntime.InGo1() {
		fcruntime.StartGo1(fn)
		return 0
	}
	addr, err := fcruntime.ServerAddr()
	if err != nil {
		setup.log.Error(err.Error())
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := fcruntime.Serve(ctx, addr, fn, setup.log); err != nil {
		setup.log.Error(err.Error())
		return 1
	}
	return 0
}
