package e2e

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leodido/go-syslog/v4/rfc5424"

	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/fcemu"
	"sls2siem/internal/localcloud/slsemu"
	"sls2siem/internal/localcloud/slstrigger"
)

// trHeaderEnv is the header checkMessages expects.
var trHeaderEnv = []string{
	"SYSLOG_HOSTNAME=e2e-host", "SYSLOG_TAG=sls2siem", "SYSLOG_FACILITY=local4", "SYSLOG_SEVERITY=notice",
}

// trReceiver is a real receiver under test.
type trReceiver interface {
	Ports() receiverPorts
	Messages(t testing.TB) []received
	WaitForCount(t testing.TB, n int, timeout time.Duration) []received
}

// trShipAll invokes the function once per shard for the whole shard and
// returns the logs it reported shipped; every invocation must succeed.
func trShipAll(t *testing.T, c *cloud, fn *fcemu.Instance) int64 {
	t.Helper()
	var total int64
	for shard := range c.data.Shards {
		begin, end := c.shardRange(t, shard)
		res, err := fn.Invoke(context.Background(), c.event(shard, begin, end))
		if err != nil {
			t.Fatal(err)
		}
		if res.Err != nil {
			t.Fatalf("shard %d: %v", shard, res.Err)
		}
		total += decodeSummary(t, res.Payload).Logs
	}
	return total
}

// TestEveryProtocolAndFraming ships the sample logstore completely over
// every protocol × framing each real receiver supports.
func TestEveryProtocolAndFraming(t *testing.T) {
	pki := newTestPKI(t)
	rs := startRsyslogPKI(t, pki)
	ng := startSyslogNGPKI(t, pki)
	c := newCloud(t)
	tlsEnv := []string{"SYSLOG_TLS_CA_FILE=" + pki.CAFile}
	mtlsEnv := append(tlsEnv, "SYSLOG_TLS_CERT_FILE="+pki.ClientCertFile, "SYSLOG_TLS_KEY_FILE="+pki.ClientKey)
	type combo struct {
		recv           string
		r              trReceiver
		protocol       string
		framing        string
		port           int
		extra          []string
		lfEscapedBodys bool
	}
	rp, np := rs.Ports(), ng.Ports()
	combos := []combo{
		{"rsyslog", rs, "udp", "", rp.UDP, []string{"SYSLOG_MAX_MESSAGE_SIZE=60000"}, false},
		{"rsyslog", rs, "tcp", "lf", rp.TCP, nil, true},
		{"rsyslog", rs, "tcp", "octet-counting", rp.TCP, nil, false},
		{"rsyslog", rs, "tls", "octet-counting", rp.TLS, tlsEnv, false},
		{"rsyslog", rs, "tls", "lf", rp.TLS, tlsEnv, true},
		{"rsyslog", rs, "tls", "octet-counting", rp.MTLS, mtlsEnv, false},
		{"syslog-ng", ng, "udp", "", np.UDP, []string{"SYSLOG_MAX_MESSAGE_SIZE=60000"}, false},
		{"syslog-ng", ng, "tcp", "octet-counting", np.TCP, nil, false},
		{"syslog-ng", ng, "tcp", "lf", np.TCPLF, nil, true},
		{"syslog-ng", ng, "tls", "octet-counting", np.TLS, tlsEnv, false},
		{"syslog-ng", ng, "tls", "octet-counting", np.MTLS, mtlsEnv, false},
	}
	for _, cb := range combos {
		name := cb.recv + "/" + cb.protocol + "/" + cb.framing + "/" + strconv.Itoa(cb.port)
		t.Run(name, func(t *testing.T) {
			env := append([]string{
				"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + strconv.Itoa(cb.port), "SYSLOG_PROTOCOL=" + cb.protocol,
			}, trHeaderEnv...)
			if cb.framing != "" {
				env = append(env, "SYSLOG_FRAMING="+cb.framing)
			}
			env = append(env, cb.extra...)
			fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{Timeout: 30 * time.Second, Env: env})
			before := len(cb.r.Messages(t))
			shipped := trShipAll(t, c, fn)
			body := func(s string) string { return s }
			if cb.lfEscapedBodys {
				body = lfEscaped
			}
			if cb.recv == "syslog-ng" && !cb.lfEscapedBodys {
				// syslog-ng drops a message's trailing LF when it parses it
				// (the bytes on the wire had it; the unit and rsyslog tests
				// prove that).
				body = func(s string) string { return strings.TrimSuffix(s, "\n") }
			}
			want, total := expectations(c.data, body)
			if shipped != int64(total) {
				t.Fatalf("shipped %d logs, the sample has %d", shipped, total)
			}
			got := cb.r.WaitForCount(t, before+total, 60*time.Second)[before:]
			checkMessages(t, got, want, total)
		})
	}
}

// TestTLSFailuresAreClear: wrong CA, wrong name and mutual TLS without a
// client certificate each fail the invocation with an error that says so.
func TestTLSFailuresAreClear(t *testing.T) {
	pki := newTestPKI(t)
	rs := startRsyslogPKI(t, pki)
	ng := startSyslogNGPKI(t, pki)
	c := newCloud(t)
	begin, end := c.shardRange(t, 0)
	cases := []struct {
		name string
		port int
		env  []string
		want string
	}{
		{"rsyslog wrong CA", rs.Ports().TLS, []string{"SYSLOG_TLS_CA_FILE=" + pki.OtherCAFile}, "unknown authority"},
		{"rsyslog wrong name", rs.Ports().TLS, []string{"SYSLOG_TLS_CA_FILE=" + pki.CAFile, "SYSLOG_TLS_SERVER_NAME=siem.example.com"}, "does not match the host name"},
		{"rsyslog mTLS without client certificate", rs.Ports().MTLS, []string{"SYSLOG_TLS_CA_FILE=" + pki.CAFile}, "client certificate"},
		{"syslog-ng wrong CA", ng.Ports().TLS, []string{"SYSLOG_TLS_CA_FILE=" + pki.OtherCAFile}, "unknown authority"},
		{"syslog-ng mTLS without client certificate", ng.Ports().MTLS, []string{"SYSLOG_TLS_CA_FILE=" + pki.CAFile}, "client certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := append([]string{"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + strconv.Itoa(tc.port), "SYSLOG_PROTOCOL=tls",
				"SYSLOG_MAX_RETRIES=1", "SYSLOG_RETRY_BACKOFF=10ms"}, tc.env...)
			fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{Timeout: 20 * time.Second, Env: env})
			res, err := fn.Invoke(context.Background(), c.event(0, begin, end))
			if err != nil {
				t.Fatal(err)
			}
			if res.Err == nil {
				t.Fatalf("invocation succeeded: %s", res.Payload)
			}
			if !strings.Contains(res.Err.Message, tc.want) {
				t.Errorf("error %q does not say %q", res.Err.Message, tc.want)
			}
		})
	}
}

// trFaultRun is the outcome of a fault scenario.
type trFaultRun struct {
	sent, received, missing, duplicated int
	resent                              int64
}

// trCount compares what the receiver got with the sample: every log must
// be there; extra copies are counted as duplicates.
func trCount(t *testing.T, c *cloud, got []received) trFaultRun {
	t.Helper()
	want, total := expectations(c.data, func(s string) string { return s })
	seen := map[string]int{}
	p := rfc5424.NewParser()
	for _, r := range got {
		m, err := p.Parse([]byte(r.Raw))
		if err != nil {
			t.Fatalf("message does not parse: %v: %q", err, r.Raw)
		}
		if msg := m.(*rfc5424.SyslogMessage).Message; msg != nil {
			seen[*msg]++
		}
	}
	run := trFaultRun{sent: total, received: len(got)}
	for body, exp := range want {
		n := seen[body]
		if n < len(exp) {
			run.missing += len(exp) - n
		} else {
			run.duplicated += n - len(exp)
		}
	}
	return run
}

func (r trFaultRun) String() string {
	return "sent " + strconv.Itoa(r.sent) + ", received " + strconv.Itoa(r.received) + ", missing " + strconv.Itoa(r.missing) +
		", duplicated " + strconv.Itoa(r.duplicated) + ", resent (summary) " + strconv.FormatInt(r.resent, 10)
}

// trTrigger runs the trigger simulator over the sample until caught up.
func trTrigger(t *testing.T, c *cloud, inv slstrigger.Invoker, retries int) slstrigger.Report {
	t.Helper()
	sim, err := slstrigger.New(slstrigger.Config{
		Client: localcloud.NewSLSClient(c.endpoint, c.loader), Endpoint: c.endpoint,
		Project: c.data.Project, Logstore: c.data.Logstore, Interval: 20 * time.Millisecond,
		MaxRetryTime: retries, RetryDelay: 200 * time.Millisecond, StartCursor: "begin",
	}, inv)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := sim.RunUntilCaughtUp(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func trResent(t *testing.T, rep slstrigger.Report) int64 {
	var n int64
	for _, a := range rep.Attempts {
		if a.Err == "" {
			n += decodeSummary(t, a.Payload).Resent
		}
	}
	return n
}

// trCheckFrames asserts that every message is a whole, strictly valid
// RFC 5424 message.
func trCheckFrames(t *testing.T, got []received) {
	t.Helper()
	p := rfc5424.NewParser()
	for i, r := range got {
		if _, err := p.Parse([]byte(r.Raw)); err != nil {
			t.Fatalf("message %d is not a whole RFC 5424 message: %v\n%q", i, err, r.Raw)
		}
	}
}

// invokerFunc adapts a function to slstrigger.Invoker.
type invokerFunc func(ctx context.Context, event []byte) (*fcemu.Result, error)

func (f invokerFunc) Invoke(ctx context.Context, event []byte) (*fcemu.Result, error) {
	return f(ctx, event)
}

func trEnv(port int, extra ...string) []string {
	return append([]string{"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + strconv.Itoa(port),
		"SYSLOG_FRAMING=octet-counting", "SYSLOG_MAX_RETRIES=6", "SYSLOG_RETRY_BACKOFF=100ms"}, extra...)
}

// TestReceiverRestartedMidRange restarts rsyslog while a range is being
// shipped: nothing may be missing once the invocation (or the trigger's
// retry) succeeds; duplicates are allowed and counted.
func TestReceiverRestartedMidRange(t *testing.T) {
	rs := startRsyslog(t)
	c := newCloud(t)
	// Slow the pulls down so the restart lands in the middle of a range.
	c.emu.InjectFault(slsemu.Fault{Op: slsemu.OpPullLogs, Delay: 15 * time.Millisecond, Times: -1})
	fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{
		Timeout: 60 * time.Second, InstanceConcurrency: 2, Env: trEnv(rs.Ports().TCP, "SLS_PULL_COUNT=2"),
	})
	sim, err := slstrigger.New(slstrigger.Config{
		Client: localcloud.NewSLSClient(c.endpoint, c.loader), Endpoint: c.endpoint,
		Project: c.data.Project, Logstore: c.data.Logstore, Interval: 20 * time.Millisecond,
		MaxRetryTime: 3, RetryDelay: 200 * time.Millisecond, StartCursor: "begin",
	}, fn)
	if err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		rep slstrigger.Report
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		rep, err := sim.RunUntilCaughtUp(context.Background())
		done <- outcome{rep, err}
	}()
	// Restart once a third of the sample has arrived.
	rs.WaitForCount(t, 1000, 60*time.Second)
	rs.Restart(t)
	out := <-done
	if out.err != nil {
		t.Fatal(out.err)
	}
	rep := out.rep
	retried := len(rep.Attempts) > rep.RangesOK
	if trResent(t, rep) == 0 && !retried {
		t.Fatal("the restart did not land in the middle of a range: nothing was resent or retried, so this run proves nothing")
	}
	if rep.RangesFailed != 0 {
		t.Fatalf("ranges given up: %+v", rep.Failed)
	}
	run := trCount(t, c, rs.Messages(t))
	run.resent = trResent(t, rep)
	t.Logf("receiver restarted mid-range: %s", run)
	if run.missing != 0 {
		t.Fatalf("%d logs missing", run.missing)
	}
}

// TestReceiverDownThenUp: the receiver is down when the trigger fires and
// comes back before its retries run out: nothing is missing.
func TestReceiverDownThenUp(t *testing.T) {
	rs := startRsyslog(t)
	rs.Stop(t)
	c := newCloud(t)
	fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{
		Timeout: 30 * time.Second, Env: trEnv(rs.Ports().TCP, "SYSLOG_MAX_RETRIES=1", "SYSLOG_RETRY_BACKOFF=10ms"),
	})
	var mu sync.Mutex // the trigger invokes the shards concurrently
	failures := 0
	inv := invokerFunc(func(ctx context.Context, event []byte) (*fcemu.Result, error) {
		res, err := fn.Invoke(ctx, event)
		mu.Lock()
		defer mu.Unlock()
		if err == nil && res.Err != nil {
			failures++
			if failures == 2 { // both shards failed once: bring the receiver back
				rs.start(t)
			}
		}
		return res, err
	})
	rep := trTrigger(t, c, inv, 3)
	if rep.RangesFailed != 0 {
		t.Fatalf("ranges given up: %+v", rep.Failed)
	}
	if failures < 2 {
		t.Fatalf("the receiver being down failed %d invocations, want at least 2", failures)
	}
	run := trCount(t, c, rs.WaitForCount(t, 3000, 60*time.Second))
	t.Logf("receiver down, then up: %s; %d failed invocations retried by the trigger", run, failures)
	if run.missing != 0 {
		t.Fatalf("%d logs missing", run.missing)
	}
}

// TestStalePooledConnection: the receiver restarts between two
// invocations; the next invocation must not lose its first batch into the
// dead pooled connection.
func TestStalePooledConnection(t *testing.T) {
	rs := startRsyslog(t)
	c := newCloud(t)
	fn := c.start(t, fcemu.ContractGo1, c.roleCredentials(), fcemu.Config{
		Timeout: 30 * time.Second, Env: trEnv(rs.Ports().TCP, "SYSLOG_MAX_RETRIES=0"),
	})
	b0, e0 := c.shardRange(t, 0)
	res, err := fn.Invoke(context.Background(), c.event(0, b0, e0))
	if err != nil || res.Err != nil {
		t.Fatalf("first invocation: %v %v", err, res.Err)
	}
	rs.WaitForCount(t, 1500, 30*time.Second)
	rs.Restart(t)
	b1, e1 := c.shardRange(t, 1)
	// No retries allowed: success proves the stale connection was detected
	// before it was written to.
	res, err = fn.Invoke(context.Background(), c.event(1, b1, e1))
	if err != nil || res.Err != nil {
		t.Fatalf("invocation after the restart: %v %v", err, res.Err)
	}
	run := trCount(t, c, rs.WaitForCount(t, 3000, 30*time.Second))
	t.Logf("stale pooled connection: %s", run)
	if run.missing != 0 || run.duplicated != 0 {
		t.Fatalf("after a receiver restart between invocations: %s", run)
	}
}

// TestConcurrentInvocationsShareTheInstance: several invocations at once on
// one instance (FC instance concurrency) keep every frame intact.
func TestConcurrentInvocationsShareTheInstance(t *testing.T) {
	rs := startRsyslog(t)
	c := newCloud(t)
	for _, contract := range []fcemu.Contract{fcemu.ContractGo1, fcemu.ContractCustom} {
		t.Run(string(contract), func(t *testing.T) {
			fn := c.start(t, contract, c.roleCredentials(), fcemu.Config{
				Timeout: 30 * time.Second, InstanceConcurrency: 4, Env: append(trEnv(rs.Ports().TCP, "SLS_PULL_COUNT=5"), trHeaderEnv...),
			})
			before := len(rs.Messages(t))
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for i := 0; i < 4; i++ {
				shard := i % 2
				begin, end := c.shardRange(t, shard)
				wg.Add(1)
				go func() {
					defer wg.Done()
					res, err := fn.Invoke(context.Background(), c.event(shard, begin, end))
					if err == nil && res.Err != nil {
						err = res.Err
					}
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			got := rs.WaitForCount(t, before+6000, 60*time.Second)[before:]
			// Each log exactly twice (two invocations per shard), each frame a
			// whole, strictly valid message.
			run := trCount(t, c, got)
			if run.missing != 0 || run.duplicated != 3000 {
				t.Fatalf("concurrent invocations: %s", run)
			}
			trCheckFrames(t, got)
		})
	}
}
