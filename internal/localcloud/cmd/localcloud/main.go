// Command localcloud ships the sample logstore through the real function
// binary on a local cloud: SLS emulator, FC emulator, SLS-trigger simulator
// and a syslog receiver (embedded, or the real one named by SYSLOG_HOST).
// With -mode consume it runs `sls2siem consume` daemons sharing the
// logstore as a consumer group instead. It is what `make run` runs. With
// -mode serve it only serves the SLS emulator (sample and dead-letter
// logstores) for running sls2siem commands by hand (`make serve`).
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/fcemu"
)

// options are localcloud's flags.
type options struct {
	function, contract, data, mode, addr, events, scenario, out string
	interval, timeout                                           time.Duration
	retries, concurrency, consumers                             int
	quiet, verbose                                              bool
}

// usage heads the -h output; flag.PrintDefaults follows it.
const usage = `Usage: localcloud [flags]

The local cloud of sls2siem (docs/local-cloud.md). -mode says what it runs:
  trigger  ships the sample logstore through the built function under the FC
           emulator, invoked by the SLS-trigger simulator (make run)
  consume  sls2siem consume daemons (-consumers) share the sample as a consumer group
           (make run MODE=consume)
  serve    the SLS emulator alone, with the sample and an empty dead-letter
           logstore, for running sls2siem by hand, until SIGINT or SIGTERM (make serve)
  receive  a syslog receiver on tcp and udp that writes every message as a line
           (-out), until SIGINT or SIGTERM (make receiver)

Flags:
`

// parseFlags parses args; -h prints the usage to out and answers
// flag.ErrHelp.
func parseFlags(args []string, out io.Writer) (*options, error) {
	var o options
	fs := flag.NewFlagSet("localcloud", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.function, "function", "bin/sls2siem", "the built function binary `FILE`")
	fs.StringVar(&o.contract, "contract", "custom", "FC `CONTRACT`: custom (FC 3.0 custom runtime) or go1")
	fs.StringVar(&o.data, "data", "testdata/logstore", "the sample logstore `DIR`")
	fs.DurationVar(&o.interval, "interval", 500*time.Millisecond, "the trigger interval `D`")
	fs.IntVar(&o.retries, "max-retry", 3, "the trigger's maxRetryTime: `N` retries of a failed range")
	fs.DurationVar(&o.timeout, "timeout", 60*time.Second, "the function timeout `D`")
	fs.IntVar(&o.concurrency, "concurrency", 2, "the instance concurrency: `N` invocations at once")
	fs.BoolVar(&o.quiet, "quiet", false, "do not print the received messages")
	fs.BoolVar(&o.verbose, "v", false, "print the function's own log lines")
	fs.StringVar(&o.mode, "mode", "trigger", "what to run, `MODE` trigger, consume, serve or receive (above)")
	fs.IntVar(&o.consumers, "consumers", 2, "consume mode: `N` sls2siem consume daemons")
	fs.StringVar(&o.addr, "addr", "", "serve and receive modes: listen on `HOST:PORT` (default 127.0.0.1:18080 for serve, "+localcloud.DefaultReceiveAddr+" for receive)")
	fs.StringVar(&o.events, "events", "bin/events", "serve mode: `DIR` for one trigger event per shard")
	fs.StringVar(&o.out, "out", "", "receive mode: write the messages to `FILE`, one per line, truncated at start (default: stdout)")
	fs.StringVar(&o.scenario, "scenario", "", "trigger mode: run the scenario `NAME` instead of shipping the sample: outage (the embedded receiver refuses connections past the trigger's retries, the ranges are dead-lettered, the receiver comes back and sls2siem redrive ships them; exit 1 when a log is lost)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(out, "localcloud: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return nil, errors.New("usage")
	}
	return &o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		os.Exit(2)
	}
	function, contract, data, interval, retries, timeout, concurrency := &o.function, &o.contract, &o.data, &o.interval, &o.retries, &o.timeout, &o.concurrency
	quiet, verbose, mode, consumers, events, scenario := &o.quiet, &o.verbose, &o.mode, &o.consumers, &o.events, &o.scenario

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var messages io.Writer = os.Stdout
	if *quiet {
		messages = nil
	}
	var fnLog io.Writer
	if *verbose {
		fnLog = os.Stderr
	}
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "SYSLOG_") || strings.HasPrefix(kv, "SLS_") ||
			strings.HasPrefix(kv, "SHIP_") || strings.HasPrefix(kv, "LOG_LEVEL=") {
			env = append(env, kv)
		}
	}
	switch *mode {
	case "trigger":
		switch *scenario {
		case "":
		case "outage":
			os.Exit(runOutage(ctx, localcloud.Options{Function: *function, Contract: fcemu.Contract(*contract), DataDir: *data, Env: env,
				Interval: *interval, MaxRetryTime: *retries, RetryDelay: *interval, Timeout: *timeout, Concurrency: *concurrency,
				Messages: messages, FunctionLog: fnLog}))
		default:
			fmt.Fprintf(os.Stderr, "localcloud: -scenario %q: want outage (or none)\n", *scenario)
			os.Exit(2)
		}
	case "serve":
		addr := cmp.Or(o.addr, "127.0.0.1:18080")
		if err := localcloud.Serve(ctx, localcloud.ServeOptions{DataDir: *data, Addr: addr, EventsDir: *events, Out: os.Stdout}); err != nil {
			fmt.Fprintln(os.Stderr, "localcloud:", err)
			os.Exit(1)
		}
		os.Exit(0)
	case "receive":
		os.Exit(runReceive(ctx, cmp.Or(o.addr, localcloud.DefaultReceiveAddr), o.out))
	case "consume":
		os.Exit(runConsume(ctx, *function, *data, env, *consumers, messages, fnLog))
	default:
		fmt.Fprintf(os.Stderr, "localcloud: -mode %q: want trigger, consume, serve or receive\n", *mode)
		os.Exit(2)
	}
	res, err := localcloud.Run(ctx, localcloud.Options{
		Function:     *function,
		Contract:     fcemu.Contract(*contract),
		DataDir:      *data,
		Env:          env,
		Interval:     *interval,
		MaxRetryTime: *retries,
		RetryDelay:   *interval,
		Timeout:      *timeout,
		Concurrency:  *concurrency,
		Messages:     messages,
		FunctionLog:  fnLog,
	})
	if res != nil {
		fmt.Fprintf(os.Stderr, "\nlocal cloud summary: %d logs in the sample logstore; %d shipped by the function to %s in %d ranges (%d invocations, %s contract)",
			res.Logs, res.Shipped, res.Receiver, res.Ranges, res.Invocations, *contract)
		if res.Received >= 0 {
			fmt.Fprintf(os.Stderr, "; %d received", res.Received)
		}
		fmt.Fprintf(os.Stderr, "; %s\n", res.Duration.Round(time.Millisecond))
		for _, f := range res.Failed {
			fmt.Fprintf(os.Stderr, "FAILED shard %d [%s, %s) after %d tries: %s\n", f.Shard, f.BeginCursor, f.EndCursor, f.Try+1, f.Err)
		}
	}
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, "localcloud:", err)
		os.Exit(1)
	case len(res.Failed) > 0:
		fmt.Fprintf(os.Stderr, "localcloud: %d ranges could not be shipped after the trigger's retries\n", len(res.Failed))
		os.Exit(1)
	case res.Received >= 0 && res.Received != int64(res.Logs):
		fmt.Fprintf(os.Stderr, "localcloud: the receiver got %d messages, want %d\n", res.Received, res.Logs)
		os.Exit(1)
	}
}

// runReceive serves the embedded receiver on addr, writing the messages
// to the file out (stdout when empty), until ctx is done.
func runReceive(ctx context.Context, addr, out string) int {
	w := io.Writer(os.Stdout)
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "localcloud:", err)
			return 1
		}
		defer f.Close()
		w = f
	}
	if err := localcloud.Receive(ctx, localcloud.ReceiveOptions{Addr: addr, Out: w, Log: os.Stderr}); err != nil {
		fmt.Fprintln(os.Stderr, "localcloud:", err)
		return 1
	}
	return 0
}

// runOutage runs the outage scenario and prints its summary line; it
// fails when a log of the sample was lost.
func runOutage(ctx context.Context, opts localcloud.Options) int {
	res, err := localcloud.RunOutage(ctx, opts)
	if res != nil {
		fmt.Fprintf(os.Stderr, "\n%s\n", res.Summary())
	}
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, "localcloud:", err)
		return 1
	case res.Lost > 0:
		fmt.Fprintf(os.Stderr, "localcloud: %d logs of the sample were lost\n", res.Lost)
		return 1
	case res.RangesFailed == 0:
		fmt.Fprintln(os.Stderr, "localcloud: no range failed: the outage did not happen")
		return 1
	}
	return 0
}

// runConsume runs the consumer-group demo and prints its summary.
func runConsume(ctx context.Context, function, data string, env []string, consumers int, messages, fnLog io.Writer) int {
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "ALIBABA_CLOUD_") {
			fmt.Fprintf(os.Stderr, "localcloud: ignoring %s=…: the local consumers use the emulator's own key\n", kv[:strings.IndexByte(kv, '=')])
		}
	}
	if os.Getenv("SHIP_METRICS_ADDR") != "" {
		fmt.Fprintln(os.Stderr, "localcloud: ignoring SHIP_METRICS_ADDR: each local consumer serves its metrics on a free loopback port")
	}
	res, err := localcloud.RunConsume(ctx, localcloud.ConsumeOptions{
		Function: function, DataDir: data, Env: env, Consumers: consumers,
		Messages: messages, FunctionLog: fnLog,
		Started: func(name, url string) {
			fmt.Fprintf(os.Stderr, "localcloud: %s serves its metrics at %s/metrics (health %s/healthz, readiness %s/readyz)\n", name, url, url, url)
		},
	})
	if res != nil {
		var shares []string
		for name, shards := range res.Shares {
			shares = append(shares, fmt.Sprintf("%s %v", name, shards))
		}
		slices.Sort(shares)
		fmt.Fprintf(os.Stderr, "\nlocal cloud summary (consumer-group mode): %d logs in the sample logstore; %d consumers shared its shards (%s) and shipped to %s",
			res.Logs, consumers, strings.Join(shares, ", "), res.Receiver)
		if res.Received >= 0 {
			fmt.Fprintf(os.Stderr, "; %d received", res.Received)
		}
		var stops []string
		for _, d := range res.Stops {
			stops = append(stops, d.Round(time.Millisecond).String())
		}
		fmt.Fprintf(os.Stderr, "; clean stop (SIGTERM) in %s; every checkpoint at its shard's end: %v; %s\n",
			strings.Join(stops, ", "), res.AtEnd, res.Duration.Round(time.Millisecond))
		var names []string
		for name := range res.Metrics {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			m := res.Metrics[name]
			if m.Err != nil {
				fmt.Fprintf(os.Stderr, "  %s metrics (%s/metrics): %v\n", name, m.URL, m.Err)
				continue
			}
			fmt.Fprintf(os.Stderr, "  %s metrics (%s/metrics) before the stop: sls2siem_shipped_logs_total %.0f, sls2siem_shipped_bytes_total %.0f, sls2siem_send_failures_total %.0f, sls2siem_shards_held %.0f\n",
				name, m.URL, m.Logs, m.Bytes, m.Failures, m.Held)
		}
	}
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, "localcloud:", err)
		return 1
	case !res.AtEnd:
		fmt.Fprintln(os.Stderr, "localcloud: a checkpoint is not at its shard's end after the clean stop")
		return 1
	case res.Received >= 0 && res.Received != int64(res.Logs):
		fmt.Fprintf(os.Stderr, "localcloud: the receiver got %d messages, want %d\n", res.Received, res.Logs)
		return 1
	}
	return 0
}
