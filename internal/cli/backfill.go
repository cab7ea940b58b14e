package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"sls2siem/internal/backfill"
	"sls2siem/internal/config"
	"sls2siem/internal/ship"
	"sls2siem/internal/slsapi"
)

// backfillCmd ships a receive-time window of a logstore.
type backfillCmd struct {
	env                     *Env
	project, logstore       string
	from, to, shards, state string
	parallel                int
	chunk                   int64
	progress                string
	every                   time.Duration
	window                  backfill.Window
	shardIDs                []int
}

func (c *backfillCmd) Name() string { return "backfill" }
func (c *backfillCmd) Summary() string {
	return "ship a receive-time window of a logstore, resumable (-state), with progress"
}

func (c *backfillCmd) flags() *flag.FlagSet {
	fs := newFlags("backfill")
	fs.StringVar(&c.project, "project", "", "project `P` of the logstore (default $SLS_PROJECT)")
	fs.StringVar(&c.logstore, "logstore", "", "logstore `L` to ship (default $SLS_LOGSTORE)")
	fs.StringVar(&c.from, "from", "", "start of the receive-time window, included: `T` is now, a time ago (-2h, -7d), a date (2024-05-06), RFC 3339 (2024-05-06T07:00:00Z) or unix seconds; required")
	fs.StringVar(&c.to, "to", "", "end `T` of the receive-time window, excluded (as -from); required")
	fs.StringVar(&c.shards, "shards", "", "comma-separated shard ids `LIST` (default: every shard)")
	fs.StringVar(&c.state, "state", "", "state `FILE`: makes the backfill resumable (created when missing, resumed when present)")
	fs.IntVar(&c.parallel, "parallel", 4, "shards shipped at a time, `N` from 1 to 64")
	fs.Int64Var(&c.chunk, "chunk", backfill.DefaultChunk, "`N` log groups per chunk, 1 to 100000: the state and the progress advance at chunk boundaries")
	fs.StringVar(&c.progress, "progress", "auto", "progress on stderr, `MODE` auto (bars on a terminal, else lines), bars, lines or none")
	fs.DurationVar(&c.every, "progress-every", 5*time.Second, "interval `D` of the progress lines")
	return fs
}

func (c *backfillCmd) Usage() string {
	return `Usage: sls2siem backfill -from T1 -to T2 [-project P] [-logstore L] [-shards LIST]
                         [-state FILE] [-parallel N] [-chunk N] [-progress MODE]

Ships the logs received in [T1, T2) from SLS_ENDPOINT (AccessKey pair of
ALIBABA_CLOUD_*) with the SYSLOG_* settings, shards in parallel, in chunks of log
groups. A window that cannot hold data is refused: T2 not after T1, T1 in the future, a
number that looks like milliseconds, a window before the logstore's TTL. The JSON result
goes to stdout; the progress, the per-shard summary and the resume command to stderr.
SIGINT or SIGTERM stops at the next chunk boundary and saves the state (a second one
aborts the chunks in flight, shipped again on resume).
` + flagDefaults(c.flags()) + `
Exit status: 0 every shard shipped; 1 a shard failed (the others finish; the state keeps
the failed chunk, the resume command is printed); 2 usage, configuration or a window that
holds no data; 130 interrupted (the state is saved, the resume command printed).
`
}

func (c *backfillCmd) Run(ctx context.Context, args []string) error {
	if err := c.parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(c.env.Getenv, config.UseBackfill)
	if err != nil {
		return err
	}
	c.project, c.logstore = firstSet(c.project, cfg.SLS.Project), firstSet(c.logstore, cfg.SLS.Logstore)
	if err := checkSource(c.project, c.logstore); err != nil {
		return err
	}
	cfg.BatchMemory = c.env.BatchMemory
	log := c.env.newLogger(cfg)
	logWarnings(log, "backfill", cfg)
	shipper := ship.New(cfg, log)
	defer shipper.Close()
	client, err := slsapi.New(cfg.SLS.Endpoint, cfg.Credentials, shipper.SLSTransport())
	if err != nil {
		return err
	}
	go c.sayStopping(ctx)
	res, err := backfill.Run(hardContext(ctx), backfill.Options{
		Shipper: shipper, Client: client, Endpoint: cfg.SLS.Endpoint, Project: c.project, Logstore: c.logstore,
		From: c.window.From, To: c.window.To, Now: c.env.now(), Shards: c.shardIDs, Parallel: c.parallel, Chunk: c.chunk,
		StatePath: c.state, Stop: ctx.Done(), Progress: c.reporter(), Log: log,
	})
	return c.report(res, err, log)
}

// parse reads the flags and checks them all, before anything is read.
func (c *backfillCmd) parse(args []string) error {
	if err := parseFlags(c.flags(), args); err != nil {
		return err
	}
	if c.from == "" || c.to == "" {
		return usagef("-from and -to are required: the receive-time window [from, to)")
	}
	var errs []string
	var err error
	if c.window, err = backfill.ParseWindow(c.from, c.to, c.env.now()); err != nil {
		errs = append(errs, strings.Split(err.Error(), "\n")...)
	}
	if c.shardIDs, err = backfill.ParseShards(c.shards); err != nil {
		errs = append(errs, "-shards "+err.Error())
	}
	if c.parallel < 1 || c.parallel > 64 {
		errs = append(errs, fmt.Sprintf("-parallel is %d: want 1 to 64", c.parallel))
	}
	if c.chunk < 1 || c.chunk > 100000 {
		errs = append(errs, fmt.Sprintf("-chunk is %d: want 1 to 100000", c.chunk))
	}
	switch c.progress {
	case "auto", "bars", "lines", "none":
	default:
		errs = append(errs, fmt.Sprintf("-progress is %q: want auto, bars, lines or none", c.progress))
	}
	if c.every <= 0 {
		errs = append(errs, fmt.Sprintf("-progress-every is %s: want a positive duration", c.every))
	}
	if len(errs) > 0 {
		return badValue("%s", strings.Join(errs, "; "))
	}
	return nil
}

// reporter shows the progress on stderr: live bars on a terminal, lines
// otherwise; stdout carries the result alone.
func (c *backfillCmd) reporter() backfill.Reporter {
	w := c.env.Stderr
	switch {
	case c.progress == "none":
		return nil
	case c.progress == "bars", c.progress == "auto" && c.env.terminal(w):
		return &backfill.Bars{W: w}
	}
	return &backfill.Lines{W: w, Every: c.every}
}

// sayStopping says, at the first signal, what the backfill does.
func (c *backfillCmd) sayStopping(ctx context.Context) {
	<-ctx.Done()
	if errors.Is(context.Cause(ctx), errInterrupted) {
		fmt.Fprintln(c.env.Stderr, "sls2siem backfill: stopping at the next chunk boundary (again to abort the chunks in flight)")
	}
}

// report prints the result (stdout), the summary and the resume command
// (stderr), and returns the outcome.
func (c *backfillCmd) report(res backfill.Result, err error, log *slog.Logger) error {
	var bad *backfill.BadInputError
	switch {
	case errors.As(err, &bad):
		return withCode(ExitUsage, bad)
	case len(res.Shards) == 0 && err != nil:
		return err
	}
	if werr := writeJSON(c.env.Stdout, res); werr != nil {
		return werr
	}
	printSummary(c.env.Stderr, res)
	switch {
	case errors.Is(err, backfill.ErrInterrupted):
		log.Warn("backfill interrupted at a chunk boundary", "logs", res.Logs, "logGroups", res.LogGroups)
		c.resume(res)
		return reported(ExitInterrupted, err)
	case err != nil:
		c.resume(res) // the summary said the failure
		return reported(ExitFailure, err)
	}
	log.Info("backfill finished", "logs", res.Logs, "logGroups", res.LogGroups, "bytes", res.Bytes, "resumed", res.Resumed)
	return nil
}

// resume saves the state (to a file of its own without -state) and prints
// the command that continues the backfill.
func (c *backfillCmd) resume(res backfill.Result) {
	path := c.state
	if path == "" {
		path = fmt.Sprintf("sls2siem-backfill-%s-%s-%d-%d.json", c.project, c.logstore, c.window.From, c.window.To)
		if err := res.SaveState(path); err != nil {
			fmt.Fprintf(c.env.Stderr, "sls2siem backfill: cannot save the resume point: %v\n", err)
			return
		}
	}
	fmt.Fprintf(c.env.Stderr, "sls2siem backfill: state saved in %s; resume with:\n  %s\n", path, c.resumeCommand(path))
}

// resumeCommand is the command line that continues an interrupted
// backfill: the same window (as resolved now) and shards with the state
// file.
func (c *backfillCmd) resumeCommand(state string) string {
	args := []string{c.env.argv0(), "backfill", "-project", c.project, "-logstore", c.logstore,
		"-from", unixUTC(c.window.From), "-to", unixUTC(c.window.To)}
	if c.shards != "" {
		args = append(args, "-shards", c.shards)
	}
	args = append(args, "-state", state)
	if c.parallel != 4 {
		args = append(args, "-parallel", strconv.Itoa(c.parallel))
	}
	if c.chunk != backfill.DefaultChunk {
		args = append(args, "-chunk", strconv.FormatInt(c.chunk, 10))
	}
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

// printSummary writes the per-shard counts.
func printSummary(w io.Writer, res backfill.Result) {
	resumed := ""
	if res.Resumed {
		resumed = " (resumed)"
	}
	fmt.Fprintf(w, "backfill summary: project %s logstore %s window [%s, %s)%s\n", res.Project, res.Logstore,
		unixUTC(res.From), unixUTC(res.To), resumed)
	for _, s := range res.Shards {
		state := "done"
		switch {
		case s.Error != "":
			state = "FAILED: " + s.Error
		case !s.Done:
			state = "stopped at cursor " + s.Next
		}
		fmt.Fprintf(w, "  shard %d: %s, %d of %d log groups, %s; %s\n", s.Shard, count(s.Logs, "log"), s.LogGroups, s.Total, backfill.Bytes(s.Bytes), state)
	}
	fmt.Fprintf(w, "  total: %s, %s, %s in %s\n", count(res.Logs, "log"), count(res.LogGroups, "log group"), backfill.Bytes(res.Bytes),
		(time.Duration(res.DurationMS) * time.Millisecond).String())
}

// count says n things, the plural right.
func count(n int64, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.FormatInt(n, 10) + " " + thing + "s"
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
