package localcloud

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"

	"sls2siem/internal/localcloud/fcemu"
	"sls2siem/internal/localcloud/receiver"
	"sls2siem/internal/localcloud/sample"
	"sls2siem/internal/localcloud/slsemu"
	"sls2siem/internal/localcloud/slstrigger"
	"sls2siem/internal/secret"
	"sls2siem/internal/slsapi"
)

// Options configure a run of the local cloud.
type Options struct {
	Function     string         // path of the built function binary
	Contract     fcemu.Contract // FC contract to run it under
	DataDir      string         // sample logstore directory (testdata/logstore)
	Env          []string       // the function's environment (SYSLOG_*, SLS_*, ...) as KEY=value
	Interval     time.Duration  // trigger interval
	MaxRetryTime int            // trigger's jobConfig.maxRetryTime
	RetryDelay   time.Duration  // between retries of a failed range
	Timeout      time.Duration  // function timeout
	Concurrency  int            // instance concurrency
	Messages     io.Writer      // the embedded receiver prints each message here (nil: discard)
	FunctionLog  io.Writer      // the function's own output (nil: discard)
	// FCTerms are the FC emulator's terms (zero: FC 3.0's documented
	// contract) and FCLifecycle the hooks configured (zero: s.yaml's,
	// Lifecycle).
	FCTerms     fcemu.Terms
	FCLifecycle fcemu.Lifecycle
}

// Result tells what a run did.
type Result struct {
	Logs        int    // logs in the sample logstore
	Shipped     int64  // logs the function reported as written
	Received    int64  // messages the embedded receiver got (-1 with an external receiver)
	Receiver    string // where the logs went
	Invocations int    // attempts, retries included
	Ranges      int    // cursor ranges shipped
	Failed      []slstrigger.Attempt
	Duration    time.Duration
}

// Run starts the local cloud, ships the whole sample logstore through the
// function, and stops everything again. With no SYSLOG_HOST in opts.Env, an
// embedded receiver on 127.0.0.1 takes the messages.
func Run(ctx context.Context, opts Options) (*Result, error) {
	start := time.Now()
	binary, err := filepath.Abs(opts.Function)
	if err != nil {
		return nil, fmt.Errorf("local cloud: %w", err)
	}
	data, err := sample.Load(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("local cloud: %w", err)
	}
	res := &Result{Logs: data.LogCount(), Received: -1}

	// SLS: the emulator, a loader key, the function's STS credentials.
	role := slsemu.Credential{AccessKeyID: randomID("STS.", 8), AccessKeySecret: randomID("", 16), SecurityToken: randomID("CAIS", 24)}
	emu, endpoint, loader, err := startSLS(data, role)
	if err != nil {
		return nil, err
	}
	defer emu.Close()
	if err := sample.Put(ctx, NewSLSClient(endpoint, loader), data); err != nil {
		return nil, fmt.Errorf("local cloud: load the sample logstore: %w", err)
	}

	// The receiver.
	rcv, env, desc, err := syslogTarget(endpoint, opts.Env, opts.Messages)
	if err != nil {
		return nil, err
	}
	if rcv != nil {
		defer rcv.Close()
	}
	res.Receiver = desc

	// FC: the real binary.
	out := opts.FunctionLog
	if out == nil {
		out = io.Discard
	}
	fn, err := fcemu.Start(ctx, Deployed(fcemu.Config{
		Binary:              binary,
		Contract:            opts.Contract,
		Env:                 env,
		Timeout:             opts.Timeout,
		InstanceConcurrency: opts.Concurrency,
		Credentials:         fcemu.Credentials{AccessKeyID: role.AccessKeyID, AccessKeySecret: role.AccessKeySecret, SecurityToken: role.SecurityToken},
		FunctionName:        "sls2siem",
		Output:              out,
		Terms:               opts.FCTerms,
		Lifecycle:           opts.FCLifecycle,
	}))
	if err != nil {
		return nil, fmt.Errorf("local cloud: start the function: %w", err)
	}
	defer fn.Stop(context.WithoutCancel(ctx))

	// The SLS trigger.
	sim, err := slstrigger.New(slstrigger.Config{
		Client:       NewSLSClient(endpoint, loader),
		Endpoint:     endpoint,
		Project:      data.Project,
		Logstore:     data.Logstore,
		Interval:     opts.Interval,
		MaxRetryTime: opts.MaxRetryTime,
		RetryDelay:   opts.RetryDelay,
		StartCursor:  "begin",
		JobName:      "sls2siem-local",
	}, fn)
	if err != nil {
		return nil, fmt.Errorf("local cloud: %w", err)
	}
	rep, err := sim.RunUntilCaughtUp(ctx)
	res.Invocations = len(rep.Attempts)
	res.Ranges = rep.RangesOK + rep.RangesFailed
	res.Failed = rep.Failed
	for _, a := range rep.Attempts {
		var sum struct {
			Logs int64 `json:"logs"`
		}
		if a.Err == "" && json.Unmarshal(a.Payload, &sum) == nil {
			res.Shipped += sum.Logs
		}
	}
	if err != nil {
		return res, fmt.Errorf("local cloud: trigger: %w", err)
	}
	if err := fn.Stop(ctx); err != nil {
		return res, fmt.Errorf("local cloud: stop the function: %w", err)
	}
	if rcv != nil {
		res.Received = awaitCount(ctx, rcv, res.Shipped, 10*time.Second)
	}
	res.Duration = time.Since(start)
	return res, nil
}

// awaitCount waits until the receiver has handled want messages (what was
// flushed may still sit in its socket buffer), or until timeout.
func awaitCount(ctx context.Context, rcv *receiver.Receiver, want int64, timeout time.Duration) int64 {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for rcv.Count() < want && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return rcv.Count()
		case <-tick.C:
		}
	}
	return rcv.Count()
}

// NewSLSClient returns an SDK client for the emulator at endpoint. Its
// transport dials the emulator for <project>.127.0.0.1, like the function's.
func NewSLSClient(endpoint string, c slsemu.Credential) *sls.Client {
	creds := secret.Credentials{AccessKeyID: c.AccessKeyID, AccessKeySecret: c.AccessKeySecret, SecurityToken: c.SecurityToken}
	return slsapi.NewSDK(endpoint, creds, slsapi.Signing{}, slsapi.NewTransport(LocalEndpoints(endpoint)), 30*time.Second, 30*time.Second)
}

func startReceiver(env []string, w io.Writer) (*receiver.Receiver, string, error) {
	network := lookupDefault(env, "SYSLOG_PROTOCOL", "tcp")
	if network != "tcp" && network != "udp" {
		return nil, "", fmt.Errorf("local cloud: the embedded receiver speaks tcp and udp; for SYSLOG_PROTOCOL=%s set SYSLOG_HOST to a real receiver", network)
	}
	if w == nil {
		w = io.Discard
	}
	var mu sync.Mutex
	rcv, err := receiver.Listen(network, "127.0.0.1:0", receiver.Options{
		MaxMessageSize: 16 << 20,
		Handle: func(m receiver.Message) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(w, "%s\n", m.Raw)
		},
	})
	if err != nil {
		return nil, "", fmt.Errorf("local cloud: start the embedded receiver: %w", err)
	}
	return rcv, rcv.Addr(), nil
}

func lookup(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

func lookupDefault(env []string, key, def string) string {
	if v := lookup(env, key); v != "" {
		return v
	}
	return def
}

func withoutVars(env []string, keys ...string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, key := range keys {
			drop = drop || k == key
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}
