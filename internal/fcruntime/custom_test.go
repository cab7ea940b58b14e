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
	srv := httptest.NewServer(NewServeMux(h, slog.New(slog.NewTextHandler(io.Discard, nil))))
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
	if resp.StatusCode < 300 || resp.Header.Get("x-fc-status") != "404" || eb.Message != h.err.Error() {
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

func TestRequestDeadline(t *testing.T) {
	now := time.Unix(1000, 0)
	h := http.Header{}
	if !requestDeadline(h, now).IsZero() {
		t.Error("no headers: want no deadline")
	}
	h.Set("x-fc-function-timeout", "30")
	if got := requestDeadline(h, now); !got.Equal(now.Add(30 * time.Second)) {
		t.Errorf("timeout header: %v", got)
	}
	h.Set("x-fc-function-deadline", "1005000")
	if got := requestDeadline(h, now); !got.Equal(time.Unix(1005, 0)) {
		t.Errorf("deadline header: %v", got)
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
	srv := httptest.NewServer(newServer(h, slog.New(slog.NewTextHandler(&logged, nil))).Handler)
	t.Cleanup(srv.Close)
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
	if resp.StatusCode != 500 || resp.Header.Get("x-fc-status") != "404" || !strings.Contains(body, "the invocation panicked") {
		t.Errorf("panic answered %d %q", resp.StatusCode, body)
	}
	if !strings.Contains(logged.String(), "invocation panicked") || !strings.Contains(logged.String(), "stack") {
		t.Errorf("the panic was not logged with its stack: %s", logged.String())
	}
	if resp, body := post("/invoke", "{}"); resp.StatusCode != 200 || body != `{"logs":3}` {
		t.Errorf("after a panic: %d %q", resp.StatusCode, body)
	}
	if resp, body := post("/invoke", strings.Repeat("x", maxEventSize+1)); resp.StatusCode != 500 || !strings.Contains(body, "larger than 1048576 bytes") {
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
	s := newServer(h, slog.New(slog.DiscardHandler))
	if s.ReadTimeout <= 0 || s.ReadHeaderTimeout <= 0 || s.WriteTimeout <= 0 || s.IdleTimeout <= 0 || s.MaxHeaderBytes <= 0 || s.MaxHeaderBytes > 1<<20 {
		t.Errorf("server bounds: %+v", s)
	}
}
