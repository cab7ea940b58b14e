package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/scrape"
	"sls2siem/internal/localcloud/slsemu"
)

// The consumer daemon's metrics and health end to end: `sls2siem consume`
// (the built binary) with SHIP_METRICS_ADDR, against the SLS emulator's
// four-shard logstore (cgNewCloud) and a real rsyslog; the tests scrape it
// over HTTP and check the exposition with promtool.

// mtDaemon is one `sls2siem consume` process serving its metrics.
type mtDaemon struct {
	*cgConsumer
	base string // http://127.0.0.1:port
}

// mtStart starts a consumer shipping to syslogPort with its metrics on a
// free loopback port; extra variables come last and win.
func mtStart(t *testing.T, c *cgCloud, name string, syslogPort int, extra ...string) *mtDaemon {
	t.Helper()
	addr := loopback(freePort(t, false))
	cmd := exec.Command(functionBinary, "consume")
	cmd.Env = append([]string{
		"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + strconv.Itoa(syslogPort), "SYSLOG_FRAMING=octet-counting",
		"SYSLOG_HOSTNAME=" + name, "SYSLOG_RETRY_BACKOFF=50ms", "SYSLOG_WRITE_TIMEOUT=3s",
		"SLS_ENDPOINT=" + c.endpoint, "SLS_PROJECT=" + cgProject, "SLS_LOGSTORE=" + cgLogstore,
		"SLS_CONSUMER_GROUP=" + cgGroup, "SLS_CONSUMER_NAME=" + name, "SLS_CURSOR_POSITION=begin",
		"SLS_HEARTBEAT_INTERVAL=1s", "SLS_HEARTBEAT_TIMEOUT=3s", "SLS_CHECKPOINT_INTERVAL=500ms",
		"SLS_FETCH_INTERVAL=20ms", "SLS_PULL_COUNT=5", "SLS_CONSUMER_STOP_TIMEOUT=15s",
		"ALIBABA_CLOUD_ACCESS_KEY_ID=" + c.cred.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + c.cred.AccessKeySecret,
		"LOG_LEVEL=info", "SHIP_METRICS_ADDR=" + addr, "SHIP_STUCK_AFTER=2s",
	}, localcloud.TrustEnv(c.endpoint)...)
	cmd.Env = append(cmd.Env, extra...)
	cs := &cgConsumer{name: name, cmd: cmd, out: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = cs.out, cs.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cs.err = cmd.Wait()
		close(cs.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-cs.exited:
		default:
			cmd.Process.Kill()
			<-cs.exited
		}
		if strings.Contains(cs.out.String(), c.cred.AccessKeySecret) {
			t.Errorf("the AccessKey secret reached %s's output", name)
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, cs.out)
		}
	})
	return &mtDaemon{cgConsumer: cs, base: "http://" + addr}
}

func (d *mtDaemon) scrape(t *testing.T) (scrape.Samples, string) {
	t.Helper()
	s, text, err := scrape.Get(context.Background(), d.base+"/metrics")
	if err != nil {
		t.Fatalf("%s: %v", d.name, err)
	}
	return s, text
}

// get returns the status of a health endpoint and its body; 0 when it
// does not answer.
func (d *mtDaemon) get(path string) (int, string) {
	resp, err := http.Get(d.base + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var v json.RawMessage
	json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, string(v)
}

// mtLint checks the exposition with Debian's promtool; skipped when it is
// missing unless the run requires the test tools.
func mtLint(t *testing.T, text string) {
	t.Helper()
	out, err := scrape.Lint(context.Background(), text)
	if errors.Is(err, scrape.ErrNoPromtool) {
		if os.Getenv("CI") != "" || os.Getenv("SLS2SIEM_REQUIRE_RECEIVERS") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	if err != nil {
		t.Fatalf("%v\nexposition:\n%s", err, text)
	}
	if strings.TrimSpace(out) != "" {
		t.Errorf("promtool check metrics: %s", out)
	}
}

// mtAppend appends groups log groups of cgLogsPerGroup logs to every
// shard, received at at, numbered from first ("id=<shard>-<group>-<log>",
// as cgParse reads).
func mtAppend(t *testing.T, c *cgCloud, first, groups int, at time.Time) {
	t.Helper()
	for g := first; g < first+groups; g++ {
		for shard := range cgShards {
			lg := &sls.LogGroup{Topic: proto.String("mt"), Source: proto.String("10.2.0." + strconv.Itoa(shard))}
			for i := range cgLogsPerGroup {
				lg.Logs = append(lg.Logs, &sls.Log{Time: proto.Uint32(uint32(at.Unix())), Contents: []*sls.LogContent{
					{Key: proto.String("event"), Value: proto.String("logout user bob")},
					{Key: proto.String("id"), Value: proto.String(fmt.Sprintf("%d-%d-%d", shard, g, i))},
				}})
			}
			if _, err := c.emu.Append(cgProject, cgLogstore, shard, lg, at); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// mtUnique returns, per shard, the distinct logs rsyslog stored and their
// bytes (the message without framing, as sent).
func mtUnique(t *testing.T, rs *rsyslogd) (logs, bytes [cgShards]int) {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range rs.Messages(t) {
		l := cgParse(t, []received{m})[0]
		if seen[m.Raw] {
			continue
		}
		seen[m.Raw] = true
		logs[l.shard]++
		bytes[l.shard] += len(m.Raw)
	}
	return logs, bytes
}

// mtLoggedFailures sums, over the daemon's "syslog delivery failed" lines,
// their count and the logs they had written (sent again).
func mtLoggedFailures(t *testing.T, out string) (failures, written int) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		var l struct {
			Msg     string `json:"msg"`
			Written int    `json:"written"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && strings.HasPrefix(l.Msg, "syslog delivery failed") {
			failures++
			written += l.Written
		}
	}
	return failures, written
}

// TestMetricsDaemonShipsAndRecovers ships 100 logs per shard and checks
// every counter against what rsyslog stored; then, with rsyslog down and
// 40 more logs per shard received by SLS five minutes ago, the lag is the
// age of those receive times, the failures are counted and /healthz turns
// unhealthy; once rsyslog is back, everything is delivered, the counters
// add up exactly and /healthz is healthy again.
func TestMetricsDaemonShipsAndRecovers(t *testing.T) {
	rs := startRsyslog(t)
	c := cgNewCloud(t)
	mtAppend(t, c, 0, 25, time.Now().Add(-time.Hour))
	d := mtStart(t, c, "metrics-a", rs.Ports().TCP)

	cgWait(t, 20*time.Second, "/readyz ready", func() bool { code, _ := d.get("/readyz"); return code == 200 })
	if !strings.Contains(d.out.String(), `"metrics":"`+d.base+`/metrics"`) {
		t.Errorf("the daemon did not log where its metrics are served (%s/metrics)", d.base)
	}
	cgWaitReceived(t, rs, 25*cgShards*cgLogsPerGroup)
	cgWait(t, 20*time.Second, "every shard checkpointed at its end and seen caught up", func() bool {
		if c.cgCheckpoints(t) != [cgShards]int{25, 25, 25, 25} {
			return false
		}
		s, _ := d.scrape(t)
		return s.Sum("sls2siem_shard_lag_seconds") == 0 && len(s.Find("sls2siem_shard_lag_seconds")) == cgShards
	})
	s, text := d.scrape(t)
	mtLint(t, text)
	logs, bytes := mtUnique(t, rs)
	for shard := range cgShards {
		sh := strconv.Itoa(shard)
		for name, want := range map[string]float64{
			"sls2siem_shipped_logs_total":       100,
			"sls2siem_shipped_log_groups_total": 25,
			"sls2siem_shipped_bytes_total":      float64(bytes[shard]),
			"sls2siem_resent_logs_total":        0,
			"sls2siem_send_retries_total":       0,
			"sls2siem_shard_lag_log_groups":     0,
		} {
			if got, ok := s.Value(name, "project", cgProject, "logstore", cgLogstore, "shard", sh); !ok || got != want {
				t.Errorf("%s{shard=%q} = %v (found %v), want %v", name, sh, got, ok, want)
			}
		}
		if logs[shard] != 100 {
			t.Errorf("rsyslog stored %d logs of shard %d, want 100", logs[shard], shard)
		}
	}
	if v, _ := s.Value("sls2siem_shards_held"); v != cgShards {
		t.Errorf("shards held = %v, want %d", v, cgShards)
	}
	t.Logf("scrape after the first 400 logs:\n%s", excerpt(text))

	// rsyslog down; SLS received 40 more logs per shard five minutes ago.
	rs.Stop(t)
	late := time.Now().Add(-5 * time.Minute).Truncate(time.Second)
	mtAppend(t, c, 25, 10, late)
	var health string
	cgWait(t, 30*time.Second, "/healthz unhealthy with every shard stuck", func() bool {
		code, body := d.get("/healthz")
		health = body
		return code == http.StatusServiceUnavailable && strings.Count(body, `"stuck":true`) == cgShards
	})
	cgWait(t, 10*time.Second, "the lag probed on every shard", func() bool {
		s, _ := d.scrape(t)
		return s.Sum("sls2siem_shard_lag_log_groups") == 10*cgShards
	})
	s, text = d.scrape(t)
	mtLint(t, text)
	t.Logf("/healthz with rsyslog down: %s", health)
	for shard := range cgShards {
		sh := strconv.Itoa(shard)
		lag, _ := s.Value("sls2siem_shard_lag_seconds", "shard", sh)
		if want := time.Since(late).Seconds(); lag < want-5 || lag > want+1 { // probed every heartbeat; slack for a loaded machine
			t.Errorf("shard %d lag %.1fs, want now minus the emulator's receive time, %.1fs", shard, lag, want)
		}
		if v, _ := s.Value("sls2siem_shard_stuck", "shard", sh); v != 1 {
			t.Errorf("shard %d stuck gauge %v, want 1", shard, v)
		}
		if v, _ := s.Value("sls2siem_send_failures_total", "shard", sh, "kind", "refused"); v < 1 {
			t.Errorf("shard %d: %v refused connections, want some with rsyslog down", shard, v)
		}
		if v, _ := s.Value("sls2siem_shipped_logs_total", "shard", sh); v != 100 {
			t.Errorf("shard %d: %v logs shipped with rsyslog down, want still 100", shard, v)
		}
	}
	t.Logf("scrape with rsyslog down:\n%s", excerpt(text))

	rs.start(t)
	cgWait(t, 60*time.Second, "every log of the second burst stored", func() bool {
		logs, _ := mtUnique(t, rs)
		return logs == [cgShards]int{140, 140, 140, 140}
	})
	cgWait(t, 20*time.Second, "every checkpoint at its end and /healthz healthy", func() bool {
		code, _ := d.get("/healthz")
		return code == 200 && c.cgCheckpoints(t) == [cgShards]int{35, 35, 35, 35}
	})
	s, text = d.scrape(t)
	mtLint(t, text)
	failures, written := mtLoggedFailures(t, d.out.String())
	d.mustStop(t)
	logs, bytes = mtUnique(t, rs)
	for shard := range cgShards {
		sh := strconv.Itoa(shard)
		if v, _ := s.Value("sls2siem_shipped_logs_total", "shard", sh); v != 140 {
			t.Errorf("shard %d: %v logs shipped, want 140", shard, v)
		}
		if v, _ := s.Value("sls2siem_shipped_bytes_total", "shard", sh); v != float64(bytes[shard]) {
			t.Errorf("shard %d: %v bytes shipped, rsyslog stored %d distinct", shard, v, bytes[shard])
		}
	}
	f, r, resent := s.Sum("sls2siem_send_failures_total"), s.Sum("sls2siem_send_retries_total"), s.Sum("sls2siem_resent_logs_total")
	if f != float64(failures) || r != f || resent != float64(written) {
		t.Errorf("failures %v (logged %d), retries %v, resent %v (logged %d): want failures = logged = retries, resent = logged",
			f, failures, r, resent, written)
	}
	t.Logf("after recovery: %v failed deliveries (%v refused), %v retries, %v logs resent; rsyslog stored %d distinct logs per shard",
		f, s.Sum("sls2siem_send_failures_total", "kind", "refused"), r, resent, logs[0])
}

// excerpt keeps the sls2siem_ lines of an exposition (not the histogram
// buckets), for the test log.
func excerpt(text string) string {
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "sls2siem_") && !strings.Contains(line, "_bucket{") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// TestMetricsReadinessFollowsTheHeartbeat: /readyz is ready once the
// consumer holds its heartbeat, not ready while heartbeats fail longer
// than the group's timeout, and ready again after; the failures are
// counted.
func TestMetricsReadinessFollowsTheHeartbeat(t *testing.T) {
	c := cgNewCloud(t)
	d := mtStart(t, c, "metrics-hb", freePort(t, false)) // no data: the receiver is never dialled
	cgWait(t, 20*time.Second, "/readyz ready holding every shard", func() bool {
		code, body := d.get("/readyz")
		return code == 200 && strings.Contains(body, `"shards":[0,1,2,3]`)
	})
	c.emu.InjectFault(slsemu.Fault{Op: slsemu.OpHeartBeat, Status: 500, Times: -1})
	var body string
	cgWait(t, 20*time.Second, "/readyz not ready", func() bool {
		var code int
		code, body = d.get("/readyz")
		return code == http.StatusServiceUnavailable
	})
	if !strings.Contains(body, "longer than the group's timeout") {
		t.Errorf("/readyz = %s", body)
	}
	s, text := d.scrape(t)
	mtLint(t, text)
	if v, _ := s.Value("sls2siem_consumer_heartbeat_failures_total", "project", cgProject, "logstore", cgLogstore); v < 2 {
		t.Errorf("heartbeat failures = %v, want at least 2 (1s interval, more than 3s without an answer)", v)
	}
	if v, _ := s.Value("sls2siem_consumer_ready"); v != 0 {
		t.Errorf("ready gauge %v, want 0", v)
	}
	if v, _ := s.Value("sls2siem_shards_held"); v != 0 {
		t.Errorf("shards held %v, want 0 once heartbeats failed past the timeout", v)
	}
	c.emu.ClearFaults()
	cgWait(t, 20*time.Second, "/readyz ready again", func() bool { code, _ := d.get("/readyz"); return code == 200 })
	failed, _ := d.scrape(t)
	before, _ := s.Value("sls2siem_consumer_heartbeat_failures_total")
	after, _ := failed.Value("sls2siem_consumer_heartbeat_failures_total")
	if after < before {
		t.Errorf("heartbeat failures went down: %v then %v", before, after)
	}
	d.mustStop(t)
}

// TestMetricsAddressRefused: a metrics address in use or malformed makes
// `consume` refuse to start, naming SHIP_METRICS_ADDR.
func TestMetricsAddressRefused(t *testing.T) {
	c := cgNewCloud(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for addr, want := range map[string]string{
		taken.Addr().String(): "address already in use",
		"127.0.0.1":           "want host:port",
		"127.0.0.1:99999":     "the port must be a number from 1 to 65535",
	} {
		d := mtStart(t, c, "metrics-bad", freePort(t, false), "SHIP_METRICS_ADDR="+addr)
		select {
		case <-d.exited:
		case <-time.After(20 * time.Second):
			t.Fatalf("SHIP_METRICS_ADDR=%s: consume still running after 20s", addr)
		}
		out := d.out.String()
		if d.err == nil || !strings.Contains(out, "SHIP_METRICS_ADDR") || !strings.Contains(out, want) {
			t.Errorf("SHIP_METRICS_ADDR=%s: exit %v, output %s; want a failure naming the variable and %q", addr, d.err, out, want)
		}
		if strings.Contains(out, "consumer started") {
			t.Errorf("SHIP_METRICS_ADDR=%s: the consumer started", addr)
		}
	}
}

// TestMetricsHealthzUnderAConnectionFlood: the daemon, its descriptors
// limited to 256 as a small host would have them, keeps answering
// /healthz while 400 connections are held open on its metrics port (half
// sent a request and are kept alive, half never send a byte); with
// SHIP_METRICS_ALLOWED_HOSTS, a request naming another Host is refused.
// Before the connection cap, 1 probe of 5 was answered.
func TestMetricsHealthzUnderAConnectionFlood(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) is not installed")
	}
	rs := startRsyslog(t)
	c := cgNewCloud(t)
	d := mtStart(t, c, "flood", rs.Ports().TCP, "SHIP_METRICS_ALLOWED_HOSTS=127.0.0.1,localhost")
	cgWait(t, 20*time.Second, "/readyz ready", func() bool { code, _ := d.get("/readyz"); return code == 200 })
	if out, err := exec.Command(prlimit, "--pid", strconv.Itoa(d.cmd.Process.Pid), "--nofile=256:256").CombinedOutput(); err != nil {
		t.Fatalf("prlimit: %v %s", err, out)
	}
	addr := strings.TrimPrefix(d.base, "http://")
	var conns []net.Conn
	defer func() {
		for _, cn := range conns {
			cn.Close()
		}
	}()
	for i := range 400 {
		cn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		if i%2 == 0 {
			fmt.Fprint(cn, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
		}
		conns = append(conns, cn)
	}
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	answered := 0
	for range 5 {
		resp, err := client.Get(d.base + "/healthz")
		if err != nil {
			t.Logf("/healthz: %v", err)
			continue
		}
		resp.Body.Close()
		answered++
	}
	if answered != 5 {
		t.Errorf("/healthz answered %d of 5 probes under a flood of %d connections", answered, len(conns))
	}
	req, _ := http.NewRequest(http.MethodGet, d.base+"/metrics", nil)
	req.Host = "rebound.example.com"
	resp, err := client.Do(req)
	if err != nil || resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("/metrics for another Host: %v %v, want 421", resp, err)
	} else {
		resp.Body.Close()
	}
	t.Logf("flood of %d held connections, descriptors limited to 256: /healthz answered %d of 5 probes", len(conns), answered)
}
