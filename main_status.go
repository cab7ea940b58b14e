package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"sls2siem/internal/config"
	"sls2siem/internal/logstore"
	"sls2siem/internal/status"
	"sls2siem/internal/trust"
)

// Exit statuses of `sls2siem status`.
const (
	statusOK      = 0
	statusFailed  = 1 // the report could not be read
	statusUsage   = 2
	statusLagging = 3 // a shard lags more than -max-lag
)

// statusCmd prints, per shard, where a consumer group stands: its
// checkpoint and the receive time there, the shard's end and its receive
// time, and the lag. It exits statusLagging when a shard lags more than
// -max-lag.
func statusCmd(args []string) int {
	return runStatus(args, os.Getenv, os.Stdout, os.Stderr)
}

func runStatus(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, cfgErr := config.ParseStatus(getenv)
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	project := fs.String("project", cfg.Project, "SLS project (default $"+config.VarSLSProject+")")
	logstoreName := fs.String("logstore", cfg.Logstore, "logstore (default $"+config.VarSLSLogstore+")")
	group := fs.String("group", cfg.Group, "consumer group (default $"+config.VarSLSConsumerGroup+", else sls2siem)")
	asJSON := fs.Bool("json", false, "print the report as JSON instead of a table")
	maxLag := fs.Duration("max-lag", 0, "exit with status 3 when a shard lags more than this (0: never)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: sls2siem status [-project P] [-logstore L] [-group G] [-json] [-max-lag D]\n\n"+
			"Reads %s, %s, %s and the %s / %s pair from the environment.\n"+
			"Exit status: 0 fine, 1 the report could not be read, 2 usage or configuration, 3 a shard lags more than -max-lag.\n\n",
			config.VarSLSEndpoint, config.VarSLSAllowedEndpoints, config.VarSLSHTTPS, config.VarAccessKeyID, config.VarAccessKeySecret)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return statusOK
		}
		return statusUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "status: unexpected argument %q\n", fs.Arg(0))
		return statusUsage
	}
	var errs []error
	if cfgErr != nil {
		errs = append(errs, cfgErr)
	}
	if err := trust.Project(*project); err != nil {
		errs = append(errs, fmt.Errorf("-project (or %s) %w", config.VarSLSProject, err))
	}
	if err := trust.Logstore(*logstoreName); err != nil {
		errs = append(errs, fmt.Errorf("-logstore (or %s) %w", config.VarSLSLogstore, err))
	}
	if *group == "" {
		errs = append(errs, errors.New("-group is empty"))
	}
	if *maxLag < 0 {
		errs = append(errs, fmt.Errorf("-max-lag is %s: want 0 or more", *maxLag))
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(stderr, "status:", err)
		return statusUsage
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(stderr, "status: warning:", w)
	}

	client := status.NewClient(cfg.Endpoint, cfg.Credentials, logstore.NewTransport(cfg.Endpoints))
	report, err := status.Read(client, *project, *logstoreName, *group, time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "status:", err)
		return statusFailed
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(report)
	} else {
		err = report.WriteTable(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "status: write the report:", err)
		return statusFailed
	}
	if *maxLag > 0 {
		if over := report.Over(*maxLag); len(over) > 0 {
			fmt.Fprintf(stderr, "status: shards %v lag more than %s (largest %s)\n", over, *maxLag, report.MaxLag().Round(time.Second))
			return statusLagging
		}
	}
	return statusOK
}
