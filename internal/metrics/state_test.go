package metrics_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"sls2siem/internal/consume"
	"sls2siem/internal/delivery"
	"sls2siem/internal/localcloud/scrape"
	"sls2siem/internal/metrics"
)

// serve answers one GET on the handler.
func serve(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

// TestReleasedShardLeavesNoGauge: a released shard's gauges go and stay
// gone, even when the library saves its last checkpoint or a lag probe
// reports it afterwards; its counters stay.
func TestReleasedShardLeavesNoGauge(t *testing.T) {
	m := metrics.New(metrics.Options{Version: "v", Project: "p", Logstore: "l", HeartbeatTimeout: time.Minute, StuckAfter: time.Minute})
	h := m.Handler(slog.New(slog.DiscardHandler))
	if code, body := serve(t, h, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "no heartbeat") {
		t.Errorf("/readyz before any heartbeat = %d %s", code, body)
	}
	m.Heartbeat(nil, errors.New("heartbeat: SLS answered HTTP 500"))
	m.Heartbeat([]int{1, 0}, nil)
	m.BatchStarted(1, false)
	m.BatchDelivered(1, consume.Delivery{Counters: delivery.Counters{LogGroups: 2, Logs: 7, Bytes: 700, Truncated: 1}, Duration: 30 * time.Millisecond})
	m.BatchStarted(1, true)
	m.BatchFailed(1, consume.Failure{Kind: consume.FailWrite, Written: delivery.Counters{Logs: 3, Resent: 2}})
	m.CheckpointSaved(1)
	m.Lag(1, consume.Lag{OldestWaiting: time.Now().Add(-time.Minute), LogGroups: 4, LogGroupsKnown: true})
	m.ShardReleased(1)
	m.CheckpointSaved(1)
	m.Lag(1, consume.Lag{CaughtUp: true})

	code, text := serve(t, h, "/metrics")
	s, err := scrape.Parse(text)
	if code != 200 || err != nil {
		t.Fatalf("/metrics = %d, %v", code, err)
	}
	for name, want := range map[string]float64{
		"sls2siem_shipped_logs_total": 7, "sls2siem_shipped_bytes_total": 700, "sls2siem_shipped_log_groups_total": 2,
		"sls2siem_truncated_logs_total": 1, "sls2siem_resent_logs_total": 2, "sls2siem_send_retries_total": 1,
		"sls2siem_checkpoints_saved_total": 2,
	} {
		if v, ok := s.Value(name, "shard", "1"); !ok || v != want {
			t.Errorf("%s{shard=1} = %v (%v), want %v", name, v, ok, want)
		}
	}
	if v, _ := s.Value("sls2siem_send_failures_total", "shard", "1", "kind", "write"); v != 1 {
		t.Errorf("write failures = %v", v)
	}
	for _, gauge := range []string{"sls2siem_shard_lag_seconds", "sls2siem_shard_lag_log_groups", "sls2siem_checkpoint_age_seconds", "sls2siem_shard_stuck"} {
		if got := s.Find(gauge, "shard", "1"); len(got) != 0 {
			t.Errorf("%s of the released shard still exported: %v", gauge, got)
		}
	}
	if v, ok := s.Value("sls2siem_shard_stuck", "shard", "0"); !ok || v != 0 {
		t.Errorf("the held shard 0 has no stuck gauge: %v %v", v, ok)
	}
	if v, _ := s.Value("sls2siem_consumer_heartbeat_failures_total"); v != 1 {
		t.Errorf("heartbeat failures = %v, want 1", v)
	}
	if v, _ := s.Value("sls2siem_batches_in_flight"); v != 0 {
		t.Errorf("batches in flight = %v after every batch ended", v)
	}
	if v, _ := s.Value("sls2siem_shards_held"); v != 2 {
		t.Errorf("shards held = %v, want the heartbeat's 2", v)
	}
	if code, body := serve(t, h, "/readyz"); code != 200 || !strings.Contains(body, `"shards":[0,1]`) {
		t.Errorf("/readyz = %d %s", code, body)
	}
	if code, body := serve(t, h, "/healthz"); code != 200 || strings.Contains(body, `"shard":1`) {
		t.Errorf("/healthz = %d %s, want healthy and without the released shard", code, body)
	}
	m.Stopping()
	if code, _ := serve(t, h, "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz while stopping = %d", code)
	}
	if code, _ := serve(t, h, "/"); code != 200 {
		t.Errorf("/ = %d", code)
	}
}
