package localcloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"sls2siem/internal/localcloud/sample"
	"sls2siem/internal/localcloud/scrape"
	"sls2siem/internal/localcloud/slsemu"
)

// ConsumeOptions configure a consumer-group run of the local cloud.
type ConsumeOptions struct {
	Function    string        // path of the built binary
	DataDir     string        // sample logstore directory
	Env         []string      // SYSLOG_*, SLS_* ... as KEY=value
	Consumers   int           // `sls2siem consume` processes (default 2)
	Timeout     time.Duration // bound on the whole run (default 2m)
	Messages    io.Writer     // the embedded receiver prints each message here
	FunctionLog io.Writer     // the consumers' own output
	// Started, when set, is called as each consumer starts, with the base
	// URL of its metrics and health endpoints (SHIP_METRICS_ADDR, a free
	// loopback port per consumer).
	Started func(consumer, metricsURL string)
}

// ConsumerMetrics is what a consumer's /metrics said just before the
// clean stop.
type ConsumerMetrics struct {
	URL      string // base URL of /metrics, /healthz and /readyz
	Logs     float64
	Bytes    float64
	Failures float64
	Held     float64 // shards held
	Err      error   // the scrape failed
}

// ConsumeResult tells what a consumer-group run did.
type ConsumeResult struct {
	Logs     int              // logs in the sample logstore
	Received int64            // messages the embedded receiver got (-1 with an external receiver)
	Receiver string           // where the logs went
	Shares   map[string][]int // consumer → shards it held once the group was balanced
	Stops    []time.Duration  // how long each clean stop took
	AtEnd    bool             // every checkpoint at its shard's end after the stop
	Metrics  map[string]ConsumerMetrics
	Duration time.Duration
}

// consumerGroup is the group the local consumers join.
const consumerGroup = "sls2siem-local"

// RunConsume shows the consumer-group mode: it starts opts.Consumers
// `sls2siem consume` daemons, waits until the group has balanced the
// sample logstore's shards over them, writes the sample, waits until every
// log is delivered and every checkpoint at its shard's end, then stops the
// daemons with SIGTERM and checks that each stopped cleanly.
func RunConsume(ctx context.Context, opts ConsumeOptions) (*ConsumeResult, error) {
	start := time.Now()
	if opts.Consumers <= 0 {
		opts.Consumers = 2
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	binary, err := filepath.Abs(opts.Function)
	if err != nil {
		return nil, fmt.Errorf("local cloud: %w", err)
	}
	data, err := sample.Load(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("local cloud: %w", err)
	}
	res := &ConsumeResult{Logs: data.LogCount(), Received: -1, Shares: map[string][]int{}, Metrics: map[string]ConsumerMetrics{}}

	key := slsemu.Credential{AccessKeyID: randomID("LTAIconsumer", 6), AccessKeySecret: randomID("", 16)}
	emu, endpoint, loader, err := startSLS(data, key)
	if err != nil {
		return nil, err
	}
	defer emu.Close()

	rcv, env, desc, err := syslogTarget(endpoint, opts.Env, opts.Messages)
	if err != nil {
		return nil, err
	}
	if rcv != nil {
		defer rcv.Close()
	}
	res.Receiver = desc

	// Short heartbeats so that the demo balances in seconds; the caller's
	// variables may change them.
	base := append([]string{
		"SLS_HEARTBEAT_INTERVAL=1s", "SLS_HEARTBEAT_TIMEOUT=3s", "SLS_CHECKPOINT_INTERVAL=1s",
		"SLS_FETCH_INTERVAL=50ms", "SLS_CURSOR_POSITION=begin",
	}, env...)
	base = append(base,
		"SLS_ENDPOINT="+endpoint, "SLS_PROJECT="+data.Project, "SLS_LOGSTORE="+data.Logstore,
		"SLS_CONSUMER_GROUP="+consumerGroup,
		"ALIBABA_CLOUD_ACCESS_KEY_ID="+key.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET="+key.AccessKeySecret,
	)
	var out io.Writer = io.Discard
	if opts.FunctionLog != nil {
		out = &lockedWriter{w: opts.FunctionLog} // shared by the processes
	}
	var names []string
	var procs []*exec.Cmd
	exited := map[*exec.Cmd]chan error{}
	defer func() {
		for _, p := range procs {
			select {
			case <-exited[p]:
			default:
				p.Process.Kill()
				<-exited[p]
			}
		}
	}()
	for i := range opts.Consumers {
		name := "consumer-" + strconv.Itoa(i+1)
		addr, err := freeLoopback()
		if err != nil {
			return nil, fmt.Errorf("local cloud: a port for %s's metrics: %w", name, err)
		}
		url := "http://" + addr
		res.Metrics[name] = ConsumerMetrics{URL: url}
		cmd := exec.Command(binary, "consume")
		// Last, so that it wins over a SHIP_METRICS_ADDR of the caller's.
		cmd.Env = append(slices.Clone(base), "SLS_CONSUMER_NAME="+name, "SHIP_METRICS_ADDR="+addr)
		cmd.Stdout, cmd.Stderr = out, out
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("local cloud: start %s: %w", name, err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		names, procs, exited[cmd] = append(names, name), append(procs, cmd), done
		if opts.Started != nil {
			opts.Started(name, url)
		}
	}

	// The group balances the shards; then the logs arrive.
	state := func() slsemu.ConsumerGroupState {
		st, _ := emu.ConsumerGroup(data.Project, data.Logstore, consumerGroup)
		return st
	}
	err = poll(ctx, "the consumers sharing the shards evenly", func() bool {
		st := state()
		held := 0
		for _, n := range names {
			if len(st.Reported[n]) > (len(data.Shards)+len(names)-1)/len(names) || !slices.Equal(st.Reported[n], st.Assigned[n]) {
				return false
			}
			held += len(st.Reported[n])
			res.Shares[n] = st.Reported[n]
		}
		return held == len(data.Shards)
	})
	if err != nil {
		return res, err
	}
	err = poll(ctx, "every consumer ready (/readyz)", func() bool {
		for _, n := range names {
			if !ready(ctx, res.Metrics[n].URL) {
				return false
			}
		}
		return true
	})
	if err != nil {
		return res, err
	}
	if err := sample.Put(ctx, NewSLSClient(endpoint, loader), data); err != nil {
		return res, fmt.Errorf("local cloud: load the sample logstore: %w", err)
	}
	atEnd := func() bool {
		st := state()
		for shard := range data.Shards {
			end, err := emu.Cursor(data.Project, data.Logstore, shard, "end")
			if err != nil || st.Checkpoints[shard] != end {
				return false
			}
		}
		return true
	}
	err = poll(ctx, "every log delivered and every checkpoint at its shard's end", func() bool {
		return (rcv == nil || rcv.Count() >= int64(res.Logs)) && atEnd()
	})
	if rcv != nil {
		res.Received = rcv.Count()
	}
	if err != nil {
		return res, err
	}

	// What each consumer's metrics say, then a clean stop: SIGTERM, and
	// each must exit with status 0.
	for _, n := range names {
		res.Metrics[n] = scrapeConsumer(ctx, res.Metrics[n].URL)
	}
	signalled := time.Now()
	for _, p := range procs {
		p.Process.Signal(syscall.SIGTERM)
	}
	var errs []error
	for i, p := range procs {
		select {
		case err := <-exited[p]:
			close(exited[p]) // lets the deferred cleanup see it exited
			res.Stops = append(res.Stops, time.Since(signalled))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s did not stop cleanly: %w", names[i], err))
			}
		case <-ctx.Done():
			return res, fmt.Errorf("local cloud: %s did not stop: %w", names[i], ctx.Err())
		}
	}
	res.AtEnd = atEnd()
	if rcv != nil {
		res.Received = rcv.Count()
	}
	res.Duration = time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("local cloud: %w", err)
	}
	return res, nil
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// poll checks cond every 10 ms until it holds or ctx ends.
func poll(ctx context.Context, what string, cond func() bool) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("local cloud: waiting for %s: %w", what, ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

// freeLoopback returns a loopback address with a port free now.
func freeLoopback() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// ready reports whether a consumer's /readyz answers 200.
func ready(ctx context.Context, base string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// scrapeConsumer reads a consumer's totals from its /metrics.
func scrapeConsumer(ctx context.Context, base string) ConsumerMetrics {
	cm := ConsumerMetrics{URL: base}
	s, _, err := scrape.Get(ctx, base+"/metrics")
	if err != nil {
		cm.Err = err
		return cm
	}
	cm.Logs = s.Sum("sls2siem_shipped_logs_total")
	cm.Bytes = s.Sum("sls2siem_shipped_bytes_total")
	cm.Failures = s.Sum("sls2siem_send_failures_total")
	cm.Held = s.Sum("sls2siem_shards_held")
	return cm
}
