package fcemu

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// runtimeAPIPrefix is the base path of the FC runtime API (fc-runtime-go-sdk).
const runtimeAPIPrefix = "/2020-11-11/runtime/invocation/"

// runtimeAPI serves the go1 runtime API to one function process.
type runtimeAPI struct {
	ln  net.Listener
	srv *http.Server

	readyOnce sync.Once
	ready     chan struct{} // closed on the first next call

	mu    sync.Mutex
	queue []*call          // waiting for next
	calls map[string]*call // delivered, not answered
	wake  chan struct{}    // closed and replaced when the queue grows
}

func newRuntimeAPI() (*runtimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fcemu: listen for the runtime API: %w", err)
	}
	a := &runtimeAPI{
		ln:    ln,
		ready: make(chan struct{}),
		calls: make(map[string]*call),
		wake:  make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimeAPIPrefix+"next", a.next)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"{id}/response", a.response)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"{id}/error", a.error)
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go a.srv.Serve(ln)
	return a, nil
}

func (a *runtimeAPI) env() []string { return []string{"FC_RUNTIME_API=" + a.ln.Addr().String()} }

func (a *runtimeAPI) send(_ *process, c *call) {
	a.mu.Lock()
	a.queue = append(a.queue, c)
	close(a.wake)
	a.wake = make(chan struct{})
	a.mu.Unlock()
}

func (a *runtimeAPI) withdraw(c *call) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, q := range a.queue {
		if q == c {
			a.queue = append(a.queue[:i], a.queue[i+1:]...)
			return true
		}
	}
	return false
}

func (a *runtimeAPI) waitReady(ctx context.Context, p *process) error {
	select {
	case <-a.ready:
		return nil
	case <-p.done:
		return fmt.Errorf("%w: process exited: %s", errNotReady, p.exitStatus())
	case <-ctx.Done():
		return fmt.Errorf("%w: no runtime API call: %w", errNotReady, ctx.Err())
	}
}

// close stops the server; it is called only once the process has exited, so
// the SDK's retry loop never sees the API go away while it runs.
func (a *runtimeAPI) close() { a.srv.Close() }

// next blocks until a call is queued, then hands it to the function. The
// instance's slots keep the queue within InstanceConcurrency invocations.
func (a *runtimeAPI) next(w http.ResponseWriter, r *http.Request) {
	a.readyOnce.Do(func() { close(a.ready) })
	for {
		a.mu.Lock()
		if len(a.queue) > 0 {
			c := a.queue[0]
			a.queue = a.queue[1:]
			a.calls[c.id] = c
			h := c.deliver()
			a.mu.Unlock()
			for k, v := range h {
				w.Header()[k] = v
			}
			w.Header().Set("Content-Type", "application/octet-stream")
			w.WriteHeader(http.StatusOK)
			w.Write(c.body)
			return
		}
		wake := a.wake
		a.mu.Unlock()
		select {
		case <-wake:
		case <-r.Context().Done():
			return
		}
	}
}

// take removes and returns the delivered call id.
func (a *runtimeAPI) take(id string) *call {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.calls[id]
	delete(a.calls, id)
	return c
}

func (a *runtimeAPI) response(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	c := a.take(r.PathValue("id"))
	if c == nil {
		http.Error(w, "unknown request id", http.StatusNotFound)
		return
	}
	c.answer(body, nil, nil)
}

func (a *runtimeAPI) error(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	c := a.take(r.PathValue("id"))
	if c == nil {
		http.Error(w, "unknown request id", http.StatusNotFound)
		return
	}
	c.answer(nil, parseFunctionError(body, ""), nil)
}

// typeUnhandled is the Type of a function error that carries no type.
const typeUnhandled = "UnhandledInvocationError"

// parseFunctionError decodes an FC error body {"errorMessage","errorType"};
// a body that is not such JSON becomes the message, prefixed by prefix.
func parseFunctionError(body []byte, prefix string) *FunctionError {
	var e struct {
		Message *string `json:"errorMessage"`
		Type    string  `json:"errorType"`
	}
	if err := json.Unmarshal(body, &e); err == nil && e.Message != nil {
		if e.Type == "" {
			e.Type = typeUnhandled
		}
		return &FunctionError{Type: e.Type, Message: *e.Message}
	}
	msg := string(body)
	if prefix != "" && msg != "" {
		msg = prefix + ": " + msg
	} else if msg == "" {
		msg = prefix
	}
	return &FunctionError{Type: typeUnhandled, Message: msg}
}
