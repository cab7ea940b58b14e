package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/config"
	"sls2siem/internal/consume"
	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/receiver"
	"sls2siem/internal/localcloud/scrape"
	"sls2siem/internal/localcloud/slsemu"
	"sls2siem/internal/metrics"
	"sls2siem/internal/secret"
	"sls2siem/internal/ship"
)

// The tests run the real consumer (the SDK's consumer library) in process
// against the SLS emulator, on one-shard logstores (see
// internal/consume's tests), into the local cloud's syslog receiver, and
// read what the metrics server serves over HTTP.

const (
	project  = "proj"
	logstore = "store"
	testAK   = "LTAI-metrics-test"
	secretV  = "metrics-test-secret"
)

type env struct {
	emu      *slsemu.Server
	endpoint string
	logs     *syncBuffer
	log      *slog.Logger
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{emu: slsemu.New(), logs: &syncBuffer{}}
	e.emu.AddCredential(slsemu.Credential{AccessKeyID: testAK, AccessKeySecret: secretV})
	var err error
	if e.endpoint, err = e.emu.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.emu.Close() })
	if err := e.emu.CreateLogstore(project, logstore, 1); err != nil {
		t.Fatal(err)
	}
	e.log = slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if strings.Contains(e.logs.String(), secretV) {
			t.Errorf("the secret reached the consumer's log")
		}
		if t.Failed() {
			t.Logf("consumer log:\n%s", e.logs)
		}
	})
	return e
}

// appendGroups adds groups of perGroup logs received at at; each log is
// "seq=<n>" from first on.
func (e *env) appendGroups(t *testing.T, first, groups, perGroup int, at time.Time) {
	t.Helper()
	n := first
	for range groups {
		lg := &sls.LogGroup{Topic: proto.String("t"), Source: proto.String("10.0.0.1")}
		for range perGroup {
			lg.Logs = append(lg.Logs, &sls.Log{Time: proto.Uint32(1700000000), Contents: []*sls.LogContent{
				{Key: proto.String("user"), Value: proto.String("alice")},
				{Key: proto.String("seq"), Value: proto.String(strconv.Itoa(n))},
			}})
			n++
		}
		if _, err := e.emu.Append(project, logstore, 0, lg, at); err != nil {
			t.Fatal(err)
		}
	}
}

func (e *env) consumeConfig() config.Consume {
	return config.Consume{
		Endpoint: e.endpoint, Project: project, Logstore: logstore, Group: "siem", Name: "metrics-a",
		Start: config.CursorStart{Position: config.CursorBegin}, HeartbeatInterval: time.Second, HeartbeatTimeout: 3 * time.Second,
		CheckpointInterval: 0, FetchInterval: 10 * time.Millisecond, StopTimeout: 10 * time.Second,
		Credentials: secret.Credentials{AccessKeyID: testAK, AccessKeySecret: secretV},
	}
}

func (e *env) atEnd(t *testing.T) bool {
	end, err := e.emu.Cursor(project, logstore, 0, "end")
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.emu.ConsumerGroup(project, logstore, "siem")
	return err == nil && st.Checkpoints[0] == end
}

func newShipper(t *testing.T, endpoint, addr string) *ship.Shipper {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"SYSLOG_HOST": host, "SYSLOG_PORT": port, "SYSLOG_FRAMING": "octet-counting",
			"SYSLOG_WRITE_TIMEOUT": "2s", "SLS_ALLOWED_ENDPOINTS": localcloud.AllowedPatterns(endpoint), "SLS_HTTPS": "false"}[k]
	}, config.UseTrigger)
	if err != nil {
		t.Fatal(err)
	}
	s := ship.New(cfg, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { s.Close() })
	return s
}

// sink is a receiver that keeps every message.
type sink struct {
	mu   sync.Mutex
	msgs [][]byte
	rcv  *receiver.Receiver
}

func listen(t *testing.T, addr string) *sink {
	t.Helper()
	s := &sink{}
	rcv, err := receiver.Listen("tcp", addr, receiver.Options{Handle: func(m receiver.Message) {
		s.mu.Lock()
		s.msgs = append(s.msgs, m.Raw)
		s.mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	s.rcv = rcv
	t.Cleanup(func() { rcv.Close() })
	return s
}

// count returns how many messages arrived and their bytes.
func (s *sink) count() (n int, bytes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.msgs {
		bytes += len(m)
	}
	return len(s.msgs), bytes
}

// daemon is a consumer with its metrics served on a loopback port.
type daemon struct {
	m    *metrics.Metrics
	srv  *metrics.Server
	base string
	stop func() (consume.Summary, error)
}

func start(t *testing.T, e *env, shipper *ship.Shipper, stuckAfter time.Duration, edit ...func(*metrics.Options)) *daemon {
	t.Helper()
	c := e.consumeConfig()
	opts := metrics.Options{Version: "test-1.2.3", Project: c.Project, Logstore: c.Logstore, Group: c.Group,
		Consumer: c.Name, HeartbeatTimeout: c.HeartbeatTimeout, StuckAfter: stuckAfter}
	for _, f := range edit {
		f(&opts)
	}
	m := metrics.New(opts)
	srv, err := metrics.Listen("127.0.0.1:0", m.Handler(e.log), e.log, metrics.ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		sum consume.Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		sum, err := consume.Run(ctx, consume.Options{Consume: c, PullCount: 3, RetryBackoff: 20 * time.Millisecond,
			Shipper: shipper, Log: e.log, Observer: m})
		done <- result{sum, err}
	}()
	d := &daemon{m: m, srv: srv, base: "http://" + srv.Addr()}
	var once sync.Once
	var res result
	d.stop = func() (consume.Summary, error) {
		once.Do(func() { cancel(); res = <-done })
		return res.sum, res.err
	}
	t.Cleanup(func() { d.stop() })
	return d
}

func (d *daemon) scrape(t *testing.T) (scrape.Samples, string) {
	t.Helper()
	s, text, err := scrape.Get(context.Background(), d.base+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	return s, text
}

func (d *daemon) value(t *testing.T, name string, kv ...string) float64 {
	t.Helper()
	s, _ := d.scrape(t)
	v, ok := s.Value(name, kv...)
	if !ok {
		t.Fatalf("no single sample %s%v in the scrape", name, kv)
	}
	return v
}

// get returns the status and body of a health endpoint.
func (d *daemon) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(d.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// waitFor polls cond until it holds, failing after 30 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not reached within 30s: %s", what)
		}
		time.Sleep(20 * time.Millisecond) // polling a real condition
	}
}

// lint checks the exposition with promtool: skipped when it is missing,
// unless the run requires the test tools.
func lint(t *testing.T, text string) {
	t.Helper()
	out, err := scrape.Lint(context.Background(), text)
	if errors.Is(err, scrape.ErrNoPromtool) {
		if os.Getenv("CI") != "" || os.Getenv("SLS2SIEM_REQUIRE_RECEIVERS") == "1" {
			t.Fatal(err)
		}
		t.Log("skipping the promtool check: ", err)
		return
	}
	if err != nil {
		t.Fatalf("%v\nexposition:\n%s", err, text)
	}
	if strings.TrimSpace(out) != "" {
		t.Errorf("promtool check metrics: %s", out)
	}
}

// TestMetricsCountAShippedSample ships 40 groups of 5 logs and checks
// every counter against what the receiver got, the caught-up gauges, the
// health endpoints, and the exposition with promtool.
func TestMetricsCountAShippedSample(t *testing.T) {
	e := newEnv(t)
	e.appendGroups(t, 0, 40, 5, time.Now())
	rcv := listen(t, "127.0.0.1:0")
	d := start(t, e, newShipper(t, e.endpoint, rcv.rcv.Addr()), time.Minute)
	waitFor(t, "200 logs received, the checkpoint at the end and the shard seen caught up", func() bool {
		n, _ := rcv.count()
		if n < 200 || !e.atEnd(t) {
			return false
		}
		s, _ := d.scrape(t)
		lag, ok := s.Value("sls2siem_shard_lag_seconds", "shard", "0")
		return ok && lag == 0
	})
	n, size := rcv.count()
	s, text := d.scrape(t)
	lint(t, text)
	want := map[string]float64{
		"sls2siem_shipped_logs_total":       200,
		"sls2siem_shipped_log_groups_total": 40,
		"sls2siem_shipped_bytes_total":      float64(size),
		"sls2siem_truncated_logs_total":     0,
		"sls2siem_dropped_logs_total":       0,
		"sls2siem_resent_logs_total":        0,
		"sls2siem_send_retries_total":       0,
		"sls2siem_shard_lag_log_groups":     0,
		"sls2siem_shard_stuck":              0,
	}
	for name, v := range want {
		got, ok := s.Value(name, "project", project, "logstore", logstore, "shard", "0")
		if !ok || got != v {
			t.Errorf("%s{shard=\"0\"} = %v (found %v), want %v", name, got, ok, v)
		}
	}
	if n != 200 {
		t.Errorf("receiver got %d messages, want 200", n)
	}
	if f := s.Sum("sls2siem_send_failures_total"); f != 0 || len(s.Find("sls2siem_send_failures_total", "shard", "0")) != len(consume.FailureKinds) {
		t.Errorf("failures: %v in total over %d series, want 0 over one series per kind", f, len(s.Find("sls2siem_send_failures_total")))
	}
	if v, _ := s.Value("sls2siem_checkpoints_saved_total", "shard", "0"); v < 1 {
		t.Errorf("checkpoints saved = %v, want at least 1", v)
	}
	if v, ok := s.Value("sls2siem_checkpoint_age_seconds", "shard", "0"); !ok || v < 0 || v > 30 {
		t.Errorf("checkpoint age = %v (%v), want a few seconds", v, ok)
	}
	batches, _ := s.Value("sls2siem_batch_ship_duration_seconds_count")
	if batches < 14 { // 40 groups, at most 3 per pull
		t.Errorf("batch latency histogram counted %v batches, want at least 14", batches)
	}
	for name, v := range map[string]float64{"sls2siem_shards_held": 1, "sls2siem_consumer_ready": 1, "sls2siem_batches_in_flight": 0} {
		if got, ok := s.Value(name, "project", project, "logstore", logstore); !ok || got != v {
			t.Errorf("%s = %v (found %v), want %v", name, got, ok, v)
		}
	}
	if v, ok := s.Value("sls2siem_build_info", "version", "test-1.2.3"); !ok || v != 1 {
		t.Errorf("build info: %v %v", v, ok)
	}
	if v, ok := s.Value("sls2siem_consumer_info", "consumer_group", "siem", "consumer", "metrics-a"); !ok || v != 1 {
		t.Errorf("consumer info: %v %v", v, ok)
	}
	if code, body := d.get(t, "/healthz"); code != 200 || !strings.Contains(body, `"status":"ok"`) {
		t.Errorf("/healthz = %d %s", code, body)
	}
	if code, body := d.get(t, "/readyz"); code != 200 || !strings.Contains(body, `"shards":[0]`) {
		t.Errorf("/readyz = %d %s", code, body)
	}

	sum, err := d.stop()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := d.scrape(t); sum.Logs != 200 || sum.Bytes != int64(size) {
		t.Errorf("run summary %+v disagrees with the receiver (%d bytes)", sum, size)
	} else if v, _ := got.Value("sls2siem_shipped_bytes_total", "shard", "0"); v != float64(sum.Bytes) {
		t.Errorf("bytes metric %v, summary %d", v, sum.Bytes)
	}
	if code, body := d.get(t, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "stopping") {
		t.Errorf("/readyz after the stop = %d %s", code, body)
	}
}

// TestMetricsUnderAStuckReceiver: with nothing listening, every delivery
// fails to connect; the failures and retries are counted, the lag is the
// age of the emulator's receive time, /healthz turns unhealthy after
// SHIP_STUCK_AFTER, and everything recovers once the receiver is up.
func TestMetricsUnderAStuckReceiver(t *testing.T) {
	e := newEnv(t)
	received := time.Now().Add(-time.Hour).Truncate(time.Second)
	e.appendGroups(t, 0, 12, 4, received)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there yet
	d := start(t, e, newShipper(t, e.endpoint, addr), 2*time.Second)

	code, body := 0, ""
	waitFor(t, "/healthz reporting the shard stuck", func() bool {
		code, body = d.get(t, "/healthz")
		return code == http.StatusServiceUnavailable
	})
	var h metrics.Health
	if err := json.Unmarshal([]byte(body), &h); err != nil || h.Status != "stuck" || len(h.Shards) != 1 ||
		!h.Shards[0].Stuck || h.Shards[0].LastFailure != consume.FailRefused || h.Shards[0].SinceProgressSeconds < 2 {
		t.Errorf("/healthz = %s (%v)", body, err)
	}
	waitFor(t, "the lag probed", func() bool {
		s, _ := d.scrape(t)
		_, ok := s.Value("sls2siem_shard_lag_log_groups", "shard", "0")
		return ok
	})
	s, text := d.scrape(t)
	lint(t, text)
	lag, _ := s.Value("sls2siem_shard_lag_seconds", "shard", "0")
	// The lag is at most now minus the receive time, and not older than a
	// few probe intervals (heartbeats of 1 s; a loaded CI machine is slow).
	if wantLag := time.Since(received).Seconds(); lag < wantLag-5 || lag > wantLag+1 {
		t.Errorf("lag %.1fs, want now minus the emulator's receive time: %.1fs", lag, wantLag)
	}
	if v, _ := s.Value("sls2siem_shard_lag_log_groups", "shard", "0"); v != 12 {
		t.Errorf("lag in log groups = %v, want all 12", v)
	}
	if v, _ := s.Value("sls2siem_shard_stuck", "shard", "0"); v != 1 {
		t.Errorf("stuck gauge = %v, want 1", v)
	}
	refused, _ := s.Value("sls2siem_send_failures_total", "shard", "0", "kind", consume.FailRefused)
	if refused < 2 || s.Sum("sls2siem_send_failures_total") != refused {
		t.Errorf("failures: refused %v of %v, want every failure a refused connection", refused, s.Sum("sls2siem_send_failures_total"))
	}
	if v, _ := s.Value("sls2siem_shipped_logs_total", "shard", "0"); v != 0 {
		t.Errorf("logs shipped while the receiver was down: %v", v)
	}
	if code, _ := d.get(t, "/readyz"); code != 200 {
		t.Errorf("/readyz = %d while the consumer holds its heartbeat", code)
	}

	rcv := listen(t, addr)
	waitFor(t, "48 logs received and the checkpoint at the end", func() bool {
		n, _ := rcv.count()
		return n >= 48 && e.atEnd(t)
	})
	waitFor(t, "/healthz healthy again", func() bool {
		code, _ := d.get(t, "/healthz")
		return code == 200
	})
	sum, err := d.stop()
	if err != nil {
		t.Fatal(err)
	}
	s, _ = d.scrape(t)
	failures := s.Sum("sls2siem_send_failures_total", "shard", "0")
	logged := float64(strings.Count(e.logs.String(), "syslog delivery failed"))
	retries, _ := s.Value("sls2siem_send_retries_total", "shard", "0")
	if failures != logged || retries != failures || float64(sum.Reconnects) != failures || float64(sum.BatchesRetried) != retries {
		t.Errorf("failures %v, logged %v, retries %v, summary reconnects %d and batches retried %d: want all equal",
			failures, logged, retries, sum.Reconnects, sum.BatchesRetried)
	}
	n, size := rcv.count()
	if v, _ := s.Value("sls2siem_shipped_logs_total", "shard", "0"); v != 48 || n != 48 {
		t.Errorf("logs shipped %v, received %d, want 48", v, n)
	}
	if v, _ := s.Value("sls2siem_shipped_bytes_total", "shard", "0"); v != float64(size) {
		t.Errorf("bytes shipped %v, received %d", v, size)
	}
	if v, _ := s.Value("sls2siem_shard_lag_seconds", "shard", "0"); v != 0 {
		t.Errorf("lag after catching up = %v, want 0", v)
	}
}

// TestListenRefusesAnAddressInUse: the metrics server fails at once on an
// address another socket holds.
func TestListenRefusesAnAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	m := metrics.New(metrics.Options{Version: "v", Project: project, Logstore: logstore, HeartbeatTimeout: time.Second, StuckAfter: time.Second})
	_, err = metrics.Listen(ln.Addr().String(), m.Handler(slog.New(slog.DiscardHandler)), slog.New(slog.DiscardHandler), metrics.ServeOptions{})
	if err == nil || !strings.Contains(err.Error(), "address already in use") || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Errorf("listen on a taken address: %v", err)
	}
}

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
