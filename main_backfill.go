package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"sls2siem/internal/backfill"
	"sls2siem/internal/config"
	"sls2siem/internal/deadletter"
	"sls2siem/internal/ship"
	"sls2siem/internal/trust"
)

// Exit status of a backfill stopped by SIGINT or SIGTERM (128 + SIGINT,
// as a shell reports it): the state was saved, the resume command printed.
const exitInterrupted = 130

// backfillCmd ships a receive-time window of a logstore (internal/backfill).
func backfillCmd(args []string) int {
	fs := flag.NewFlagSet("backfill", flag.ContinueOnError)
	project := fs.String("project", os.Getenv(config.VarSLSProject), "project of the logstore (default $SLS_PROJECT)")
	logstore := fs.String("logstore", os.Getenv(config.VarSLSLogstore), "logstore to ship (default $SLS_LOGSTORE)")
	fromFlag := fs.String("from", "", "start of the receive-time window, included: RFC 3339 (2024-05-06T07:00:00Z) or unix seconds")
	toFlag := fs.String("to", "", "end of the receive-time window, excluded: RFC 3339 or unix seconds")
	shardsFlag := fs.String("shards", "", "comma-separated shard ids (default: every shard)")
	statePath := fs.String("state", "", "state FILE: makes the backfill resumable (created when missing, resumed when present)")
	parallel := fs.Int("parallel", 4, "shards shipped at a time (1-64)")
	chunk := fs.Int64("chunk", backfill.DefaultChunk, "log groups per chunk: the state and the progress advance at chunk boundaries (1-100000)")
	progress := fs.String("progress", "auto", "progress display: auto (bars on a terminal, else lines), bars, lines or none")
	every := fs.Duration("progress-every", 5*time.Second, "interval of the progress lines")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	bad := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, "backfill: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return bad("unexpected argument %q", fs.Arg(0))
	}
	if *fromFlag == "" || *toFlag == "" {
		return bad("-from and -to are required (RFC 3339 or unix seconds)")
	}
	from, err := backfill.ParseTime(*fromFlag)
	if err != nil {
		return bad("-from %v", err)
	}
	to, err := backfill.ParseTime(*toFlag)
	if err != nil {
		return bad("-to %v", err)
	}
	if from >= to {
		return bad("-from %s is not before -to %s: the window [from, to) is empty", unixUTC(from), unixUTC(to))
	}
	shards, err := backfill.ParseShards(*shardsFlag)
	if err != nil {
		return bad("-shards %v", err)
	}
	if *parallel < 1 || *parallel > 64 {
		return bad("-parallel %d: want 1-64", *parallel)
	}
	if *chunk < 1 || *chunk > 100000 {
		return bad("-chunk %d: want 1-100000", *chunk)
	}
	if err := trust.Project(*project); err != nil {
		return bad("-project %v", err)
	}
	if err := trust.Logstore(*logstore); err != nil {
		return bad("-logstore %v", err)
	}
	var rep backfill.Reporter
	switch *progress {
	case "auto":
		if isTerminal(os.Stdout) {
			rep = &backfill.Bars{W: os.Stdout}
		} else {
			rep = &backfill.Lines{W: os.Stderr, Every: *every}
		}
	case "bars":
		rep = &backfill.Bars{W: os.Stdout}
	case "lines":
		rep = &backfill.Lines{W: os.Stderr, Every: *every}
	case "none":
	default:
		return bad("-progress %q: want auto, bars, lines or none", *progress)
	}

	cfg, err := loadConfig()
	log := newLogger(cfg.LogLevel)
	var endpoint string
	if err == nil {
		ep, eerr := cfg.Endpoints.Admit(os.Getenv(config.VarSLSEndpoint))
		if eerr != nil {
			err = fmt.Errorf("%s %w", config.VarSLSEndpoint, eerr)
		}
		endpoint = ep.URL
	}
	if err != nil {
		log.Error("backfill: configuration rejected", "error", err.Error())
		fmt.Fprintln(os.Stderr, "backfill:", err)
		return 1
	}
	logWarnings(log, "backfill", cfg)
	shipper := ship.New(cfg, log)
	defer shipper.Close()

	// SIGINT or SIGTERM: stop at the next chunk boundary; a second one
	// aborts the chunks in flight (they are shipped again on resume).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		select {
		case <-sigs:
		case <-ctx.Done():
			return
		}
		fmt.Fprintln(os.Stderr, "backfill: stopping at the next chunk boundary (again to abort the chunks in flight)")
		close(stop)
		select {
		case <-sigs:
			cancel()
		case <-ctx.Done():
		}
	}()

	res, err := backfill.Run(ctx, backfill.Options{
		Shipper:  shipper,
		Client:   deadletter.Client{Transport: shipper.SLSTransport(), Endpoint: endpoint, Creds: envCredentials()},
		Endpoint: endpoint, Project: *project, Logstore: *logstore, From: from, To: to, Shards: shards,
		Parallel: *parallel, Chunk: *chunk, StatePath: *statePath, Stop: stop, Progress: rep, Log: log,
	})
	var badIn *backfill.BadInputError
	if errors.As(err, &badIn) {
		fmt.Fprintln(os.Stderr, badIn.Error())
		return 2
	}
	if len(res.Shards) == 0 && err != nil {
		log.Error("backfill failed", "error", err.Error())
		fmt.Fprintln(os.Stderr, "backfill:", err)
		return 1
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	printBackfillSummary(os.Stderr, res)

	resume := func() {
		path := *statePath
		if path == "" {
			path = fmt.Sprintf("sls2siem-backfill-%s-%s-%d-%d.json", *project, *logstore, from, to)
			if serr := res.SaveState(path); serr != nil {
				fmt.Fprintln(os.Stderr, "backfill: cannot save the resume point:", serr)
				return
			}
		}
		fmt.Fprintf(os.Stderr, "backfill: state saved in %s; resume with:\n  %s\n", path,
			resumeCommand(*project, *logstore, *fromFlag, *toFlag, *shardsFlag, path, *parallel, *chunk))
	}
	switch {
	case errors.Is(err, backfill.ErrInterrupted):
		log.Warn("backfill interrupted at a chunk boundary", "logs", res.Logs, "logGroups", res.LogGroups)
		resume()
		return exitInterrupted
	case err != nil:
		log.Error("backfill failed", "error", err.Error(), "logs", res.Logs)
		fmt.Fprintln(os.Stderr, "backfill:", err)
		resume()
		return 1
	}
	log.Info("backfill finished", "logs", res.Logs, "logGroups", res.LogGroups, "bytes", res.Bytes, "resumed", res.Resumed)
	return 0
}

// printBackfillSummary writes the per-shard counts.
func printBackfillSummary(w io.Writer, res backfill.Result) {
	fmt.Fprintf(w, "backfill summary: project %s logstore %s window [%s, %s)%s\n", res.Project, res.Logstore,
		unixUTC(res.From), unixUTC(res.To), map[bool]string{true: " (resumed)"}[res.Resumed])
	for _, s := range res.Shards {
		state := "done"
		switch {
		case s.Error != "":
			state = "FAILED: " + s.Error
		case !s.Done:
			state = "stopped at cursor " + s.Next
		}
		fmt.Fprintf(w, "  shard %d: %d logs, %d of %d log groups, %s; %s\n", s.Shard, s.Logs, s.LogGroups, s.Total, backfill.Bytes(s.Bytes), state)
	}
	fmt.Fprintf(w, "  total: %d logs, %d log groups, %s in %s\n", res.Logs, res.LogGroups, backfill.Bytes(res.Bytes),
		(time.Duration(res.DurationMS) * time.Millisecond).String())
}

// resumeCommand is the command line that continues an interrupted
// backfill: the same window and shards with the state file.
func resumeCommand(project, logstore, from, to, shards, state string, parallel int, chunk int64) string {
	argv0 := os.Args[0]
	if !strings.Contains(argv0, string(filepath.Separator)) {
		argv0 = "sls2siem"
	}
	args := []string{argv0, "backfill", "-project", project, "-logstore", logstore, "-from", from, "-to", to}
	if shards != "" {
		args = append(args, "-shards", shards)
	}
	args = append(args, "-state", state)
	if parallel != 4 {
		args = append(args, "-parallel", strconv.Itoa(parallel))
	}
	if chunk != backfill.DefaultChunk {
		args = append(args, "-chunk", strconv.FormatInt(chunk, 10))
	}
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:+,=@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func unixUTC(n int64) string { return time.Unix(n, 0).UTC().Format(time.RFC3339) }

// isTerminal tells whether f is a terminal (a character device).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
