package consume

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/config"
	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/receiver"
	"sls2siem/internal/localcloud/slsemu"
	"sls2siem/internal/secret"
	"sls2siem/internal/ship"
)

// The tests run the SDK's consumer library in process on one-shard
// logstores: the SDK's Client initialises its timeouts lazily under a read
// lock, so two shard goroutines of one consumer race inside the SDK
// (harmless, but -race reports it). Several shards and consumers are
// covered end to end with the built binary (internal/e2e).

const (
	testProject  = "proj"
	testLogstore = "store"
	testAK       = "LTAI-consume-test"
	testSecret   = "consume-test-secret"
)

// env is a test's local cloud: the SLS emulator with a one-shard logstore
// and a log to read the consumer's own lines from.
type env struct {
	emu      *slsemu.Server
	endpoint string
	logs     *syncBuffer
	log      *slog.Logger
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{emu: slsemu.New(), logs: &syncBuffer{}}
	e.emu.AddCredential(slsemu.Credential{AccessKeyID: testAK, AccessKeySecret: testSecret})
	var err error
	if e.endpoint, err = e.emu.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.emu.Close() })
	if err := e.emu.CreateLogstore(testProject, testLogstore, 1); err != nil {
		t.Fatal(err)
	}
	e.log = slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if strings.Contains(e.logs.String(), testSecret) {
			t.Errorf("the secret reached the consumer's log:\n%s", e.logs)
		}
		if t.Failed() {
			t.Logf("consumer log:\n%s", e.logs)
		}
	})
	return e
}

// appendLogs adds groups of logs to the shard; each log's "seq" content is
// its number, from first.
func (e *env) appendLogs(t *testing.T, first, groups, perGroup int) {
	t.Helper()
	n := first
	for range groups {
		lg := &sls.LogGroup{Topic: proto.String("t"), Source: proto.String("10.0.0.1")}
		for range perGroup {
			lg.Logs = append(lg.Logs, &sls.Log{Time: proto.Uint32(1700000000), Contents: []*sls.LogContent{
				{Key: proto.String("seq"), Value: proto.String(strconv.Itoa(n))},
			}})
			n++
		}
		if _, err := e.emu.Append(testProject, testLogstore, 0, lg, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

func (e *env) consumeConfig(name string) config.Consume {
	return config.Consume{
		Endpoint: e.endpoint, Project: testProject, Logstore: testLogstore, Group: "siem", Name: name,
		Start: config.CursorStart{Position: config.CursorBegin}, HeartbeatInterval: time.Second, HeartbeatTimeout: 3 * time.Second,
		CheckpointInterval: 0, FetchInterval: 10 * time.Millisecond, StopTimeout: 10 * time.Second,
		Credentials: secret.Credentials{AccessKeyID: testAK, AccessKeySecret: testSecret},
	}
}

func (e *env) checkpoint(t *testing.T) string {
	t.Helper()
	st, err := e.emu.ConsumerGroup(testProject, testLogstore, "siem")
	if err != nil {
		return ""
	}
	return st.Checkpoints[0]
}

// newShipper returns a Shipper to a TCP receiver at addr.
func newShipper(t *testing.T, endpoint, addr string) *ship.Shipper {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"SYSLOG_HOST": host, "SYSLOG_PORT": port, "SYSLOG_FRAMING": "octet-counting",
			"SYSLOG_RETRY_BACKOFF": "20ms", "SYSLOG_WRITE_TIMEOUT": "2s",
			"SLS_ALLOWED_ENDPOINTS": localcloud.AllowedPatterns(endpoint), "SLS_HTTPS": "false"}[k]
	}, config.UseTrigger)
	if err != nil {
		t.Fatal(err)
	}
	s := ship.New(cfg, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { s.Close() })
	return s
}

// collector is a receiver that records the seq of each message.
type collector struct {
	mu   sync.Mutex
	seqs []int
	rcv  *receiver.Receiver
}

func listen(t *testing.T, addr string) *collector {
	t.Helper()
	c := &collector{}
	rcv, err := receiver.Listen("tcp", addr, receiver.Options{Handle: func(m receiver.Message) {
		_, v, ok := strings.Cut(string(m.Raw), "||seq=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil {
			t.Errorf("message without a seq: %q", m.Raw)
			return
		}
		c.mu.Lock()
		c.seqs = append(c.seqs, n)
		c.mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	c.rcv = rcv
	t.Cleanup(func() { rcv.Close() })
	return c
}

func (c *collector) got() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.seqs...)
}

// waitFor polls cond until it holds, failing the test after 20 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not reached within 20s: %s", what)
		}
		time.Sleep(10 * time.Millisecond) // polling a real condition
	}
}

type runResult struct {
	sum Summary
	err error
}

func startRun(e *env, o Options) (stop func() runResult) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan runResult, 1)
	go func() {
		sum, err := Run(ctx, o)
		done <- runResult{sum, err}
	}()
	return func() runResult {
		cancel()
		return <-done
	}
}

// checkSeqs fails unless got is 0..n-1 in order, each once.
func checkSeqs(t *testing.T, got []int, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("receiver got %d logs, want %d", len(got), n)
	}
	for i, s := range got {
		if s != i {
			t.Fatalf("log %d received is seq %d: lost, duplicated or out of order", i, s)
		}
	}
}

// TestRunShipsAndCheckpointsTheEnd consumes a shard into a receiver: every
// log arrives once and in order, the checkpoint reaches the shard's end,
// and the group's timeout is the configured heartbeat timeout.
func TestRunShipsAndCheckpointsTheEnd(t *testing.T) {
	e := newEnv(t)
	e.appendLogs(t, 0, 40, 5)
	rcv := listen(t, "127.0.0.1:0")
	stop := startRun(e, Options{Consume: e.consumeConfig("a"), PullCount: 7, Shipper: newShipper(t, e.endpoint, rcv.rcv.Addr()), Log: e.log})
	end, _ := e.emu.Cursor(testProject, testLogstore, 0, "end")
	waitFor(t, "all 200 logs received and the checkpoint at the end", func() bool {
		return len(rcv.got()) >= 200 && e.checkpoint(t) == end
	})
	res := stop()
	if res.err != nil {
		t.Fatal(res.err)
	}
	checkSeqs(t, rcv.got(), 200)
	if s := res.sum; s.Logs != 200 || s.LogGroups != 40 || s.Reconnects != 0 || s.BatchesRetried != 0 || s.Resent != 0 || len(s.Shards) != 1 || s.Consumer != "a" {
		t.Errorf("summary = %+v", s)
	}
	st, err := e.emu.ConsumerGroup(testProject, testLogstore, "siem")
	if err != nil {
		t.Fatal(err)
	}
	if st.Timeout != 3 {
		t.Errorf("group timeout %d, want SLS_HEARTBEAT_TIMEOUT's 3", st.Timeout)
	}
}

// TestNoCheckpointWithoutDelivery: with the receiver down, deliveries fail,
// the checkpoint does not move and nothing is lost once the receiver is up.
func TestNoCheckpointWithoutDelivery(t *testing.T) {
	e := newEnv(t)
	e.appendLogs(t, 0, 10, 3)
	// Reserve a port, then close it: nothing listens there yet.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	stop := startRun(e, Options{Consume: e.consumeConfig("a"), PullCount: 4, RetryBackoff: 20 * time.Millisecond,
		Shipper: newShipper(t, e.endpoint, addr), Log: e.log})
	waitFor(t, "three failed deliveries", func() bool {
		return strings.Count(e.logs.String(), "syslog delivery failed") >= 3
	})
	if cp := e.checkpoint(t); cp != "" {
		t.Fatalf("checkpoint %s saved while the receiver was down", cp)
	}
	rcv := listen(t, addr)
	end, _ := e.emu.Cursor(testProject, testLogstore, 0, "end")
	waitFor(t, "all 30 logs received and the checkpoint at the end", func() bool {
		return len(rcv.got()) >= 30 && e.checkpoint(t) == end
	})
	res := stop()
	if res.err != nil {
		t.Fatal(res.err)
	}
	checkSeqs(t, rcv.got(), 30)
	if res.sum.Reconnects < 3 || res.sum.BatchesRetried < 3 || res.sum.Logs != 30 {
		t.Errorf("summary = %+v, want at least 3 failures and 30 logs", res.sum)
	}
}

// TestStopSavesTheLastCheckpoint: with checkpoints saved only every hour,
// the clean stop saves the position after the last delivered log.
func TestStopSavesTheLastCheckpoint(t *testing.T) {
	e := newEnv(t)
	e.appendLogs(t, 0, 20, 2)
	rcv := listen(t, "127.0.0.1:0")
	cfg := e.consumeConfig("a")
	cfg.CheckpointInterval = time.Hour
	stop := startRun(e, Options{Consume: cfg, PullCount: 3, Shipper: newShipper(t, e.endpoint, rcv.rcv.Addr()), Log: e.log})
	waitFor(t, "all 40 logs received", func() bool { return len(rcv.got()) >= 40 })
	if cp := e.checkpoint(t); cp != "" {
		t.Fatalf("checkpoint %s saved before the interval", cp)
	}
	if res := stop(); res.err != nil {
		t.Fatal(res.err)
	}
	end, _ := e.emu.Cursor(testProject, testLogstore, 0, "end")
	if cp := e.checkpoint(t); cp != end {
		t.Fatalf("checkpoint after a clean stop = %q, want the shard's end %q", cp, end)
	}
	checkSeqs(t, rcv.got(), 40)
}

// TestStopDeliversNoMore: a stop while a batch waits out its backoff after
// a failed delivery makes no further connection (no redelivery loop faster
// than the backoff), saves no checkpoint past what was delivered, and says
// the batch was left undelivered.
func TestStopDeliversNoMore(t *testing.T) {
	e := newEnv(t)
	e.appendLogs(t, 0, 4, 2)
	// A receiver that accepts and at once closes: every delivery fails,
	// and every attempt is one connection.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	accepted := 0
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			accepted++
			mu.Unlock()
			c.Close()
		}
	}()
	conns := func() int {
		mu.Lock()
		defer mu.Unlock()
		return accepted
	}
	stop := startRun(e, Options{Consume: e.consumeConfig("a"), PullCount: 10, RetryBackoff: time.Minute,
		Shipper: newShipper(t, e.endpoint, ln.Addr().String()), Log: e.log})
	waitFor(t, "a failed delivery", func() bool { return strings.Contains(e.logs.String(), "syslog delivery failed") })
	before := conns()
	res := stop()
	if res.err != nil {
		t.Fatalf("stop: %v", res.err)
	}
	if after := conns(); after != before {
		t.Errorf("%d connections after the stop began (%d before): the stop redelivered", after-before, before)
	}
	if cp := e.checkpoint(t); cp != "" {
		t.Errorf("checkpoint %s saved, nothing was delivered", cp)
	}
	if res.sum.Undelivered != 1 || res.sum.Logs != 0 {
		t.Errorf("summary %+v: want 1 batch undelivered, no log delivered", res.sum)
	}
	if !strings.Contains(e.logs.String(), `"outcome":"stopped"`) || !strings.Contains(e.logs.String(), "1 batch undelivered") {
		t.Errorf("the last line does not say the stop left a batch undelivered:\n%s", e.logs)
	}
}

func TestRunFailsFastNamingTheProblem(t *testing.T) {
	e := newEnv(t)
	rcv := listen(t, "127.0.0.1:0")
	shipper := newShipper(t, e.endpoint, rcv.rcv.Addr())
	for _, tc := range []struct {
		edit func(*config.Consume)
		want string
	}{
		{func(c *config.Consume) { c.Credentials.AccessKeySecret = "wrong-secret" }, "SignatureNotMatch (HTTP 401)"},
		{func(c *config.Consume) { c.Logstore = "missing" }, "LogStoreNotExist (HTTP 404)"},
		{func(c *config.Consume) { c.Project = "nope" }, "ProjectNotExist (HTTP 404)"},
	} {
		cfg := e.consumeConfig("a")
		tc.edit(&cfg)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := Run(ctx, Options{Consume: cfg, Shipper: shipper, Log: e.log})
		early := ctx.Err() == nil
		cancel()
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), testSecret) {
			t.Errorf("error = %v, want one naming %s", err, tc.want)
		}
		if !early {
			t.Errorf("Run waited for its context instead of failing at once")
		}
	}
}

func TestIsTimerEvent(t *testing.T) {
	for payload, want := range map[string]bool{
		`{"triggerTime":"2026-01-02T03:04:05Z","triggerName":"every-minute","payload":"x"}`: true,
		`{"triggerTime":"t","triggerName":"n"}`:                                             true,
		`{"source":{"shardId":0},"triggerTime":"t","triggerName":"n"}`:                      false,
		`{"cursorTime":1,"source":{}}`:                                                      false,
		`not json`:                                                                          false,
	} {
		if got := IsTimerEvent([]byte(payload)); got != want {
			t.Errorf("IsTimerEvent(%s) = %v", payload, got)
		}
	}
}

// TestTimerInvocation runs one timer invocation with a short deadline: it
// ships what is there, stops before the deadline and answers the summary;
// a second invocation reuses the consumer name and resumes.
func TestTimerInvocation(t *testing.T) {
	e := newEnv(t)
	e.appendLogs(t, 0, 10, 5)
	rcv := listen(t, "127.0.0.1:0")
	host, port, _ := net.SplitHostPort(rcv.rcv.Addr())
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"SYSLOG_HOST": host, "SYSLOG_PORT": port, "SHIP_DEADLINE_MARGIN": "500ms",
			"SLS_ALLOWED_ENDPOINTS": localcloud.AllowedPatterns(e.endpoint), "SLS_HTTPS": "false"}[k]
	}, config.UseTrigger)
	if err != nil {
		t.Fatal(err)
	}
	cc := e.consumeConfig("fc")
	cc.StopTimeout = 4 * time.Second
	shipper := ship.New(cfg, e.log)
	defer shipper.Close()
	iv := &Invoker{cfg: cfg, consume: cc, shipper: shipper, log: e.log}
	event := []byte(`{"triggerTime":"2026-01-02T03:04:05Z","triggerName":"consume","payload":""}`)

	invoke := func(timeout time.Duration) (Summary, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		out, err := iv.Invoke(ctx, "req-1", event, cc.Credentials)
		if err != nil {
			return Summary{}, err
		}
		if ctx.Err() != nil {
			t.Errorf("the invocation answered after its deadline")
		}
		var s Summary
		if err := json.Unmarshal(out, &s); err != nil {
			t.Fatalf("answer %s: %v", out, err)
		}
		return s, nil
	}
	s, err := invoke(8 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if s.Logs != 50 || s.Consumer != "fc-0" || s.RequestID != "req-1" {
		t.Fatalf("first invocation: %+v", s)
	}
	e.appendLogs(t, 50, 2, 5)
	if s, err = invoke(8 * time.Second); err != nil || s.Logs != 10 || s.Consumer != "fc-0" {
		t.Fatalf("second invocation: %+v, %v", s, err)
	}
	checkSeqs(t, rcv.got(), 60)

	_, err = invoke(4 * time.Second)
	if err == nil || !strings.Contains(err.Error(), "SHIP_DEADLINE_MARGIN (500ms) + SLS_CONSUMER_STOP_TIMEOUT (4s)") {
		t.Errorf("too short a timeout: %v", err)
	}
}

func TestSDKLoggerMapsLevelsAndRedacts(t *testing.T) {
	var buf bytes.Buffer
	l := sdkLogger{log: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), secrets: []string{"s3cret"}}
	l.Log("level", stringer("warn"), "msg", "send heartbeat error", "error", errors.New("denied for s3cret"))
	l.Log("level", stringer("info"), "heart beat result", "[0]")
	var lines []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	if lines[0]["level"] != "WARN" || lines[0]["msg"] != "consumer library: send heartbeat error" || lines[0]["error"] != "denied for <redacted>" {
		t.Errorf("warn line = %v", lines[0])
	}
	if lines[1]["level"] != "DEBUG" || lines[1]["heart beat result"] != "[0]" {
		t.Errorf("info line = %v", lines[1])
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
