package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/localcloud/receiver"
	"sls2siem/internal/localcloud/slsemu"
	"sls2siem/internal/secret"
	"sls2siem/internal/slsapi"
	"sls2siem/internal/trust"
)

// The golden tests run every command in-process (Main) against the SLS
// emulator and a loopback receiver, and compare its stdout, stderr and
// exit status with testdata/cli/<command>/<case>/. -update rewrites them.

var update = flag.Bool("update", false, "rewrite the golden files of testdata/cli")

// The data of every test: project demo, logstore audit (one shard of
// three log groups of two logs, received a minute apart from base),
// dead-letter logstore deadletter.
const (
	project   = "demo"
	logstore  = "audit"
	dlStore   = "deadletter"
	groupLogs = 2
	nGroups   = 3
	akID      = "LTAIcliTest"
	akSecret  = "cli-test-secret-0123456789abcdef"
	// dlKey signs the dead-letter records (SHIP_DEADLETTER_KEY).
	dlKey = "cli-test-deadletter-key-0123456789abcdef"
)

var (
	base = time.Date(2024, 5, 6, 7, 0, 0, 0, time.UTC)
	// now is the commands' clock: an hour after the data.
	now = base.Add(time.Hour)
)

// world is the emulator, its endpoint (through a hook that can stall a
// request), a receiver and the environment of a case.
type world struct {
	t        *testing.T
	emu      *slsemu.Server
	endpoint string
	rcv      *receiver.Receiver
	received chan struct{}
	tmp      string
	env      map[string]string

	// args replaces whole arguments of the command line (a value a setup
	// learnt, e.g. an address).
	args map[string]string

	mu    sync.Mutex
	stall map[string]chan struct{} // op: closed when a request of it arrived; it then waits for its cancellation
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, emu: slsemu.New(), tmp: t.TempDir(), stall: map[string]chan struct{}{}, received: make(chan struct{}, 1024),
		args: map[string]string{}}
	w.emu.AddCredential(slsemu.Credential{AccessKeyID: akID, AccessKeySecret: akSecret})
	srv := httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(srv.Close)
	w.endpoint = srv.URL
	for _, ls := range []string{logstore, dlStore} {
		if err := w.emu.CreateLogstore(project, ls, 1); err != nil {
			t.Fatal(err)
		}
	}
	for g := range nGroups {
		lg := &sls.LogGroup{Topic: proto.String("t")}
		for l := range groupLogs {
			lg.Logs = append(lg.Logs, &sls.Log{Time: proto.Uint32(uint32(base.Unix())),
				Contents: []*sls.LogContent{{Key: proto.String("id"), Value: proto.String(fmt.Sprintf("g%d-l%d", g, l))}}})
		}
		if _, err := w.emu.Append(project, logstore, 0, lg, base.Add(time.Duration(g)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	w.rcv, err = receiver.Listen("tcp", "127.0.0.1:0", receiver.Options{Handle: func(receiver.Message) { w.received <- struct{}{} }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.rcv.Close() })
	_, port, _ := net.SplitHostPort(w.rcv.Addr())
	w.env = map[string]string{
		"SYSLOG_HOST": "127.0.0.1", "SYSLOG_PORT": port, "SYSLOG_HOSTNAME": "test-host", "SYSLOG_MAX_RETRIES": "0",
		"SYSLOG_RETRY_BACKOFF": "10ms", "SYSLOG_DIAL_TIMEOUT": "1s",
		"SLS_ENDPOINT": w.endpoint, "SLS_PROJECT": project, "SLS_LOGSTORE": logstore,
		"SLS_ALLOWED_ENDPOINTS": strings.TrimPrefix(w.endpoint, "http://"), "SLS_HTTPS": "false",
		"ALIBABA_CLOUD_ACCESS_KEY_ID": akID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": akSecret,
		"SHIP_DEADLETTER_KEY": dlKey, "SHIP_REDRIVE_LOGSTORES": logstore,
		"LOG_LEVEL": "info", "LOG_FORMAT": "json",
	}
	return w
}

// serve passes requests to the emulator, but holds those of a stalled
// operation until their client gives up.
func (w *world) serve(rw http.ResponseWriter, r *http.Request) {
	op := opOf(r)
	w.mu.Lock()
	ch, stalled := w.stall[op]
	if stalled {
		delete(w.stall, op)
	}
	w.mu.Unlock()
	if stalled {
		close(ch)
		<-r.Context().Done()
		return
	}
	w.emu.ServeHTTP(rw, r)
}

// stallOn makes the next request of op wait for its cancellation; the
// channel is closed when it arrives.
func (w *world) stallOn(op string) <-chan struct{} {
	ch := make(chan struct{})
	w.mu.Lock()
	w.stall[op] = ch
	w.mu.Unlock()
	return ch
}

// opOf names the SLS operation of a request, as far as the tests stall.
func opOf(r *http.Request) string {
	q := r.URL.Query().Get("type")
	switch {
	case q == "logs":
		return slsemu.OpPullLogs
	case strings.HasSuffix(r.URL.Path, "/shards"):
		return slsemu.OpListShards
	case r.URL.Query().Get("type") == "cursor":
		return slsemu.OpGetCursor
	case strings.Contains(r.URL.Path, "/consumergroups"):
		return "consumergroups"
	}
	return ""
}

// client is an SLS client of the emulator, for a case's set-up.
func (w *world) client() *slsapi.Client {
	allowed, _ := trust.ParseEndpoints(w.env["SLS_ALLOWED_ENDPOINTS"], false)
	c, err := slsapi.New(w.endpoint, secret.Credentials{AccessKeyID: akID, AccessKeySecret: akSecret}, slsapi.NewTransport(allowed))
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// closedPort is a loopback port nobody listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	return port
}

// outcome is what a command did.
type outcome struct {
	code           int
	stdout, stderr string
}

// run runs sls2siem args in w's environment. during, when set, runs
// alongside it with the signal channel.
func (w *world) run(args []string, stdin string, during func(sig chan<- os.Signal, stderr *watched)) outcome {
	w.t.Helper()
	sigs := make(chan os.Signal, 2)
	var stdout bytes.Buffer
	stderr := &watched{}
	env := Env{
		Getenv: func(k string) string { return w.env[k] },
		Environ: func() []string {
			var out []string
			for _, k := range slices.Sorted(maps.Keys(w.env)) {
				out = append(out, k+"="+w.env[k])
			}
			return out
		},
		Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: stderr, Signals: sigs,
		Now: func() time.Time { return now }, Argv0: "sls2siem",
		Build: Build{Version: "v1.2.3", Commit: "0123456789abcdef0123456789abcdef01234567", GoVersion: "go1.24.0"},
	}
	done := make(chan int)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	go func() { done <- Main(ctx, args, env) }()
	if during != nil {
		during(sigs, stderr)
	}
	var code int
	select {
	case code = <-done:
	case <-ctx.Done():
		w.t.Fatalf("sls2siem %s did not end:\n%s", strings.Join(args, " "), stderr.String())
	}
	return outcome{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// watched is a stderr that tells when a line holding a text was written.
type watched struct {
	mu    sync.Mutex
	b     bytes.Buffer
	waits []wait
}

type wait struct {
	text string
	ch   chan struct{}
}

func (s *watched) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	kept := s.waits[:0]
	for _, w := range s.waits {
		if strings.Contains(s.b.String(), w.text) {
			close(w.ch)
		} else {
			kept = append(kept, w)
		}
	}
	s.waits = kept
	return n, err
}

func (s *watched) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// when returns a channel closed once stderr holds text.
func (s *watched) when(text string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := make(chan struct{})
	if strings.Contains(s.b.String(), text) {
		close(ch)
	} else {
		s.waits = append(s.waits, wait{text, ch})
	}
	return ch
}

// await waits for ch, failing the test after a minute.
func await(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute):
		t.Fatalf("no %s", what)
	}
}

// normalise replaces what varies between runs: addresses and ports, temp
// paths, durations, times of the run, request ids.
func (w *world) normalise(s string) string {
	s = strings.ReplaceAll(s, w.tmp, "<tmp>")
	s = strings.ReplaceAll(s, w.endpoint, "http://<sls>")
	s = strings.ReplaceAll(s, strings.TrimPrefix(w.endpoint, "http://"), "<sls>")
	s = strings.ReplaceAll(s, w.rcv.Addr(), "<receiver>")
	for _, v := range []string{"FC_SERVER_PORT", "FC_CUSTOM_LISTEN_PORT"} {
		if p := w.env[v]; p != "" {
			s = strings.ReplaceAll(s, ":"+p+`"`, `:<port>"`)
		}
	}
	if p := w.env["SYSLOG_PORT"]; p != "" {
		s = strings.ReplaceAll(s, "127.0.0.1:"+p, "127.0.0.1:<port>")
		s = strings.ReplaceAll(s, `"SYSLOG_PORT":"`+p+`"`, `"SYSLOG_PORT":"<port>"`)
	}
	for _, r := range normalisers {
		s = r.re.ReplaceAllString(s, r.with)
	}
	// Times of the run (a checkpoint's save), not the data's.
	return timestamp.ReplaceAllStringFunc(s, func(ts string) string {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err == nil && time.Since(t).Abs() < 48*time.Hour {
			return "<run-time>"
		}
		return ts
	})
}

var timestamp = regexp.MustCompile(`\b20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z`)

var normalisers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`"time":"[^"]*"`), `"time":"<time>"`},
	{regexp.MustCompile(`"(durationMs|elapsed|lagSeconds)":[0-9.]+`), `"$1":<n>`},
	{regexp.MustCompile(`request id [0-9A-F]+`), `request id <id>`},
	{regexp.MustCompile(`"checkpointSaved": "[^"]*"`), `"checkpointSaved": "<time>"`},
	{regexp.MustCompile(` in [0-9.]+(µs|ms|s|m[0-9.]+s)\n`), " in <d>\n"},
	{regexp.MustCompile(`127\.0\.0\.1:[0-9]{5}\b`), `127.0.0.1:<port>`},
	{regexp.MustCompile(`[0-9]+ logs/s`), `<n> logs/s`},
	{regexp.MustCompile(`pid [0-9]+`), `pid <n>`},
}

// golden compares an outcome with testdata/cli/<dir>/, or writes it there
// with -update. No secret may reach it.
func (w *world) golden(dir string, o outcome) {
	w.t.Helper()
	for _, secretValue := range []string{akSecret, dlKey} {
		if strings.Contains(o.stdout+o.stderr, secretValue) {
			w.t.Fatalf("the output holds a secret:\n%s\n%s", o.stdout, o.stderr)
		}
	}
	path := filepath.Join("..", "..", "testdata", "cli", dir)
	files := map[string]string{"stdout": w.normalise(o.stdout), "stderr": w.normalise(o.stderr), "exit": strconv.Itoa(o.code) + "\n"}
	if *update {
		if err := os.MkdirAll(path, 0o755); err != nil {
			w.t.Fatal(err)
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(path, name), []byte(content), 0o644); err != nil {
				w.t.Fatal(err)
			}
		}
		return
	}
	for _, name := range []string{"exit", "stdout", "stderr"} {
		want, err := os.ReadFile(filepath.Join(path, name))
		if err != nil {
			w.t.Fatalf("%v (run the test with -update to write the golden files)", err)
		}
		if got := files[name]; got != string(want) {
			w.t.Errorf("%s/%s differs from the golden file:\n--- got\n%s\n--- want\n%s", dir, name, got, want)
		}
	}
}
