package slsapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"sls2siem/internal/trust"
)

// Bounds of connecting to an endpoint and of one metadata call (see the
// package documentation).
const (
	DialTimeout         = 3 * time.Second
	TLSHandshakeTimeout = 5 * time.Second
	CallTimeout         = 10 * time.Second
)

// Bounds on answers other than PullLogs data.
const (
	maxErrorBody = 1 << 20  // an SLS error answer is a small JSON object
	maxMetaBody  = 16 << 20 // cursors, shard lists, consumer-group answers
)

// Transport is the HTTP transport of every SLS request of a process: it
// keeps connections alive across invocations and is the last guard of the
// trust boundary. It sends a request only to <project>.<endpoint> where
// the endpoint is allowed (SLS_ALLOWED_ENDPOINTS) and the project label a
// valid project name; it reaches an IP or localhost endpoint directly
// (<project>.<ip> resolves nowhere) only when it is allowed; and it bounds
// every answer before the SDK reads it (a PullLogs answer by the Call's
// LogsAdmitter, any other by a fixed size).
type Transport struct {
	allowed trust.Endpoints
	signing Signing
	base    *http.Transport
	// dial connects to an endpoint (a net.Dialer's DialContext).
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// NewTransport returns the transport for the endpoints allowed. Its
// requests are signed as the SDK signs by default (Signing{}); WithSigning
// changes that.
func NewTransport(allowed trust.Endpoints) *Transport {
	d := &net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}
	t := &Transport{allowed: allowed, dial: d.DialContext}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.Proxy = nil
	base.MaxIdleConnsPerHost = 8
	base.IdleConnTimeout = 55 * time.Second
	base.TLSHandshakeTimeout = TLSHandshakeTimeout
	base.ResponseHeaderTimeout = PullTimeout
	base.MaxResponseHeaderBytes = 64 << 10
	base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		target, direct, err := allowed.RequestHost("", addr)
		if err != nil {
			return nil, err
		}
		if !direct {
			target = addr
		}
		c, err := t.dial(ctx, network, target)
		if err != nil {
			return nil, &dialError{err}
		}
		return c, nil
	}
	t.base = base
	return t
}

// Allowed returns the allow-list the transport enforces.
func (t *Transport) Allowed() trust.Endpoints { return t.allowed }

// WithSigning returns t whose requests are signed as sig says
// (SLS_SIGNATURE_VERSION, SLS_REGION); it shares t's connections.
func (t *Transport) WithSigning(sig Signing) *Transport {
	c := *t
	c.signing = sig
	return &c
}

// Signing returns how the requests sent through the transport are signed.
func (t *Transport) Signing() Signing { return t.signing }

// dialError marks a failure to connect: the endpoint is unreachable.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// LogsAdmitter checks the headers of a PullLogs answer before the SDK
// reads its body, and returns how many body bytes it may have (the log
// reader reserves its memory there).
type LogsAdmitter interface {
	AdmitLogs(ctx context.Context, resp *http.Response) (limit int64, err error)
}

// Call is the state of one API call, the SDK's retries included, carried
// in the context of its requests (WithCall): what the transport refused
// and the last network error. The SDK takes no context of its own.
type Call struct {
	// Logs admits PullLogs answers; nil bounds them like metadata.
	Logs LogsAdmitter

	mu      sync.Mutex
	refused error
	netErr  error
}

type callKey struct{}

// WithCall returns ctx carrying c.
func WithCall(ctx context.Context, c *Call) context.Context {
	return context.WithValue(ctx, callKey{}, c)
}

func callOf(ctx context.Context) *Call {
	c, _ := ctx.Value(callKey{}).(*Call)
	return c
}

// Refused is what the transport refused during the call (a request to a
// disallowed host, an answer out of bounds, an unreachable endpoint), or
// nil.
func (c *Call) Refused() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refused
}

// NetErr is the last network error of the call, or nil.
func (c *Call) NetErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.netErr
}

func (c *Call) setRefused(err error) {
	if c == nil || err == nil {
		return
	}
	c.mu.Lock()
	c.refused = err
	c.mu.Unlock()
}

func (c *Call) setNetErr(err error) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.netErr = err
	c.mu.Unlock()
}

// RoundTrip checks the request's host (and that it could be signed for
// it), sends it and bounds the answer.
// Refusals are answered as SLS-shaped 4xx errors, which the SDK does not
// retry; the caller reads the reason from its Call. For a request of a
// Call, a failure to connect and a cancelled request are refused too: the
// SDK would retry them under its own timer.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	call := callOf(r.Context())
	if _, _, err := t.allowed.RequestHost(r.URL.Scheme, r.URL.Host); err != nil {
		return refuse(call, r, fmt.Errorf("refused to send an SLS request: %w", err)), nil
	}
	if err := t.signing.check(r.URL.Scheme, r.URL.Host); err != nil {
		return refuse(call, r, err), nil
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		if call == nil {
			return nil, err
		}
		call.setNetErr(err)
		var dial *dialError
		switch {
		case r.Context().Err() != nil:
			return refuse(call, r, nil), nil
		case errors.As(err, &dial):
			return refuse(call, r, &UnreachableError{Endpoint: endpointOf(r.URL.Scheme, r.URL.Host), Err: dial.err}), nil
		}
		return nil, err
	}
	limit := int64(maxMetaBody)
	switch {
	case resp.StatusCode != http.StatusOK:
		limit = maxErrorBody
	case r.URL.Query().Get("type") == "logs" && call != nil && call.Logs != nil:
		if limit, err = call.Logs.AdmitLogs(r.Context(), resp); err != nil {
			resp.Body.Close()
			return refuse(call, r, err), nil
		}
	case r.URL.Query().Get("type") == "logs":
		limit = maxUnadmitted
	}
	if resp.ContentLength > limit {
		resp.Body.Close()
		return refuse(call, r, fmt.Errorf("SLS answered %d bytes, more than the %d its headers allow", resp.ContentLength, limit)), nil
	}
	resp.Body = &limitedBody{rc: resp.Body, left: limit, call: call}
	return resp, nil
}

// maxUnadmitted bounds PullLogs answers of requests without an admitter
// (the consumer library's pulls).
const maxUnadmitted = 256 << 20

// endpointOf names the endpoint of a request host <project>.<endpoint>.
func endpointOf(scheme, host string) string {
	if _, rest, ok := strings.Cut(host, "."); ok {
		host = rest
	}
	return scheme + "://" + host
}

// refuse records err and returns the SLS-shaped answer that makes the SDK
// stop without retrying.
func refuse(c *Call, r *http.Request, err error) *http.Response {
	c.setRefused(err)
	body := `{"errorCode":"ClientRefused","errorMessage":"refused by sls2siem"}`
	return &http.Response{
		Status: "499 Client Refused", StatusCode: 499, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       r,
	}
}

// limitedBody fails a read past the bound instead of letting the SDK read
// an answer of any size into memory.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
	call *Call
}

var errBodyTooLong = errors.New("SLS answer body is longer than its headers allow")

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			b.call.setRefused(errBodyTooLong)
			return 0, errBodyTooLong
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
