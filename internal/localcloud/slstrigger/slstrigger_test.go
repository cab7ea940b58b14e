package slstrigger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/aliyun/fc-runtime-go-sdk/events"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/localcloud/fcemu"
	"sls2siem/internal/localcloud/slsemu"
)

const (
	project  = "proj"
	logstore = "store"
	akID     = "LTAI-trigger-role"
	akSecret = "trigger-role-secret"
)

// cloud is an SLS emulator with one logstore and a trigger-role client.
type cloud struct {
	srv      *slsemu.Server
	client   *sls.Client
	endpoint string
	t0       time.Time
	mu       sync.Mutex
	topics   map[int][]string // per shard, the topics appended in order
	recv     map[int][]int64  // per shard, their receive times
}

func newCloud(t *testing.T, shards int) *cloud {
	t.Helper()
	srv := slsemu.New()
	srv.AddCredential(slsemu.Credential{AccessKeyID: akID, AccessKeySecret: akSecret})
	if err := srv.CreateLogstore(project, logstore, shards); err != nil {
		t.Fatal(err)
	}
	endpoint, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	addr := strings.TrimPrefix(endpoint, "http://")
	var d net.Dialer
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		// The SDK sends to "<project>.<endpoint>", which does not resolve.
		return d.DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	client, ok := sls.CreateNormalInterface(addr, akID, akSecret, "").(*sls.Client)
	if !ok {
		t.Fatal("CreateNormalInterface did not return *sls.Client")
	}
	client.HTTPClient = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	client.RequestTimeOut = 10 * time.Second
	client.RetryTimeOut = 3 * time.Second
	return &cloud{
		srv: srv, client: client, endpoint: endpoint,
		t0:     time.Unix(1_700_000_000, 0),
		topics: make(map[int][]string),
		recv:   make(map[int][]int64),
	}
}

// add appends a group with a unique topic to shard, received dt after t0.
func (c *cloud) add(t *testing.T, shard int, dt time.Duration) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	topic := fmt.Sprintf("shard%d-group%d", shard, len(c.topics[shard]))
	lg := &sls.LogGroup{
		Topic: proto.String(topic),
		Logs: []*sls.Log{{
			Time:     proto.Uint32(uint32(c.t0.Unix())),
			Contents: []*sls.LogContent{{Key: proto.String("msg"), Value: proto.String(topic)}},
		}},
	}
	recv := c.t0.Add(dt)
	if _, err := c.srv.Append(project, logstore, shard, lg, recv); err != nil {
		t.Fatal(err)
	}
	c.topics[shard] = append(c.topics[shard], topic)
	c.recv[shard] = append(c.recv[shard], recv.Unix())
}

func (c *cloud) cursor(t *testing.T, shard int, from string) string {
	t.Helper()
	cur, err := c.srv.Cursor(project, logstore, shard, from)
	if err != nil {
		t.Fatal(err)
	}
	return cur
}

// pull returns the topics of the groups in [begin, end) of shard, read with
// the SDK.
func (c *cloud) pull(t *testing.T, shard int, begin, end string) []string {
	t.Helper()
	var topics []string
	for cur := begin; cur != end; {
		gl, next, err := c.client.PullLogs(project, logstore, shard, cur, end, 2)
		if err != nil {
			t.Fatalf("PullLogs(%d, %s, %s): %v", shard, cur, end, err)
		}
		if next == cur {
			t.Fatalf("PullLogs(%d, %s, %s) made no progress", shard, cur, end)
		}
		for _, lg := range gl.LogGroups {
			topics = append(topics, lg.GetTopic())
		}
		cur = next
	}
	return topics
}

func (c *cloud) config() Config {
	return Config{
		Client:   c.client,
		Endpoint: c.endpoint,
		Project:  project,
		Logstore: logstore,
		Interval: 10 * time.Millisecond,
	}
}

// call is one invocation the recorder saw.
type call struct {
	raw   []byte
	ev    events.SlsEvent
	retry string // x-fc-retry-count
}

// recorder is an Invoker that records events and fails on demand.
type recorder struct {
	mu    sync.Mutex
	calls []call
	// fail, if set, reports whether the invocation should fail.
	fail func(ev events.SlsEvent, retry string) bool
	// seen, if set, runs after the n-th invocation, of ev, is recorded.
	seen func(n int, ev events.SlsEvent)
}

func (r *recorder) Invoke(ctx context.Context, event []byte) (*fcemu.Result, error) {
	return r.InvokeWithHeaders(ctx, event, nil)
}

func (r *recorder) InvokeWithHeaders(ctx context.Context, event []byte, h http.Header) (*fcemu.Result, error) {
	var ev events.SlsEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, fmt.Errorf("recorder: bad event: %w", err)
	}
	retry := h.Get("x-fc-retry-count")
	r.mu.Lock()
	r.calls = append(r.calls, call{raw: event, ev: ev, retry: retry})
	n := len(r.calls)
	fail, seen := r.fail, r.seen
	r.mu.Unlock()
	if seen != nil {
		defer seen(n, ev)
	}
	id := fmt.Sprintf("req-%d", n)
	if fail != nil && fail(ev, retry) {
		if n%2 == 0 { // alternate infrastructure and function errors
			return nil, fmt.Errorf("invoke %s: %w", id, fcemu.ErrProcessExited)
		}
		return &fcemu.Result{RequestID: id, Err: &fcemu.FunctionError{Type: "TestError", Message: "failed on purpose"}}, nil
	}
	return &fcemu.Result{RequestID: id, Payload: []byte(`"ok"`)}, nil
}

func (r *recorder) snapshot() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func newSim(t *testing.T, cfg Config, inv Invoker) *Simulator {
	t.Helper()
	s, err := New(cfg, inv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func round(t *testing.T, s *Simulator) Report {
	t.Helper()
	rep, err := s.Round(context.Background())
	if err != nil {
		t.Fatalf("Round: %v", err)
	}
	return rep
}

// checkCoverage checks that the successful ranges of each shard chain from
// the shard's begin to its end and hold every appended group once, in order,
// and that cursorTime is the receive time of each range's last group.
func checkCoverage(t *testing.T, c *cloud, calls []call, shards int) {
	t.Helper()
	for shard := range shards {
		want := c.cursor(t, shard, "begin")
		var got []string
		for _, cl := range calls {
			src := cl.ev.Source
			if *src.ShardID != shard {
				continue
			}
			if *src.BeginCursor != want {
				t.Fatalf("shard %d: range begins at %s, want %s (the previous end)", shard, *src.BeginCursor, want)
			}
			topics := c.pull(t, shard, *src.BeginCursor, *src.EndCursor)
			if len(topics) == 0 {
				t.Fatalf("shard %d: empty range invoked", shard)
			}
			got = append(got, topics...)
			if wantTime := c.recv[shard][len(got)-1]; int64(*cl.ev.CursorTime) != wantTime {
				t.Errorf("shard %d: cursorTime = %d, want %d", shard, *cl.ev.CursorTime, wantTime)
			}
			want = *src.EndCursor
		}
		if end := c.cursor(t, shard, "end"); want != end {
			t.Errorf("shard %d: ranges end at %s, shard ends at %s", shard, want, end)
		}
		if !slices.Equal(got, c.topics[shard]) {
			t.Errorf("shard %d: ranges hold %q, want %q", shard, got, c.topics[shard])
		}
	}
}

func TestRangesCoverEveryGroupOnce(t *testing.T) {
	c := newCloud(t, 2)
	rec := &recorder{}
	s := newSim(t, c.config(), rec)

	if rep := round(t, s); len(rep.Attempts) != 0 {
		t.Fatalf("empty logstore: %d attempts", len(rep.Attempts))
	}
	for k := range 3 {
		c.add(t, 0, time.Duration(k)*time.Second)
	}
	c.add(t, 1, 0)
	c.add(t, 1, 5*time.Second)
	rep := round(t, s)
	if rep.RangesOK != 2 || len(rep.Attempts) != 2 || rep.Attempts[0].Shard != 0 || rep.Attempts[1].Shard != 1 {
		t.Fatalf("round 2 = %+v, want one range per shard, shard 0 first", rep)
	}
	for k := 3; k < 5; k++ {
		c.add(t, 0, time.Duration(k)*time.Second)
	}
	rep = round(t, s)
	if rep.RangesOK != 1 || len(rep.Attempts) != 1 || rep.Attempts[0].Shard != 0 {
		t.Fatalf("round 3 = %+v, want one range on shard 0", rep)
	}
	if a := rep.Attempts[0]; a.RequestID != "req-3" || string(a.Payload) != `"ok"` || a.Err != "" || a.Try != 0 {
		t.Errorf("attempt = %+v", a)
	}
	if rep := round(t, s); len(rep.Attempts) != 0 {
		t.Fatalf("no new data: %d attempts", len(rep.Attempts))
	}
	calls := rec.snapshot()
	if len(calls) != 3 {
		t.Fatalf("%d invocations, want 3", len(calls))
	}
	checkCoverage(t, c, calls, 2)
}

func TestEventJSON(t *testing.T) {
	c := newCloud(t, 1)
	c.add(t, 0, 0)
	rec := &recorder{}
	cfg := c.config()
	cfg.JobName = "job-1"
	cfg.FunctionParameter = json.RawMessage(`{"syslog": {"host": "h"}}`)
	s := newSim(t, cfg, rec)
	rep := round(t, s)
	calls := rec.snapshot()
	if len(calls) != 1 {
		t.Fatalf("%d invocations, want 1", len(calls))
	}
	raw := calls[0].raw
	keyRE := regexp.MustCompile(`"(\w+)":`)
	var keys []string
	for _, m := range keyRE.FindAllSubmatch(raw, -1) {
		keys = append(keys, string(m[1]))
	}
	wantKeys := []string{"cursorTime", "jobName", "parameter", "syslog", "host", "source",
		"beginCursor", "endCursor", "endpoint", "logstoreName", "projectName", "shardId", "taskId"}
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("event keys = %q, want %q\n%s", keys, wantKeys, raw)
	}
	var ev struct {
		CursorTime int64
		JobName    string
		Parameter  map[string]map[string]string
		Source     map[string]any
		TaskID     string
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	wantSource := map[string]any{
		"beginCursor":  c.cursor(t, 0, "begin"),
		"endCursor":    c.cursor(t, 0, "end"),
		"endpoint":     c.endpoint,
		"logstoreName": logstore,
		"projectName":  project,
		"shardId":      float64(0),
	}
	if !reflect.DeepEqual(ev.Source, wantSource) {
		t.Errorf("source = %v, want %v", ev.Source, wantSource)
	}
	if ev.CursorTime != c.t0.Unix() || ev.JobName != "job-1" || ev.Parameter["syslog"]["host"] != "h" {
		t.Errorf("event = %+v", ev)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(ev.TaskID) {
		t.Errorf("taskId = %q", ev.TaskID)
	}
	if a := rep.Attempts[0]; a.TaskID != ev.TaskID || a.BeginCursor != wantSource["beginCursor"] || a.EndCursor != wantSource["endCursor"] {
		t.Errorf("attempt = %+v does not match the event", a)
	}
	if calls[0].retry != "0" {
		t.Errorf("x-fc-retry-count = %q, want 0", calls[0].retry)
	}
}

func TestRetriesThenMoveOn(t *testing.T) {
	c := newCloud(t, 2)
	c.add(t, 0, 0)
	c.add(t, 1, 0)
	firstEnd0 := c.cursor(t, 0, "end")
	rec := &recorder{fail: func(ev events.SlsEvent, retry string) bool {
		switch *ev.Source.ShardID {
		case 0: // the first range of shard 0 always fails
			return *ev.Source.EndCursor == firstEnd0
		default: // shard 1 fails once
			return retry == "0"
		}
	}}
	cfg := c.config()
	cfg.MaxRetryTime = 2
	cfg.RetryDelay = time.Millisecond
	s := newSim(t, cfg, rec)
	rep := round(t, s)

	var shard0, shard1 []Attempt
	for _, a := range rep.Attempts {
		if a.Shard == 0 {
			shard0 = append(shard0, a)
		} else {
			shard1 = append(shard1, a)
		}
	}
	if len(shard0) != 3 {
		t.Fatalf("shard 0: %d attempts, want 1 + MaxRetryTime = 3", len(shard0))
	}
	for k, a := range shard0 {
		if a.Try != k || a.TaskID != shard0[0].TaskID || a.Err == "" || a.EndCursor != firstEnd0 {
			t.Errorf("shard 0 attempt %d = %+v, want try %d, one task id, an error", k, a, k)
		}
	}
	if len(shard1) != 2 || shard1[0].Err == "" || shard1[1].Err != "" || shard1[1].Try != 1 ||
		shard1[0].TaskID != shard1[1].TaskID {
		t.Errorf("shard 1 attempts = %+v, want a failure then a success of one task", shard1)
	}
	if rep.RangesOK != 1 || rep.RangesFailed != 1 || len(rep.Failed) != 1 ||
		!reflect.DeepEqual(rep.Failed[0], shard0[2]) {
		t.Errorf("report: ok %d failed %d %+v; want 1, 1, the last shard 0 attempt", rep.RangesOK, rep.RangesFailed, rep.Failed)
	}
	var retries []string
	for _, cl := range rec.snapshot() {
		if *cl.ev.Source.ShardID == 0 {
			retries = append(retries, cl.retry)
		}
	}
	if !slices.Equal(retries, []string{"0", "1", "2"}) {
		t.Errorf("shard 0 x-fc-retry-count = %q, want 0 1 2", retries)
	}

	// The given-up range is not re-sent: shard 0 moves on.
	c.add(t, 0, time.Second)
	rep = round(t, s)
	if len(rep.Attempts) != 1 || rep.Attempts[0].BeginCursor != firstEnd0 || rep.Attempts[0].Err != "" {
		t.Fatalf("next round = %+v, want one range from %s", rep.Attempts, firstEnd0)
	}
	if rep := round(t, s); len(rep.Attempts) != 0 {
		t.Errorf("caught up: %d attempts", len(rep.Attempts))
	}
}

func TestNoRetries(t *testing.T) {
	c := newCloud(t, 1)
	c.add(t, 0, 0)
	rec := &recorder{fail: func(events.SlsEvent, string) bool { return true }}
	s := newSim(t, c.config(), rec)
	rep := round(t, s)
	if len(rep.Attempts) != 1 || rep.RangesFailed != 1 || len(rep.Failed) != 1 {
		t.Errorf("MaxRetryTime 0: %+v, want one attempt given up", rep)
	}
}

func TestStartCursor(t *testing.T) {
	t.Run("end", func(t *testing.T) {
		c := newCloud(t, 1)
		c.add(t, 0, 0)
		c.add(t, 0, time.Second)
		rec := &recorder{}
		cfg := c.config()
		cfg.StartCursor = "end"
		s := newSim(t, cfg, rec)
		if rep := round(t, s); len(rep.Attempts) != 0 {
			t.Fatalf("old data invoked: %+v", rep)
		}
		c.add(t, 0, 2*time.Second)
		round(t, s)
		calls := rec.snapshot()
		if len(calls) != 1 {
			t.Fatalf("%d invocations, want 1", len(calls))
		}
		src := calls[0].ev.Source
		if got := c.pull(t, 0, *src.BeginCursor, *src.EndCursor); !slices.Equal(got, c.topics[0][2:]) {
			t.Errorf("range holds %q, want only the new group", got)
		}
	})
	t.Run("time", func(t *testing.T) {
		c := newCloud(t, 1)
		for k := range 3 {
			c.add(t, 0, time.Duration(k)*10*time.Second)
		}
		rec := &recorder{}
		cfg := c.config()
		cfg.StartCursor = fmt.Sprint(c.t0.Unix() + 5)
		s := newSim(t, cfg, rec)
		round(t, s)
		calls := rec.snapshot()
		if len(calls) != 1 {
			t.Fatalf("%d invocations, want 1", len(calls))
		}
		src := calls[0].ev.Source
		if got := c.pull(t, 0, *src.BeginCursor, *src.EndCursor); !slices.Equal(got, c.topics[0][1:]) {
			t.Errorf("range holds %q, want the groups received after the start time", got)
		}
	})
}

func TestRunUntilCaughtUp(t *testing.T) {
	c := newCloud(t, 2)
	c.add(t, 0, 0)
	c.add(t, 1, 0)
	rec := &recorder{}
	// New data arrives while the first invocation runs, so a second round
	// has work; the third finds none.
	var once sync.Once
	rec.seen = func(_ int, ev events.SlsEvent) {
		// The shard's end cursor was read before this invocation.
		once.Do(func() { c.add(t, *ev.Source.ShardID, time.Second) })
	}
	s := newSim(t, c.config(), rec)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep, err := s.RunUntilCaughtUp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.RangesOK != 3 || len(rep.Attempts) != 3 || rep.RangesFailed != 0 {
		t.Errorf("report = %+v, want 3 ranges over 2 rounds", rep)
	}
	checkCoverage(t, c, rec.snapshot(), 2)
}

func TestRun(t *testing.T) {
	c := newCloud(t, 1)
	c.add(t, 0, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rec := &recorder{}
	rec.seen = func(n int, _ events.SlsEvent) {
		if n == 1 {
			c.add(t, 0, time.Second) // picked up by a later round
		} else {
			cancel()
		}
	}
	s := newSim(t, c.config(), rec)
	rep, err := s.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.RangesOK != 2 {
		t.Errorf("report = %+v, want 2 ranges", rep)
	}
	checkCoverage(t, c, rec.snapshot(), 1)
}

func TestCancelKeepsRange(t *testing.T) {
	c := newCloud(t, 1)
	c.add(t, 0, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var failing atomic.Bool
	failing.Store(true)
	rec := &recorder{fail: func(events.SlsEvent, string) bool {
		if failing.Load() {
			cancel() // ends the round during the failed attempt
			return true
		}
		return false
	}}
	cfg := c.config()
	cfg.MaxRetryTime = 5
	cfg.RetryDelay = time.Hour
	s := newSim(t, cfg, rec)
	if _, err := s.Round(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Round = %v, want context.Canceled", err)
	}
	failing.Store(false)
	rep := round(t, s)
	if len(rep.Attempts) != 1 || rep.Attempts[0].BeginCursor != c.cursor(t, 0, "begin") {
		t.Errorf("after cancel: %+v, want the interrupted range again", rep.Attempts)
	}
}

func TestNewValidates(t *testing.T) {
	c := newCloud(t, 1)
	for _, mod := range []func(*Config){
		func(cfg *Config) { cfg.Client = nil },
		func(cfg *Config) { cfg.Endpoint = "" },
		func(cfg *Config) { cfg.MaxRetryTime = 101 },
		func(cfg *Config) { cfg.MaxRetryTime = -1 },
		func(cfg *Config) { cfg.StartCursor = "yesterday" },
		func(cfg *Config) { cfg.FunctionParameter = json.RawMessage(`{`) },
	} {
		cfg := c.config()
		mod(&cfg)
		if _, err := New(cfg, &recorder{}); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

// The FC emulator's instance is an Invoker that takes the retry header.
var (
	_ Invoker       = (*fcemu.Instance)(nil)
	_ headerInvoker = (*fcemu.Instance)(nil)
)
