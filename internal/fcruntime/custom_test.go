package fcruntime

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sls2siem/internal/secret"
)

type recordingHandler struct {
	got      Request
	deadline time.Time
	err      error
	preStops atomic.Int32
}

func (h *recordingHandler) Invoke(ctx context.Context, req Request) ([]byte, error) {
	h.got = req
	h.deadline, _ = ctx.Deadline()
	if h.err != nil {
		return nil, h.err
	}
	return []byte(`{"logs":3}`), nil
}

func (h *recordingHandler) PreStop(ctx context.Context) { h.preStops.Add(1) }

func server(t *testing.T, h Handler) *httptest.Server {
	return serverWith(t, Server{Handler: h})
}

// serverWith serves s (its Log discarded unless set) until the test ends.
func serverWith(t *testing.T, s Server) *httptest.Server {
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	srv := httptest.NewServer(s.newServer().Handler)
	t.Cleanup(srv.Close)
	return srv
}

func TestInvokeCarriesEventCredentialsAndDeadline(t *testing.T) {
	h := &recordingHandler{}
	srv := server(t, h)
	deadline := time.Now().Add(42 * time.Second).Truncate(time.Millisecond)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/invoke", strings.NewReader(`{"source":{}}`))
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("x-fc-request-id", "req-1")
	req.Header.Set("x-fc-access-key-id", "STS.id")
	req.Header.Set("x-fc-access-key-secret", "secret")
	req.Header.Set("x-fc-security-token", "token")
	req.Header.Set("x-fc-function-deadline", strconv.FormatInt(deadline.UnixMilli(), 10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"logs":3}` {
		t.Fatalf("answer %d %s", resp.StatusCode, body)
	}
	g := h.got
	if g.ID != "req-1" || string(g.Payload) != `{"source":{}}` ||
		g.Credentials != (secret.Credentials{AccessKeyID: "STS.id", AccessKeySecret: "secret", SecurityToken: "token"}) || !g.Deadline.Equal(deadline) {
		t.Errorf("request = %+v", g)
	}
	if !h.deadline.Equal(deadline) {
		t.Errorf("context deadline %v, want %v", h.deadline, deadline)
	}
}

func TestInvokeErrorIsAFunctionError(t *testing.T) {
	h := &recordingHandler{err: errors.New("trigger event: field source.endpoint is missing")}
	srv := server(t, h)
	resp, err := http.Post(srv.URL+"/invoke", "application/octet-stream", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var eb ErrorBody
	if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil {
		t.Fatal(err)
	}
	// FC 3.0 documents 404, in the status and in x-fc-status.
	if resp.StatusCode != 404 || resp.Header.Get("x-fc-status") != "404" || eb.Message != h.err.Error() || eb.Type != "HandledInvocationError" {
		t.Errorf("error answer: %d %q %+v", resp.StatusCode, resp.Header.Get("x-fc-status"), eb)
	}
}

func TestLifecycle(t *testing.T) {
	h := &recordingHandler{}
	srv := server(t, h)
	for _, c := range []struct{ method, path string }{
		{http.MethodPost, "/initialize"}, {http.MethodGet, "/pre-freeze"}, {http.MethodGet, "/pre-stop"},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s %s: %d", c.method, c.path, resp.StatusCode)
		}
	}
	if h.preStops.Load() != 1 {
		t.Errorf("pre-stop reached the handler %d times, want 1", h.preStops.Load())
	}
}

func TestHeaderDeadline(t *testing.T) {
	now := time.Unix(1000, 0)
	h := http.Header{}
	if !headerDeadline(h, now).IsZero() {
		t.Error("no headers: want no deadline")
	}
	h.Set("x-fc-function-timeout", "30")
	if got := headerDeadline(h, now); !got.Equal(now.Add(30 * time.Second)) {
		t.Errorf("timeout header: %v", got)
	}
	h.Set("x-fc-function-deadline", "1005000")
	if got := headerDeadline(h, now); !got.Equal(time.Unix(1005, 0)) {
		t.Errorf("deadline header: %v", got)
	}
	for _, bad := range []string{"", "0", "-5", "soon", "1e3"} {
		h := http.Header{"X-Fc-Function-Deadline": {bad}, "X-Fc-Function-Timeout": {bad}}
		if got := headerDeadline(h, now); !got.IsZero() {
			t.Errorf("headers %q: deadline %v, want none", bad, got)
		}
	}
}

// TestDeadline: the earliest of FC's deadline and the arrival plus the
// configured timeout; either alone; none.
func TestDeadline(t *testing.T) {
	arrived := time.Unix(1000, 0)
	fc := arrived.Add(20 * time.Second)
	for _, tc := range []struct {
		name    string
		fc      time.Time
		timeout time.Duration
		want    time.Time
	}{
		{"neither", time.Time{}, 0, time.Time{}},
		{"FC only", fc, 0, fc},
		{"configured only", time.Time{}, 30 * time.Second, arrived.Add(30 * time.Second)},
		{"FC earlier", fc, 30 * time.Second, fc},
		{"configured earlier", fc, 10 * time.Second, arrived.Add(10 * time.Second)},
	} {
		if got := Deadline(tc.fc, arrived, tc.timeout); !got.Equal(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestInvokeDeadlineWithoutHeaders: under FC 3.0's documented headers (no
// deadline, no timeout) the invocation's deadline is its arrival plus the
// configured timeout, in the Request and the context.
func TestInvokeDeadlineWithoutHeaders(t *testing.T) {
	h := &recordingHandler{}
	srv := serverWith(t, Server{Handler: h, Timeout: 42 * time.Second})
	before := time.Now()
	resp, err := http.Post(srv.URL+"/invoke", "application/octet-stream", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	after := time.Now()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if d := h.got.Deadline; d.Before(before.Add(42*time.Second)) || d.After(after.Add(42*time.Second)) {
		t.Errorf("deadline %v, want arrival + 42s (arrival within [%v, %v])", d, before, after)
	}
	if !h.deadline.Equal(h.got.Deadline) {
		t.Errorf("context deadline %v, request deadline %v", h.deadline, h.got.Deadline)
	}

	// Without a configured timeout and without headers: no deadline.
	h2 := &recordingHandler{}
	resp, err = http.Post(serverWith(t, Server{Handler: h2}).URL+"/invoke", "application/octet-stream", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !h2.got.Deadline.IsZero() || !h2.deadline.IsZero() {
		t.Errorf("no timeout, no headers: deadline %v (context %v), want none", h2.got.Deadline, h2.deadline)
	}
}

func TestServerAddr(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string // "" for an error
	}{
		{map[string]string{}, "0.0.0.0:9000"},
		{map[string]string{"FC_CUSTOM_LISTEN_PORT": "9100"}, "0.0.0.0:9100"},
		{map[string]string{"FC_SERVER_PORT": "9200"}, "0.0.0.0:9200"},
		{map[string]string{"FC_CUSTOM_LISTEN_PORT": "9100", "FC_SERVER_PORT": "9200"}, "0.0.0.0:9100"},
		{map[string]string{"FC_CUSTOM_LISTEN_PORT": "0"}, ""},
		{map[string]string{"FC_CUSTOM_LISTEN_PORT": "x", "FC_SERVER_PORT": "9200"}, ""},
		{map[string]string{"FC_SERVER_PORT": "65536"}, ""},
	} {
		got, err := ServerAddr(func(k string) string { return tc.env[k] })
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%v: %s, want an error", tc.env, got)
		case tc.want == "" && !strings.Contains(err.Error(), "want a port number"):
			t.Errorf("%v: %v, want an error naming the variable and what is accepted", tc.env, err)
		case tc.want != "" && (err != nil || got != tc.want):
			t.Errorf("%v: %s %v, want %s", tc.env, got, err, tc.want)
		}
	}
}

type panickingHandler struct{ recordingHandler }

func (h *panickingHandler) Invoke(ctx context.Context, req Request) ([]byte, error) {
	if string(req.Payload) == "panic" {
		var m map[string]int
		m["x"]++ // a nil map write: a runtime panic
	}
	return h.recordingHandler.Invoke(ctx, req)
}

// TestServerIsHardened: a panic is the invocation's error and the
// instance goes on serving; the body, headers and lifecycle methods are
// bounded; a stray pre-stop does not break later invocations.
func TestServerIsHardened(t *testing.T) {
	h := &panickingHandler{}
	var logged strings.Builder
	srv := serverWith(t, Server{Handler: h, Log: slog.New(slog.NewTextHandler(&logged, nil))})
	post := func(path, body string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Post(srv.URL+path, "application/octet-stream", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := post("/invoke", "panic")
	if resp.StatusCode != 404 || resp.Header.Get("x-fc-status") != "404" || !strings.Contains(body, "the invocation panicked") {
		t.Errorf("panic answered %d %q", resp.StatusCode, body)
	}
	if !strings.Contains(logged.String(), "invocation panicked") || !strings.Contains(logged.String(), "stack") {
		t.Errorf("the panic was not logged with its stack: %s", logged.String())
	}
	if resp, body := post("/invoke", "{}"); resp.StatusCode != 200 || body != `{"logs":3}` {
		t.Errorf("after a panic: %d %q", resp.StatusCode, body)
	}
	if resp, body := post("/invoke", strings.Repeat("x", maxEventSize+1)); resp.StatusCode != 404 || !strings.Contains(body, "larger than 1048576 bytes") {
		t.Errorf("oversized event: %d %q", resp.StatusCode, body)
	}
	for _, c := range []struct{ method, path string }{{http.MethodPost, "/pre-stop"}, {http.MethodDelete, "/pre-stop"}, {http.MethodPost, "/pre-freeze"}, {http.MethodGet, "/invoke"}} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d, want 405", c.method, c.path, resp.StatusCode)
		}
	}
	if h.preStops.Load() != 0 {
		t.Errorf("a wrong method reached PreStop")
	}
	s := Server{Handler: h, Log: slog.New(slog.DiscardHandler)}.newServer()
	if s.ReadTimeout <= 0 || s.ReadHeaderTimeout <= 0 || s.WriteTimeout <= 0 || s.MaxHeaderBytes <= 0 || s.MaxHeaderBytes > 1<<20 {
		t.Errorf("server bounds: %+v", s)
	}
	// FC keeps idle connections to the server 15 minutes or more, frozen
	// or not, and the server must keep them as long.
	if s.IdleTimeout < MinIdleTimeout {
		t.Errorf("IdleTimeout %v: FC requires the server to keep idle connections %v or more", s.IdleTimeout, MinIdleTimeout)
	}
}

// TestInFlight: wait returns at once when idle, once the last invocation
// is done, or when its context ends.
func TestInFlight(t *testing.T) {
	var f inFlight
	f.wait(context.Background()) // idle: at once
	f.add()
	f.add()
	waited := make(chan struct{})
	go func() { f.wait(context.Background()); close(waited) }()
	f.done()
	select {
	case <-waited:
		t.Fatal("wait returned with an invocation in flight")
	default:
	}
	f.done()
	<-waited
	f.add()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.wait(ctx) // returns: its context ended
	f.done()
}
