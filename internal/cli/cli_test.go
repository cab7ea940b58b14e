package cli

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sls2siem/internal/consume"
	"sls2siem/internal/deadletter"
	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/slsemu"
	"sls2siem/internal/metrics"
	"sls2siem/internal/receivers"
	"sls2siem/internal/secret"
	"sls2siem/internal/slsapi"
)

// A golden case: the command line and what the world needs first.
type golden struct {
	name  string // testdata/cli/<name>
	args  []string
	env   map[string]string // set ("" unsets)
	stdin func(w *world) string
	setup func(w *world)
	// during runs alongside the command: it may send signals.
	during func(w *world, sig chan<- os.Signal, stderr *watched)
	check  func(t *testing.T, w *world, o outcome)
}

func runGolden(t *testing.T, cases []golden) {
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, "/", "_"), func(t *testing.T) {
			w := newWorld(t)
			for k, v := range c.env {
				if v == "" {
					delete(w.env, k)
				} else {
					w.env[k] = v
				}
			}
			if c.setup != nil {
				c.setup(w)
			}
			var during func(chan<- os.Signal, *watched)
			if c.during != nil {
				during = func(sig chan<- os.Signal, stderr *watched) { c.during(w, sig, stderr) }
			}
			stdin := ""
			if c.stdin != nil {
				stdin = c.stdin(w)
			}
			o := w.run(stateFile(w, c.args), stdin, during)
			if c.check != nil {
				c.check(t, w, o)
			}
			w.golden(c.name, o)
		})
	}
}

// interrupt sends SIGINT once stderr holds text (or at once).
func interrupt(text string) func(w *world, sig chan<- os.Signal, stderr *watched) {
	return func(w *world, sig chan<- os.Signal, stderr *watched) {
		if text != "" {
			await(w.t, stderr.when(text), text)
		}
		sig <- os.Interrupt
	}
}

// stallThenInterrupt stalls the next request of op and sends SIGINT once
// it arrived; the command must stop.
func stallThenInterrupt(op string, then func(w *world, sig chan<- os.Signal, stderr *watched)) (func(*world), func(*world, chan<- os.Signal, *watched)) {
	var stalled <-chan struct{}
	return func(w *world) { stalled = w.stallOn(op) }, func(w *world, sig chan<- os.Signal, stderr *watched) {
		await(w.t, stalled, "request of "+op)
		sig <- os.Interrupt
		if then != nil {
			then(w, sig, stderr)
		}
	}
}

func TestTool(t *testing.T) {
	runGolden(t, []golden{
		{name: "tool/no-command", args: nil},
		{name: "tool/help", args: []string{"--help"}},
		{name: "tool/help-short", args: []string{"-h"}},
		{name: "tool/help-command", args: []string{"help"}},
		{name: "tool/help-topic", args: []string{"help", "status"}},
		{name: "tool/help-unknown-topic", args: []string{"help", "nope"}},
		{name: "tool/version", args: []string{"--version"}},
		{name: "tool/unknown", args: []string{"x"}},
		{name: "tool/unknown-flag", args: []string{"-x"}},
		{name: "tool/garbage", args: []string{"\xff\x00\x1b[31m"}},
		{name: "version/version", args: []string{"version"}},
		{name: "version/help", args: []string{"version", "-h"}},
		{name: "version/unknown", args: []string{"version", "extra"}},
	})
}

// The FC runtime without a command: serve under the custom runtime.
func TestServe(t *testing.T) {
	runGolden(t, []golden{
		{name: "serve/help", args: []string{"serve", "--help"}},
		{name: "serve/unknown", args: []string{"serve", "-port", "1"}},
		{name: "serve/bad-configuration", args: []string{"serve"}, env: map[string]string{"FC_SERVER_PORT": "0"}},
		{name: "serve/invalid-function-configuration", args: []string{"serve"}, env: map[string]string{"SYSLOG_PORT": "x"},
			setup: servePort, during: serveInvoke(`"errorMessage":"invalid configuration: SYSLOG_PORT is \"x\"`)},
		// No command under FC's custom runtime: serve. An invocation, then SIGTERM.
		{name: "serve/interrupted", args: nil, setup: servePort, during: serveInvoke(`"logs":6`)},
		// FC 3.0 names the port FC_CUSTOM_LISTEN_PORT; the function's
		// timeout comes from s.yaml.
		{name: "serve/documented-port", args: []string{"serve"}, env: map[string]string{"SHIP_FUNCTION_TIMEOUT": "300"},
			setup: listenPort, during: serveInvoke(`"logs":6`)},
		{name: "serve/bad-listen-port", args: []string{"serve"}, env: map[string]string{"FC_CUSTOM_LISTEN_PORT": "70000", "FC_SERVER_PORT": "9000"}},
		{name: "serve/bad-function-timeout", args: []string{"serve"}, env: map[string]string{"SHIP_FUNCTION_TIMEOUT": "5 minutes"},
			setup: listenPort, during: serveInvoke(`"errorMessage":"invalid configuration: SHIP_FUNCTION_TIMEOUT is \"5 minutes\"`)},
		// s.yaml gives each function its command and SHIP_FUNCTION: they
		// must agree.
		{name: "serve/other-function", args: []string{"serve"}, env: map[string]string{"SHIP_FUNCTION": "redrive"},
			setup: listenPort, during: serveInvoke(`SHIP_FUNCTION is redrive, but this function runs sls2siem serve`)},
		// No command (the go1 runtime's way): SHIP_FUNCTION=redrive serves
		// the redrive function, here without its dead-letter logstore.
		{name: "serve/no-command-redrive", args: nil, env: map[string]string{"SHIP_FUNCTION": "redrive"},
			setup: listenPort, during: serveInvoke(`"errorMessage":"invalid configuration: SHIP_DEADLETTER_LOGSTORE is not set`)},
		{name: "serve/no-command-bad-function", args: nil, env: map[string]string{"SHIP_FUNCTION": "consume", "FC_FUNCTION_NAME": "sls2siem"}},
	})
}

// servePort gives the custom runtime a free port in FC_SERVER_PORT (not
// documented by FC 3.0; still read when FC_CUSTOM_LISTEN_PORT is unset).
func servePort(w *world) { w.env["FC_SERVER_PORT"] = closedPort(w.t) }

// listenPort gives it one in FC_CUSTOM_LISTEN_PORT, as FC 3.0 does.
func listenPort(w *world) { w.env["FC_CUSTOM_LISTEN_PORT"] = closedPort(w.t) }

// serveInvoke invokes the function served with the event of the whole
// shard, checks its answer holds want, and stops it.
func serveInvoke(want string) func(w *world, sig chan<- os.Signal, stderr *watched) {
	return func(w *world, sig chan<- os.Signal, stderr *watched) {
		await(w.t, stderr.when("custom runtime listening"), "the server")
		port := w.env["FC_CUSTOM_LISTEN_PORT"]
		if port == "" {
			port = w.env["FC_SERVER_PORT"]
		}
		url := "http://127.0.0.1:" + port + "/invoke"
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(shardEvent(w)))
		req.Header.Set("x-fc-request-id", "req-serve")
		req.Header.Set("x-fc-access-key-id", akID)
		req.Header.Set("x-fc-access-key-secret", akSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			w.t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), want) {
			w.t.Errorf("invocation answered %s %s, want %s", resp.Status, body, want)
		}
		sig <- syscall.SIGTERM
	}
}

// shardEvent is the SLS trigger event of the whole shard.
func shardEvent(w *world) string {
	b, _ := w.emu.Cursor(project, logstore, 0, "begin")
	e, _ := w.emu.Cursor(project, logstore, 0, "end")
	return `{"source":{"endpoint":"` + w.endpoint + `","projectName":"demo","logstoreName":"audit","shardId":0,"beginCursor":"` +
		b + `","endCursor":"` + e + `"}}`
}

func TestShip(t *testing.T) {
	shipStall, shipInterrupt := stallThenInterrupt(slsemu.OpPullLogs, nil)
	event := shardEvent
	runGolden(t, []golden{
		{name: "ship/help", args: []string{"ship", "-h"}},
		{name: "ship/unknown", args: []string{"ship", "-event", "-", "-evnt", "x"}},
		{name: "ship/repeated-flag", args: []string{"ship", "-event", "a", "-event=b"}},
		{name: "ship/no-event", args: []string{"ship"}},
		{name: "ship/bad-configuration", args: []string{"ship", "-event", "-"},
			env: map[string]string{"SYSLOG_HOST": "", "SYSLOG_PORT": "70000", "ALIBABA_CLOUD_ACCESS_KEY_ID": "", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ""}},
		{name: "ship/success", args: []string{"ship", "-event", "-"}, stdin: event,
			check: func(t *testing.T, w *world, o outcome) { await(t, wantMessages(w, nGroups*groupLogs), "messages") }},
		{name: "ship/failure", args: []string{"ship", "-event", "-"}, env: map[string]string{"SYSLOG_PORT": "1"}, stdin: event},
		// Two receivers, the first refusing: the range goes to the second.
		{name: "ship/failover", args: []string{"ship", "-event", "-"}, stdin: event, setup: func(w *world) {
			_, port, _ := net.SplitHostPort(w.rcv.Addr())
			w.env["SYSLOG_HOST"], w.env["SYSLOG_PORT"] = "127.0.0.1,127.0.0.1", "1,"+port
		}, check: func(t *testing.T, w *world, o outcome) { await(t, wantMessages(w, nGroups*groupLogs), "messages") }},
		// Both refusing: the range fails once each has failed.
		{name: "ship/every-receiver-down", args: []string{"ship", "-event", "-"}, stdin: event,
			env: map[string]string{"SYSLOG_HOST": "127.0.0.1,localhost", "SYSLOG_PORT": "1,2"}},
		{name: "ship/bad-receivers", args: []string{"ship", "-event", "-"}, stdin: event,
			env: map[string]string{"SYSLOG_HOST": "siem-a.example:6514,siem-b.example", "SYSLOG_BALANCE": "least-loaded"}},
		{name: "ship/malformed-event", args: []string{"ship", "-event", "-"}, stdin: func(*world) string { return `{"source":` }},
		{name: "ship/no-such-file", args: []string{"ship", "-event", "STATE"}},
		{name: "ship/interrupted", args: []string{"ship", "-event", "-"}, stdin: event,
			setup: shipStall, during: shipInterrupt},
	})
}

// wantMessages is closed once the receiver got n messages.
func wantMessages(w *world, n int) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		for range n {
			<-w.received
		}
		close(ch)
	}()
	return ch
}

func TestStatus(t *testing.T) {
	group := func(w *world) {
		c := w.client()
		if err := c.EnsureGroup(w.t.Context(), project, logstore, "siem", 60); err != nil {
			w.t.Fatal(err)
		}
		if err := c.SaveCheckpoint(w.t.Context(), project, logstore, "siem", 0, slsemu.EncodeCursor(slsemu.CursorBase+1)); err != nil {
			w.t.Fatal(err)
		}
	}
	stall, interrupted := stallThenInterrupt(slsemu.OpListShards, nil)
	// daemons: consumer c1 holds shard 0 (its heartbeat, its checkpoint)
	// and its daemon says the shard goes to siem-b.example:6514.
	daemons := func(w *world) {
		group(w)
		sdk := slsapi.NewSDK(w.endpoint, secret.Credentials{AccessKeyID: akID, AccessKeySecret: akSecret}, slsapi.Signing{},
			slsapi.NewTransport(localcloud.LocalEndpoints(w.endpoint)), time.Minute, time.Minute)
		for _, held := range [][]int{{}, {0}} { // a new consumer's first heartbeat holds nothing
			if _, err := sdk.HeartBeat(project, logstore, "siem", "c1", held); err != nil {
				w.t.Fatal(err)
			}
		}
		if err := sdk.UpdateCheckpoint(project, logstore, "siem", "c1", 0, slsemu.EncodeCursor(slsemu.CursorBase+1), true); err != nil {
			w.t.Fatal(err)
		}
		st := []receivers.Status{{Receiver: "siem-a.example:6514", LastFailure: "refused"}, {Receiver: "siem-b.example:6514", Up: true}}
		m := metrics.New(metrics.Options{Version: "v", Project: project, Logstore: logstore, Group: "siem", Consumer: "c1",
			HeartbeatTimeout: time.Minute, StuckAfter: time.Minute, Receivers: func() []receivers.Status { return st }})
		m.Heartbeat([]int{0}, nil)
		m.BatchFailed(0, consume.Failure{Kind: consume.FailRefused, Receiver: "siem-a.example:6514"})
		m.ReceiverSwitched(0, "siem-a.example:6514", "siem-b.example:6514")
		m.BatchDelivered(0, consume.Delivery{Receiver: "siem-b.example:6514"})
		srv := httptest.NewServer(m.Handler(slog.New(slog.DiscardHandler)))
		w.t.Cleanup(srv.Close)
		w.args["DAEMONS"] = strings.TrimPrefix(srv.URL, "http://") + ",127.0.0.1:" + closedPort(w.t)
	}
	runGolden(t, []golden{
		{name: "status/help", args: []string{"status", "-h"}},
		{name: "status/unknown", args: []string{"status", "-json", "extra"}},
		{name: "status/bad-configuration", args: []string{"status"},
			env: map[string]string{"SLS_ENDPOINT": "evil.example.com", "SLS_LOGSTORE": "", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ""}},
		{name: "status/no-logstore", args: []string{"status"}, env: map[string]string{"SLS_LOGSTORE": ""}},
		{name: "status/flag-after-argument", args: []string{"status", "siem", "-json"}},
		{name: "status/success", args: []string{"status", "-group", "siem"}, setup: group},
		{name: "status/json", args: []string{"status", "-group", "siem", "-json"}, setup: group},
		{name: "status/lag", args: []string{"status", "-group", "siem", "-max-lag", "30m"}, setup: group},
		{name: "status/failure", args: []string{"status", "-group", "nobody"}},
		// The receiver each shard goes to, from the daemon holding it (and
		// one daemon that does not answer).
		{name: "status/receivers", args: []string{"status", "-group", "siem", "-metrics", "DAEMONS"}, setup: daemons},
		{name: "status/receivers-json", args: []string{"status", "-group", "siem", "-json", "-metrics", "DAEMONS"}, setup: daemons},
		{name: "status/bad-metrics", args: []string{"status", "-group", "siem", "-metrics", "127.0.0.1:9464,nonsense"}},
		{name: "status/unreachable", args: []string{"status"}, setup: unreachableEndpoint},
		{name: "status/interrupted", args: []string{"status", "-group", "siem"}, setup: func(w *world) {
			group(w)
			stall(w)
		}, during: interrupted},
	})
}

func TestBackfill(t *testing.T) {
	window := []string{"-from", "2024-05-06", "-to", "now"}
	// The first signal stops at the next chunk boundary; the chunk in
	// flight is stalled: the second aborts it.
	bfStall, bfInterrupt := stallThenInterrupt(slsemu.OpPullLogs, func(w *world, sig chan<- os.Signal, stderr *watched) {
		await(w.t, stderr.when("stopping at the next chunk boundary"), "the stopping line")
		sig <- os.Interrupt
	})
	runGolden(t, []golden{
		{name: "backfill/help", args: []string{"backfill", "-h"}},
		{name: "backfill/unknown", args: []string{"backfill", "-from", "now", "-window", "1h"}},
		{name: "backfill/bad-configuration", args: append([]string{"backfill"}, window...),
			env: map[string]string{"SYSLOG_PROTOCOL": "tls", "SYSLOG_TLS_KEY": "not pem", "ALIBABA_CLOUD_ACCESS_KEY_ID": ""}},
		{name: "backfill/equals-forms", args: []string{"backfill", "-from=", "-to=now"}},
		{name: "backfill/milliseconds", args: []string{"backfill", "-from", "1796645573000", "-to", "now"}},
		{name: "backfill/future", args: []string{"backfill", "-from", "2030-01-01", "-to", "2030-02-01", "-parallel", "0"}},
		{name: "backfill/empty-window", args: []string{"backfill", "-from", "-1h", "-to", "-2h"}},
		{name: "backfill/before-the-data", args: []string{"backfill", "-from", "2024-04-01", "-to", "2024-04-02"}},
		{name: "backfill/expired", args: []string{"backfill", "-from", "2024-04-01", "-to", "now"},
			setup: func(w *world) {
				if err := w.emu.SetTTL(project, logstore, 24*time.Hour); err != nil {
					w.t.Fatal(err)
				}
			}},
		{name: "backfill/unknown-shard", args: append([]string{"backfill", "-shards", "0,4"}, window...)},
		{name: "backfill/success", args: append([]string{"backfill", "-progress", "none", "-chunk", "1"}, window...),
			check: func(t *testing.T, w *world, o outcome) { await(t, wantMessages(w, nGroups*groupLogs), "messages") }},
		{name: "backfill/progress-lines", args: append([]string{"backfill", "-progress", "lines", "-progress-every", "1h"}, window...)},
		{name: "backfill/failure", args: append([]string{"backfill", "-progress", "none", "-state", "STATE"}, window...),
			env: map[string]string{"SYSLOG_PORT": "1"}},
		{name: "backfill/interrupted", args: append([]string{"backfill", "-progress", "none", "-state", "STATE"}, window...),
			setup: bfStall, during: bfInterrupt},
	})
}

func TestRedrive(t *testing.T) {
	record := func(w *world) {
		b, _ := w.emu.Cursor(project, logstore, 0, "begin")
		e, _ := w.emu.Cursor(project, logstore, 0, "end")
		r := deadletter.Record{State: deadletter.StateFailed, Endpoint: w.endpoint, Project: project, Logstore: logstore,
			BeginCursor: b, EndCursor: e, RequestID: "req-1"}
		keys, _ := deadletter.NewKeys(dlKey, "")
		if err := deadletter.Append(w.t.Context(), w.client(), project, dlStore, keys, r); err != nil {
			w.t.Fatal(err)
		}
	}
	env := map[string]string{"SHIP_DEADLETTER_LOGSTORE": dlStore}
	rdStall, rdInterrupt := stallThenInterrupt("consumergroups", nil)
	runGolden(t, []golden{
		{name: "redrive/help", args: []string{"redrive", "-h"}},
		{name: "redrive/unknown", args: []string{"redrive", "-since", "1h", "-since", "2h"}},
		{name: "redrive/bad-configuration", args: []string{"redrive"}, env: map[string]string{"SLS_PROJECT": "Bad_Project"}},
		{name: "redrive/success", args: []string{"redrive", "-since", "1h"}, env: env, setup: record,
			check: func(t *testing.T, w *world, o outcome) { await(t, wantMessages(w, nGroups*groupLogs), "messages") }},
		{name: "redrive/nothing-to-do", args: []string{"redrive"}, env: env},
		{name: "redrive/unreachable", args: []string{"redrive"}, env: env,
			setup: unreachableEndpoint},
		{name: "redrive/failure", args: []string{"redrive", "-since", "1h"}, env: map[string]string{"SHIP_DEADLETTER_LOGSTORE": dlStore, "SYSLOG_PORT": "1"}, setup: record},
		{name: "redrive/expired", args: []string{"redrive", "-since", "1h"}, env: env, setup: func(w *world) {
			record(w)
			if _, err := w.emu.ExpireBefore(project, logstore, base.Add(2*time.Minute)); err != nil {
				w.t.Fatal(err)
			}
		}},
		{name: "redrive/interrupted", args: []string{"redrive"}, env: env,
			setup: func(w *world) { record(w); rdStall(w) }, during: rdInterrupt},
	})
}

func TestCheck(t *testing.T) {
	runGolden(t, []golden{
		{name: "check/help", args: []string{"check", "-h"}},
		{name: "check/unknown", args: []string{"check", "-mode"}},
		{name: "check/bad-mode", args: []string{"check", "-mode", "daemon"}},
		{name: "check/valid", args: []string{"check"}},
		{name: "check/invalid", args: []string{"check"}, env: map[string]string{
			"SLS_HEARTBEAT_INTERVAL": "abc", "SHIP_METRICS_ADDR": "nonsense", "SLS_CURSOR_POSITION": "middle",
			"SLS_ENDPOINT": "evil.example.com", "SYSLOG_SEVERITY": "loud", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ""}},
		{name: "check/mode-consume", args: []string{"check", "-mode", "consume"}, env: map[string]string{"SLS_LOGSTORE": ""}},
		{name: "check/unknown-variable", args: []string{"check"}, env: map[string]string{"SYSLOG_PROTOCOLL": "udp"}},
		{name: "check/strict", args: []string{"check", "-strict"}, env: map[string]string{"SYSLOG_PROTOCOLL": "udp"}},
		{name: "check/json", args: []string{"check", "-json"}, env: map[string]string{"SYSLOG_PROTOCOLL": "udp", "SLS_HTTPS": "false"}},
		{name: "check/probe", args: []string{"check", "-probe"}},
		{name: "check/probe-failure", args: []string{"check", "-probe", "-mode", "backfill"}, env: map[string]string{"SLS_LOGSTORE": "nope"},
			setup: func(w *world) { w.env["SYSLOG_PORT"] = closedPort(w.t) }},
		{name: "check/probe-receivers", args: []string{"check", "-probe", "-mode", "trigger"}, setup: func(w *world) {
			_, port, _ := net.SplitHostPort(w.rcv.Addr())
			w.env["SYSLOG_HOST"], w.env["SYSLOG_PORT"] = "127.0.0.1,127.0.0.1", port+","+closedPort(w.t)
		}},
		{name: "check/bad-receivers", args: []string{"check", "-mode", "trigger"}, env: map[string]string{
			"SYSLOG_HOST": "siem-a.example,,siem-b.example", "SYSLOG_BALANCE": "random", "SYSLOG_FAILBACK_PROBES": "0", "SYSLOG_PROBE_INTERVAL": "soon"}},
		{name: "check/duplicate-receiver", args: []string{"check", "-mode", "trigger"}, env: map[string]string{
			"SYSLOG_HOST": "siem-a.example,siem-b.example,SIEM-A.example", "SYSLOG_PORT": "6514"}},
		{name: "check/ports-per-host", args: []string{"check", "-mode", "trigger"}, env: map[string]string{
			"SYSLOG_HOST": "siem-a.example,siem-b.example:6514", "SYSLOG_PORT": "6514,6514,6515"}},
		{name: "check/ports-and-hosts", args: []string{"check", "-mode", "trigger"}, env: map[string]string{
			"SYSLOG_HOST": "siem-a.example,siem-b.example", "SYSLOG_PORT": "6514,6514,6515"}},
		{name: "check/secret", args: []string{"check"}, env: map[string]string{
			"SYSLOG_PROTOCOL": "tls", "SYSLOG_TLS_KEY": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjMARKER", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "x y"}},
	})
}

func TestConsume(t *testing.T) {
	env := map[string]string{"SLS_CONSUMER_GROUP": "siem", "SLS_CONSUMER_NAME": "test-consumer", "SLS_CURSOR_POSITION": "begin",
		"SLS_HEARTBEAT_INTERVAL": "1s", "SLS_CHECKPOINT_INTERVAL": "0", "SLS_FETCH_INTERVAL": "10ms"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range env {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	runGolden(t, []golden{
		{name: "consume/help", args: []string{"consume", "-h"}},
		{name: "consume/unknown", args: []string{"consume", "now"}},
		{name: "consume/bad-configuration", args: []string{"consume"}, env: with("SLS_HEARTBEAT_INTERVAL", "abc", "SHIP_METRICS_ADDR", "nonsense", "SLS_CURSOR_POSITION", "middle")},
		{name: "consume/unreachable", args: []string{"consume"}, env: env,
			setup: unreachableEndpoint},
		{name: "consume/stopped", args: []string{"consume"}, env: env,
			during: func(w *world, sig chan<- os.Signal, stderr *watched) {
				await(w.t, wantMessages(w, nGroups*groupLogs), "messages")
				sig <- os.Interrupt
			}},
		{name: "consume/stopped-undelivered", args: []string{"consume"}, env: with("SYSLOG_PORT", "1", "SYSLOG_RETRY_BACKOFF", "1m"),
			during: interrupt(`"msg":"syslog delivery failed`)},
	})
}

// unreachableEndpoint points SLS_ENDPOINT at a loopback port nobody
// listens on, admitted by SLS_ALLOWED_ENDPOINTS.
func unreachableEndpoint(w *world) {
	port := closedPort(w.t)
	w.env["SLS_ENDPOINT"], w.env["SLS_ALLOWED_ENDPOINTS"] = "127.0.0.1:"+port, "127.0.0.1:"+port
}

// stateFile names the -state file of a case in its temp dir.
func stateFile(w *world, args []string) []string {
	out := append([]string(nil), args...)
	for i, a := range out {
		if a == "STATE" {
			out[i] = filepath.Join(w.tmp, "bf state.json")
		}
		if v, ok := w.args[a]; ok {
			out[i] = v
		}
	}
	return out
}
