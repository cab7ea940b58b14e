package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/fcemu"
)

// connCounter is a loopback listener that must never be reached.
type connCounter struct {
	addr  string
	conns atomic.Int64
}

func newConnCounter(t *testing.T) *connCounter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &connCounter{addr: ln.Addr().String()}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.conns.Add(1)
			conn.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return c
}

// withSource returns the event with source fields replaced.
func withSource(t *testing.T, event []byte, set map[string]any) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(event, &ev); err != nil {
		t.Fatal(err)
	}
	src := ev["source"].(map[string]any)
	for k, v := range set {
		src[k] = v
	}
	b, _ := json.Marshal(ev)
	return b
}

// TestTheEventCannotSteerTheFunction: an event that names a host outside
// SLS_ALLOWED_ENDPOINTS, or a project name that would move the request to
// another host, fails naming the field and the rule, and no connection is
// made anywhere: a listener on loopback sees none, and the syslog receiver
// none either.
func TestTheEventCannotSteerTheFunction(t *testing.T) {
	c := newCloud(t)
	trap := newConnCounter(t)
	syslog := newConnCounter(t)
	_, trapPort, _ := net.SplitHostPort(trap.addr)
	_, sysPort, _ := net.SplitHostPort(syslog.addr)
	begin, end := c.shardRange(t, 0)
	base := c.event(0, begin, end)

	for name, tc := range map[string]struct {
		env  []string // beyond the local cloud's allow-list
		set  map[string]any
		want []string
	}{
		"IP endpoint, default allow-list": {[]string{"SLS_ALLOWED_ENDPOINTS=", "SLS_HTTPS="},
			map[string]any{"endpoint": "http://" + trap.addr}, []string{"source.endpoint", "not allowed by SLS_ALLOWED_ENDPOINTS"}},
		"localhost endpoint, default allow-list": {[]string{"SLS_ALLOWED_ENDPOINTS=", "SLS_HTTPS="},
			map[string]any{"endpoint": "localhost:" + trapPort}, []string{"source.endpoint", "not allowed"}},
		"foreign host":                     {nil, map[string]any{"endpoint": "http://attacker.example.com:" + trapPort}, []string{"source.endpoint", "not allowed"}},
		"other loopback address":           {nil, map[string]any{"endpoint": "http://127.0.0.2:" + trapPort}, []string{"source.endpoint", "not allowed"}},
		"another port of the allowed host": {nil, map[string]any{"endpoint": "http://" + trap.addr}, []string{"source.endpoint", "not port " + trapPort}},
		"the allowed host, no port":        {nil, map[string]any{"endpoint": "http://127.0.0.1"}, []string{"source.endpoint", "not port 80"}},
		"localhost, another port":          {nil, map[string]any{"endpoint": "localhost:" + trapPort}, []string{"source.endpoint", "not port " + trapPort}},
		"endpoint with a path":             {nil, map[string]any{"endpoint": "http://" + trap.addr + "/x"}, []string{"source.endpoint", "path"}},
		"project moves the host": {[]string{"SLS_ALLOWED_ENDPOINTS=", "SLS_HTTPS="},
			map[string]any{"projectName": "127.0.0.1:" + trapPort + "?", "endpoint": "cn-hangzhou-intranet.log.aliyuncs.com"},
			[]string{"source.projectName", "3–63 characters"}},
		"project with a slash":   {nil, map[string]any{"projectName": "a/b"}, []string{"source.projectName"}},
		"project with an at":     {nil, map[string]any{"projectName": "a@" + trap.addr}, []string{"source.projectName"}},
		"project names a host":   {nil, map[string]any{"projectName": "x.127.0.0.1"}, []string{"source.projectName"}},
		"upper-case project":     {nil, map[string]any{"projectName": strings.ToUpper(c.data.Project)}, []string{"source.projectName"}},
		"empty labels":           {nil, map[string]any{"projectName": "a..b"}, []string{"source.projectName"}},
		"logstore with a query":  {nil, map[string]any{"logstoreName": "x?y=1"}, []string{"source.logstoreName"}},
		"cursor with a query":    {nil, map[string]any{"beginCursor": "MTA=&type=x"}, []string{"source.beginCursor"}},
		"shard number far above": {nil, map[string]any{"shardId": 1 << 40}, []string{"source.shardId"}},
	} {
		t.Run(name, func(t *testing.T) {
			env := append([]string{"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + sysPort}, tc.env...)
			fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{Timeout: 20 * time.Second, Env: env})
			res, err := fn.Invoke(t.Context(), withSource(t, base, tc.set))
			if err != nil {
				t.Fatal(err)
			}
			if res.Err == nil {
				t.Fatalf("invocation succeeded: %s", res.Payload)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.Err.Message, w) {
					t.Errorf("error %q lacks %q", res.Err.Message, w)
				}
			}
		})
	}
	if n := trap.conns.Load(); n != 0 {
		t.Errorf("%d connections reached the trap listener", n)
	}
	if n := syslog.conns.Load(); n != 0 {
		t.Errorf("%d connections reached the syslog receiver for refused events", n)
	}
}

const (
	markerSecret = "MARKERSECRETa1b2c3d4e5f6a7b8c9d0"
	markerToken  = "MARKERTOKENa1b2c3d4e5f6a7b8c9d0e1f2"
	markerKey    = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7MARKERKEY\n-----END PRIVATE KEY-----\n"
)

// hasMarker reports whether out holds any part of a marker secret.
func hasMarker(out string) bool {
	u := strings.ToUpper(out)
	return strings.Contains(u, "MARKERSECRET") || strings.Contains(u, "MARKERTOKEN") || strings.Contains(u, "MARKERKEY") ||
		strings.Contains(u, "MIIEVQIBADAN")
}

// TestNoSecretReachesAnyOutput runs every failure path it can reach with
// marker secrets in the credentials and key material in the wrong and the
// right variables, and greps all output: errors, log lines, summaries,
// HTTP answers, the CLI's stdout and stderr.
func TestNoSecretReachesAnyOutput(t *testing.T) {
	c := newCloud(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(keyFile, []byte(markerKey), 0o644); err != nil {
		t.Fatal(err)
	}
	syslog := newConnCounter(t)
	_, sysPort, _ := net.SplitHostPort(syslog.addr)
	begin, end := c.shardRange(t, 0)
	marked := fcemu.Credentials{AccessKeyID: c.role.AccessKeyID, AccessKeySecret: markerSecret, SecurityToken: markerToken}
	good := []string{"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + sysPort}
	var outputs []string

	// The function: configurations rejected at cold start (key material in
	// the wrong variable, an unreadable key file, a key without a
	// certificate), then failing invocations under marked credentials.
	for name, env := range map[string][]string{
		"PEM in the key file variable": {"SYSLOG_PROTOCOL=tls", "SYSLOG_TLS_KEY_FILE=" + markerKey, "SYSLOG_TLS_CERT_FILE=/nonexistent"},
		"PEM in the CA file variable":  {"SYSLOG_PROTOCOL=tls", "SYSLOG_TLS_CA_FILE=" + markerKey},
		"key not PEM":                  {"SYSLOG_PROTOCOL=tls", "SYSLOG_TLS_KEY=" + markerSecret, "SYSLOG_TLS_CERT=" + markerKey},
		"key without certificate":      {"SYSLOG_PROTOCOL=tls", "SYSLOG_TLS_KEY_FILE=" + keyFile},
		"TLS variable without TLS":     {"SYSLOG_TLS_KEY=" + markerKey},
		"secret in another variable":   {"SYSLOG_FACILITY=" + markerSecret, "SYSLOG_TLS_MIN_VERSION=" + markerKey},
		"valid configuration":          nil,
	} {
		t.Run(name, func(t *testing.T) {
			out := &syncBuffer{}
			fn, err := fcemu.Start(context.Background(), localcloud.Deployed(fcemu.Config{
				Binary: functionBinary, Contract: fcemu.ContractCustom, Timeout: 20 * time.Second,
				Credentials: marked, Output: out, FunctionName: "sls2siem",
				Env: append(append(append([]string(nil), good...), "SLS_ALLOWED_ENDPOINTS="+localcloud.AllowedPatterns(c.endpoint), "SLS_HTTPS=false"), env...),
			}))
			if err != nil {
				t.Fatal(err)
			}
			defer fn.Stop(context.Background())
			for _, ev := range [][]byte{
				c.event(0, begin, end),              // wrong secret (SignatureNotMatch) or the configuration error
				c.event(0, "bm90LWEtY3Vyc29y", end), // InvalidCursor
				withSource(t, c.event(0, begin, end), map[string]any{"projectName": markerSecret}), // a secret-looking project
				withSource(t, c.event(0, begin, end), map[string]any{"endpoint": markerKey}),       // PEM as the endpoint
				[]byte(markerKey), // not JSON at all
			} {
				res, err := fn.Invoke(t.Context(), ev)
				if err != nil {
					t.Fatal(err)
				}
				if res.Err == nil {
					t.Fatalf("invocation succeeded: %s", res.Payload)
				}
				outputs = append(outputs, res.Err.Message, string(res.Payload))
			}
			fn.Stop(context.Background())
			outputs = append(outputs, out.String())
		})
	}

	// The CLI: check, ship and consume, with the same material.
	run := func(env []string, args ...string) string {
		cmd := exec.Command(functionBinary, args...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(string(c.event(0, begin, end)))
		var b bytes.Buffer
		cmd.Stdout, cmd.Stderr = &b, &b
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		done := make(chan struct{})
		go func() { cmd.Run(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			cmd.Process.Kill()
			<-done
		}
		return b.String()
	}
	creds := []string{"ALIBABA_CLOUD_ACCESS_KEY_ID=" + c.role.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + markerSecret,
		"ALIBABA_CLOUD_SECURITY_TOKEN=" + markerToken, "SLS_ALLOWED_ENDPOINTS=" + localcloud.AllowedPatterns(c.endpoint), "SLS_HTTPS=false"}
	outputs = append(outputs,
		run(append(good, "SYSLOG_PROTOCOL=tls", "SYSLOG_TLS_KEY_FILE="+markerKey), "check"),
		run(append(good, "SYSLOG_TLS_CERT="+markerKey), "check"),
		run(append(append(good, creds...), "SLS_HTTPS=false"), "ship", "-event", "-", "-timeout", "20s"),
		run(append(append(good, creds...), "SLS_ENDPOINT="+c.endpoint, "SLS_PROJECT="+c.data.Project, "SLS_LOGSTORE="+c.data.Logstore,
			"SLS_CONSUMER_STOP_TIMEOUT=1s"), "consume"),
		run(append(append(good, creds...), "SLS_ENDPOINT="+markerKey, "SLS_PROJECT="+markerSecret, "SLS_LOGSTORE=x"), "consume"),
	)
	for i, out := range outputs {
		if hasMarker(out) {
			t.Errorf("output %d holds a marker secret:\n%s", i, out)
		}
	}
	if len(outputs) < 30 {
		t.Fatalf("only %d outputs were checked", len(outputs))
	}
}

// TestOversizedEventIsRefused: an event over the body limit is an
// invocation error naming the limit, and the instance goes on serving.
func TestOversizedEventIsRefused(t *testing.T) {
	c := newCloud(t)
	rs := newConnCounter(t)
	_, port, _ := net.SplitHostPort(rs.addr)
	fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{Timeout: 20 * time.Second,
		Env: []string{"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + port}})
	_, end := c.shardRange(t, 0)
	res, err := fn.Invoke(t.Context(), append([]byte(`{"pad":"`), append(bytes.Repeat([]byte("x"), 2<<20), []byte(`"}`)...)...))
	if err != nil {
		t.Fatal(err)
	}
	if res.Err == nil || !strings.Contains(res.Err.Message, "larger than") {
		t.Errorf("a 2 MiB event: %+v", res.Err)
	}
	// An empty range after the oversized body: the instance still serves.
	res, err = fn.Invoke(t.Context(), c.event(0, end, end))
	if err != nil || res.Err != nil {
		t.Fatalf("empty range after an oversized event: %v %+v", err, res.Err)
	}
}
