package metrics_test

import (
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"sls2siem/internal/config"
	"sls2siem/internal/consume"
	"sls2siem/internal/localcloud"
	"sls2siem/internal/metrics"
	"sls2siem/internal/ship"
)

// newShipperTo returns a Shipper to the TCP receivers at addrs (failover,
// a probe every 50 ms, fail-back after two).
func newShipperTo(t *testing.T, endpoint string, addrs ...string) *ship.Shipper {
	t.Helper()
	var hosts, ports []string
	for _, a := range addrs {
		h, p, _ := net.SplitHostPort(a)
		hosts, ports = append(hosts, h), append(ports, p)
	}
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"SYSLOG_HOST": strings.Join(hosts, ","), "SYSLOG_PORT": strings.Join(ports, ","),
			"SYSLOG_FRAMING": "octet-counting", "SYSLOG_WRITE_TIMEOUT": "2s", "SYSLOG_PROBE_INTERVAL": "50ms",
			"SYSLOG_FAILBACK_PROBES": "2", "SLS_ALLOWED_ENDPOINTS": localcloud.AllowedPatterns(endpoint), "SLS_HTTPS": "false"}[k]
	}, config.UseTrigger)
	if err != nil {
		t.Fatal(err)
	}
	s := ship.New(cfg, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { s.Close() })
	return s
}

// closedAddr is a loopback address where nothing listens (yet).
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestMetricsPerReceiver: the consumer ships to two receivers (failover),
// the first down from the start: the receiver metrics say where the logs
// went and why, /healthz names the shard's receiver, /readyz lists their
// health; the first one comes up, answers its probes and takes the logs
// back; with both down /readyz fails, saying why.
func TestMetricsPerReceiver(t *testing.T) {
	e := newEnv(t)
	e.appendGroups(t, 0, 20, 5, time.Now())
	a := closedAddr(t)
	b := listen(t, "127.0.0.1:0")
	shipper := newShipperTo(t, e.endpoint, a, b.rcv.Addr())
	d := start(t, e, shipper, time.Minute, func(o *metrics.Options) { o.Receivers = shipper.Receivers().Status })
	waitFor(t, "100 logs on the second receiver and the checkpoint at the end", func() bool {
		n, _ := b.count()
		return n >= 100 && e.atEnd(t)
	})
	s, text := d.scrape(t)
	lint(t, text)
	bAddr := b.rcv.Addr()
	_, bBytes := b.count()
	for _, c := range []struct {
		name string
		kv   []string
		want float64
	}{
		{"sls2siem_receiver_up", []string{"receiver", a}, 0},
		{"sls2siem_receiver_up", []string{"receiver", bAddr}, 1},
		{"sls2siem_receiver_logs_total", []string{"receiver", a}, 0},
		{"sls2siem_receiver_logs_total", []string{"receiver", bAddr}, 100},
		{"sls2siem_receiver_bytes_total", []string{"receiver", bAddr}, float64(bBytes)},
		{"sls2siem_receiver_send_failures_total", []string{"receiver", a, "kind", consume.FailRefused}, 1},
		{"sls2siem_receiver_send_failures_total", []string{"receiver", bAddr, "kind", consume.FailRefused}, 0},
		{"sls2siem_receiver_switches_total", []string{"receiver", bAddr}, 1},
		{"sls2siem_consumer_ready", nil, 1},
	} {
		if v, ok := s.Value(c.name, c.kv...); !ok || v != c.want {
			t.Errorf("%s%v = %v (%v), want %v", c.name, c.kv, v, ok, c.want)
		}
	}
	code, body := d.get(t, "/healthz")
	var h metrics.Health
	if err := json.Unmarshal([]byte(body), &h); err != nil || code != 200 || h.Consumer != "metrics-a" || len(h.Shards) != 1 || h.Shards[0].Receiver != bAddr {
		t.Errorf("/healthz = %d %s", code, body)
	}
	code, body = d.get(t, "/readyz")
	var rd metrics.Readiness
	if err := json.Unmarshal([]byte(body), &rd); err != nil || code != 200 || len(rd.Receivers) != 2 || rd.Receivers[0].Up ||
		rd.Receivers[0].LastFailure != consume.FailRefused || !rd.Receivers[1].Up {
		t.Errorf("/readyz = %d %s", code, body)
	}

	// The first receiver comes up: two probes later it is up, and the
	// shard's next batch goes back to it.
	ra := listen(t, a)
	waitFor(t, "the first receiver up again", func() bool { return d.value(t, "sls2siem_receiver_up", "receiver", a) == 1 })
	e.appendGroups(t, 100, 4, 5, time.Now())
	waitFor(t, "20 more logs on the first receiver", func() bool {
		n, _ := ra.count()
		return n >= 20 && e.atEnd(t)
	})
	if v := d.value(t, "sls2siem_receiver_switches_total", "receiver", a); v != 1 {
		t.Errorf("switches to the first receiver = %v, want its fail-back", v)
	}
	if n, _ := b.count(); n != 100 {
		t.Errorf("the second receiver got %d logs, want its 100 alone", n)
	}

	// Both down: not ready, and /readyz says why.
	ra.rcv.Close()
	b.rcv.Close()
	e.appendGroups(t, 120, 1, 5, time.Now())
	waitFor(t, "/readyz failing", func() bool {
		code, body = d.get(t, "/readyz")
		return code == http.StatusServiceUnavailable
	})
	if !strings.Contains(body, "no syslog receiver is healthy: "+a) || !strings.Contains(body, bAddr) {
		t.Errorf("/readyz = %s", body)
	}
	sum, err := d.stop()
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Receivers) != 2 || sum.Receivers[0].Logs != 20 || sum.Receivers[1].Logs != 100 || sum.Logs != 120 {
		t.Errorf("summary %+v", sum)
	}
}
