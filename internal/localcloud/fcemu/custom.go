package fcemu

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"time"
)

// typeMissingHook marks a lifecycle call the custom runtime does not serve.
const typeMissingHook = "fcemu.MissingHook"

// customRuntime talks to an FC 3.0 custom runtime HTTP server.
type customRuntime struct {
	addr   string // 127.0.0.1:PORT
	port   int
	tr     *http.Transport
	client *http.Client
	// documentedEnv: only FC_CUSTOM_LISTEN_PORT, as FC 3.0 documents it.
	documentedEnv bool
	// strictHooks: a missing hook fails like any other non-2xx answer.
	strictHooks bool
	// once: an invocation is sent once, as FC forwards it; net/http would
	// otherwise resend a request whose kept-alive connection the function
	// closed before reading it.
	once bool
}

func newCustomRuntime(port int, terms Terms) *customRuntime {
	// A transport per process: idle connections to a dead process must not
	// be reused for its successor on the same port. Idle connections are
	// kept without limit (IdleConnTimeout 0), as FC keeps them 15 minutes
	// or more, frozen or not.
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	return &customRuntime{
		addr:          net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		port:          port,
		tr:            tr,
		client:        &http.Client{Transport: tr},
		documentedEnv: !terms.KindEnv,
		strictHooks:   terms.Hooks == HooksConfigured,
		once:          !terms.Freeze.Off,
	}
}

// env names the port. FC 3.0 documents FC_CUSTOM_LISTEN_PORT ("the
// function's custom listening port", Configure environment variables,
// https://www.alibabacloud.com/help/en/functioncompute/fc/environment-variables);
// FC_SERVER_PORT is sent too under KindEnv.
func (cr *customRuntime) env() []string {
	p := strconv.Itoa(cr.port)
	if cr.documentedEnv {
		return []string{"FC_CUSTOM_LISTEN_PORT=" + p}
	}
	return []string{"FC_SERVER_PORT=" + p, "FC_CUSTOM_LISTEN_PORT=" + p}
}

// route returns the method and path FC uses for a call type.
func route(t funcType) (method, path string) {
	switch t {
	case typeInitializer:
		return http.MethodPost, "/initialize"
	case typePreFreeze:
		return http.MethodGet, "/pre-freeze"
	case typePreStop:
		return http.MethodGet, "/pre-stop"
	default:
		return http.MethodPost, "/invoke"
	}
}

func (cr *customRuntime) send(p *process, c *call) {
	method, path := route(c.typ)
	h := c.deliver()
	h.Set("x-fc-control-path", path)
	go func() {
		var body io.Reader
		if method == http.MethodPost {
			body = bytes.NewReader(c.body)
		}
		var idle time.Duration
		reused := false
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
			reused, idle = info.Reused && info.WasIdle, info.IdleTime
		}}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(p.ctx, trace), method, "http://"+cr.addr+path, body)
		if err != nil {
			c.answer(nil, nil, fmt.Errorf("%s %s: %w", method, path, err))
			return
		}
		req.Header = h
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/octet-stream")
			if cr.once {
				req.GetBody = nil // not replayable: no silent resend on a new connection
			}
		}
		resp, err := cr.client.Do(req)
		if err != nil {
			if reused {
				err = &keepAliveError{idle: idle, err: err}
			}
			c.answer(nil, nil, fmt.Errorf("%s %s: %w", method, path, err))
			return
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		if err != nil {
			c.answer(nil, nil, fmt.Errorf("%s %s: read response: %w", method, path, err))
			return
		}
		fcStatus := resp.Header.Get("x-fc-status")
		switch {
		case resp.StatusCode/100 == 2 && fcStatus != "404":
			c.answerHTTP(resp.StatusCode, out, nil, nil)
		case c.typ != typeHandler && !cr.strictHooks && fcStatus == "" && (resp.StatusCode == http.StatusNotFound ||
			resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotImplemented):
			c.answerHTTP(resp.StatusCode, nil, &FunctionError{Type: typeMissingHook, Message: path + ": " + resp.Status}, nil)
		default:
			c.answerHTTP(resp.StatusCode, nil, parseFunctionError(out, "HTTP "+strconv.Itoa(resp.StatusCode)), nil)
		}
	}()
}

// keepAliveError is a request that failed on a connection the emulator had
// kept alive: the function's server closed it while it was idle.
type keepAliveError struct {
	idle time.Duration
	err  error
}

func (e *keepAliveError) Error() string {
	return fmt.Sprintf("the connection kept alive for %v failed: %v", e.idle.Round(time.Millisecond), e.err)
}

func (e *keepAliveError) Unwrap() error { return e.err }

// withdraw never succeeds: send delivers at once.
func (cr *customRuntime) withdraw(*call) bool { return false }

// waitReady waits until the port accepts connections, like FC does.
func (cr *customRuntime) waitReady(ctx context.Context, p *process) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	var d net.Dialer
	for {
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		conn, err := d.DialContext(dctx, "tcp", cr.addr)
		cancel()
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-t.C:
		case <-p.done:
			return fmt.Errorf("%w: process exited: %s", errNotReady, p.exitStatus())
		case <-ctx.Done():
			return fmt.Errorf("%w: port %d does not accept connections: %w", errNotReady, cr.port, ctx.Err())
		}
	}
}

func (cr *customRuntime) close() { cr.tr.CloseIdleConnections() }
