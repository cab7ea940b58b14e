package localcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/leodido/go-syslog/v4/rfc5424"

	"sls2siem/internal/localcloud/fcemu"
	"sls2siem/internal/localcloud/receiver"
	"sls2siem/internal/localcloud/sample"
	"sls2siem/internal/localcloud/slsemu"
	"sls2siem/internal/localcloud/slstrigger"
)

// OutageResult tells what the outage scenario did.
type OutageResult struct {
	Logs         int   // logs in the sample logstore
	Invocations  int   // trigger attempts, retries included
	RangesFailed int   // ranges the trigger gave up after its retries
	DeadLettered int   // of them, ranges the function dead-lettered
	Redriven     int   // ranges `sls2siem redrive` shipped
	RedriveLogs  int64 // logs redrive reported delivered
	RedriveExit  int
	Received     int64 // distinct logs of the sample the receiver got (by origin stamp)
	Messages     int64 // messages it got, duplicates included
	Lost         int64 // logs of the sample never received
	Receiver     string
	Duration     time.Duration
}

// RunOutage is the outage scenario (`make run SCENARIO=outage`): the
// embedded receiver refuses connections (its listener closed) while the
// SLS trigger invokes the function, for longer than the trigger's retries,
// so every range fails and is dead-lettered (SHIP_DEADLETTER_LOGSTORE);
// then the receiver comes back on the same port and the real
// `sls2siem redrive -since 1h` ships the dead-lettered ranges. Every
// message carries its origin stamp, so the receiver counts distinct logs
// and the result says how many of the sample were lost.
func RunOutage(ctx context.Context, opts Options) (*OutageResult, error) {
	start := time.Now()
	if lookup(opts.Env, "SYSLOG_HOST") != "" {
		return nil, fmt.Errorf("local cloud: the outage scenario stops and restarts the embedded receiver: unset SYSLOG_HOST")
	}
	if p := lookupDefault(opts.Env, "SYSLOG_PROTOCOL", "tcp"); p != "tcp" {
		return nil, fmt.Errorf("local cloud: the outage scenario refuses TCP connections: SYSLOG_PROTOCOL=%s is not tcp", p)
	}
	binary, err := filepath.Abs(opts.Function)
	if err != nil {
		return nil, fmt.Errorf("local cloud: %w", err)
	}
	data, err := sample.Load(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("local cloud: %w", err)
	}
	res := &OutageResult{Logs: data.LogCount()}

	role := newRole()
	emu, endpoint, loader, err := startSLS(data, role)
	if err != nil {
		return nil, err
	}
	defer emu.Close()
	if err := emu.CreateLogstore(data.Project, DeadLetterLogstore, 2); err != nil {
		return nil, fmt.Errorf("local cloud: %w", err)
	}
	if err := sample.Put(ctx, NewSLSClient(endpoint, loader), data); err != nil {
		return nil, fmt.Errorf("local cloud: load the sample logstore: %w", err)
	}

	// The receiver: a port that refuses connections until it comes back.
	counter := newOriginCounter(data.Project, data.Logstore, opts.Messages)
	rcv, err := receiver.Listen("tcp", "127.0.0.1:0", receiver.Options{MaxMessageSize: 16 << 20, Handle: counter.handle})
	if err != nil {
		return nil, fmt.Errorf("local cloud: start the embedded receiver: %w", err)
	}
	addr := rcv.Addr()
	rcv.Close()
	res.Receiver = "tcp://" + addr
	env := append(TrustEnv(endpoint), withoutVars(opts.Env, "SYSLOG_HOST", "SYSLOG_PORT", "SYSLOG_ORIGIN_SD", "SHIP_DEADLETTER_LOGSTORE")...)
	env = append(env, "SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT="+addr[strings.LastIndexByte(addr, ':')+1:],
		"SYSLOG_ORIGIN_SD=true", "SHIP_DEADLETTER_LOGSTORE="+DeadLetterLogstore)
	if lookup(env, "SHIP_DEADLETTER_KEY") == "" {
		env = append(env, "SHIP_DEADLETTER_KEY="+newDeadLetterKey())
	}
	if lookup(env, "SYSLOG_MAX_RETRIES") == "" {
		env = append(env, "SYSLOG_MAX_RETRIES=1", "SYSLOG_RETRY_BACKOFF=50ms", "SYSLOG_DIAL_TIMEOUT=500ms")
	}

	out := opts.FunctionLog
	if out == nil {
		out = io.Discard
	}
	fn, err := fcemu.Start(ctx, Deployed(fcemu.Config{
		Binary: binary, Contract: opts.Contract, Env: env, Timeout: opts.Timeout, InstanceConcurrency: opts.Concurrency,
		Credentials:  fcemu.Credentials{AccessKeyID: role.AccessKeyID, AccessKeySecret: role.AccessKeySecret, SecurityToken: role.SecurityToken},
		FunctionName: "sls2siem", Output: out, Terms: opts.FCTerms, Lifecycle: opts.FCLifecycle,
	}))
	if err != nil {
		return nil, fmt.Errorf("local cloud: start the function: %w", err)
	}
	defer fn.Stop(context.WithoutCancel(ctx))
	sim, err := slstrigger.New(slstrigger.Config{
		Client: NewSLSClient(endpoint, loader), Endpoint: endpoint, Project: data.Project, Logstore: data.Logstore,
		Interval: opts.Interval, MaxRetryTime: opts.MaxRetryTime, RetryDelay: opts.RetryDelay, StartCursor: "begin",
		JobName: "sls2siem-local",
	}, fn)
	if err != nil {
		return nil, fmt.Errorf("local cloud: %w", err)
	}
	rep, err := sim.RunUntilCaughtUp(ctx)
	res.Invocations, res.RangesFailed = len(rep.Attempts), rep.RangesFailed
	if err != nil {
		return res, fmt.Errorf("local cloud: trigger: %w", err)
	}
	for _, f := range rep.Failed {
		if strings.Contains(f.Err, "dead-lettered to logstore "+DeadLetterLogstore) {
			res.DeadLettered++
		}
	}
	if err := fn.Stop(ctx); err != nil {
		return res, fmt.Errorf("local cloud: stop the function: %w", err)
	}

	// The receiver comes back on the same port; redrive ships the ranges.
	if rcv, err = receiver.Listen("tcp", addr, receiver.Options{MaxMessageSize: 16 << 20, Handle: counter.handle}); err != nil {
		return res, fmt.Errorf("local cloud: restart the embedded receiver on %s: %w", addr, err)
	}
	defer rcv.Close()
	cmd := exec.CommandContext(ctx, binary, "redrive", "-since", "1h")
	cmd.Env = append(env, "SLS_ENDPOINT="+endpoint, "SLS_PROJECT="+data.Project, "SHIP_REDRIVE_LOGSTORES="+data.Logstore,
		"ALIBABA_CLOUD_ACCESS_KEY_ID="+role.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET="+role.AccessKeySecret,
		"ALIBABA_CLOUD_SECURITY_TOKEN="+role.SecurityToken)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, out
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		res.RedriveExit = ee.ExitCode()
	} else if err != nil {
		return res, fmt.Errorf("local cloud: run sls2siem redrive: %w", err)
	}
	var rr struct {
		Redriven int   `json:"redriven"`
		Logs     int64 `json:"logs"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &rr); err != nil {
		return res, fmt.Errorf("local cloud: sls2siem redrive printed %q, not its result", stdout.String())
	}
	res.Redriven, res.RedriveLogs = rr.Redriven, rr.Logs
	res.Received = counter.await(ctx, int64(res.Logs), 10*time.Second)
	res.Messages = rcv.Count()
	res.Lost = int64(res.Logs) - res.Received
	res.Duration = time.Since(start)
	return res, nil
}

// newRole returns the function's STS credentials, made up per run.
func newRole() slsemu.Credential {
	return slsemu.Credential{AccessKeyID: randomID("STS.", 8), AccessKeySecret: randomID("", 16), SecurityToken: randomID("CAIS", 24)}
}

// Summary is the scenario's summary line.
func (r *OutageResult) Summary() string {
	return fmt.Sprintf("outage summary: embedded receiver %s refused connections past the trigger's retries: %d invocations, %d ranges failed, %d dead-lettered; receiver back, sls2siem redrive (exit %d): %d redriven (%d logs); %d logs in the sample, %d received (distinct, %d messages), %d lost; %s",
		r.Receiver, r.Invocations, r.RangesFailed, r.DeadLettered, r.RedriveExit, r.Redriven, r.RedriveLogs,
		r.Logs, r.Received, r.Messages, r.Lost, r.Duration.Round(time.Millisecond))
}

// originCounter counts the distinct logs of one logstore the receiver
// got, by their origin stamp (shard, cursor, index).
type originCounter struct {
	project, logstore string
	w                 io.Writer
	mu                sync.Mutex
	seen              map[string]bool
}

func newOriginCounter(project, logstore string, w io.Writer) *originCounter {
	if w == nil {
		w = io.Discard
	}
	return &originCounter{project: project, logstore: logstore, w: w, seen: map[string]bool{}}
}

func (c *originCounter) handle(m receiver.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.w, "%s\n", m.Raw)
	msg, err := rfc5424.NewParser().Parse(m.Raw)
	if err != nil {
		return
	}
	sm, ok := msg.(*rfc5424.SyslogMessage)
	if !ok || sm.StructuredData == nil {
		return
	}
	o := (*sm.StructuredData)["origin@32473"]
	if o["project"] != c.project || o["logstore"] != c.logstore {
		return
	}
	c.seen[o["shard"]+"/"+o["cursor"]+"/"+o["index"]] = true
}

func (c *originCounter) count() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return int64(len(c.seen))
}

// await waits until want distinct logs arrived (the last bytes may still
// sit in the socket buffer), or timeout.
func (c *originCounter) await(ctx context.Context, want int64, timeout time.Duration) int64 {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for c.count() < want && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return c.count()
		case <-tick.C:
		}
	}
	return c.count()
}
