package logstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"sls2siem/internal/trust"
)

// Transport is the HTTP transport of every SLS request of the instance:
// it keeps connections alive across invocations and is the last guard of
// the trust boundary. It sends a request only to <project>.<endpoint>
// where the endpoint is allowed (SLS_ALLOWED_ENDPOINTS) and the project
// label a valid project name; it reaches an IP or localhost endpoint
// directly (<project>.<ip> resolves nowhere) only when it is allowed; and
// it bounds every answer before the SDK reads it: a PullLogs answer whose
// declared size does not fit the memory budget, that is not LZ4, or whose
// body is longer than LZ4 allows for its declared size is refused.
type Transport struct {
	allowed trust.Endpoints
	base    *http.Transport
}

// Bounds on answers other than PullLogs data.
const (
	maxErrorBody = 1 << 20  // an SLS error answer is a small JSON object
	maxMetaBody  = 16 << 20 // cursors, shard lists, consumer-group answers
)

// NewTransport returns the transport for the endpoints allowed.
func NewTransport(allowed trust.Endpoints) *Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	t := &Transport{allowed: allowed}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.Proxy = nil
	base.MaxIdleConnsPerHost = 8
	base.IdleConnTimeout = 55 * time.Second
	base.ResponseHeaderTimeout = 30 * time.Second
	base.MaxResponseHeaderBytes = 64 << 10
	base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		target, direct, err := allowed.RequestHost(addr)
		if err != nil {
			return nil, err
		}
		if !direct {
			target = addr
		}
		return d.DialContext(ctx, network, target)
	}
	t.base = base
	return t
}

// RoundTrip checks the request's host, sends it and bounds the answer.
// Refusals are answered as SLS-shaped 4xx errors, which the SDK does not
// retry; the Reader reports the refusal itself.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	pl, _ := r.Context().Value(pullKey{}).(*pull)
	if _, _, err := t.allowed.RequestHost(r.URL.Host); err != nil {
		return pl.refuse(r, fmt.Errorf("refused to send an SLS request: %w", err)), nil
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		if pl != nil {
			pl.netErr = err
			if r.Context().Err() != nil {
				// Stopped by the invocation: answer so that the SDK does
				// not retry the cancelled request under its own timer.
				return pl.refuse(r, nil), nil
			}
		}
		return nil, err
	}
	limit := int64(maxMetaBody)
	switch {
	case resp.StatusCode != http.StatusOK:
		limit = maxErrorBody
	case r.URL.Query().Get("type") == "logs":
		if limit, err = pl.admit(r.Context(), resp); err != nil {
			resp.Body.Close()
			return pl.refuse(r, err), nil
		}
	}
	if resp.ContentLength > limit {
		resp.Body.Close()
		return pl.refuse(r, fmt.Errorf("SLS answered %d bytes, more than the %d its headers allow", resp.ContentLength, limit)), nil
	}
	resp.Body = &limitedBody{rc: resp.Body, left: limit, pl: pl}
	return resp, nil
}

// pull is the state of one Reader.Next call, carried in the request's
// context: the budget its answer is reserved from and what went wrong.
type pull struct {
	budget   *Budget
	limit    int64 // the most one answer may reserve
	reserved int64
	refused  error // the transport refused the answer (or the request)
	netErr   error // the last network error of the call
}

type pullKey struct{}

// rawFactor is the reservation per declared raw byte: the compressed body
// the SDK reads, the raw buffer it decompresses into, and the decoded
// structures (corrected to their real size after decoding).
const rawFactor = 3

// admit checks a PullLogs answer's headers and reserves its memory. It
// returns how many body bytes the answer may have.
func (p *pull) admit(ctx context.Context, resp *http.Response) (int64, error) {
	v := resp.Header.Get("X-Log-Bodyrawsize")
	raw, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || raw < 0 {
		return 0, fmt.Errorf("SLS answered X-Log-Bodyrawsize %.32q: want a size in bytes", v)
	}
	if raw == 0 {
		return maxErrorBody, nil // the SDK ignores the body
	}
	if ct := resp.Header.Get("X-Log-Compresstype"); ct != "lz4" {
		return 0, fmt.Errorf("SLS answered X-Log-Compresstype %.32q for a request that accepts lz4 only", ct)
	}
	if p != nil && p.budget != nil {
		n := min(rawFactor*raw, p.limit)
		if raw > p.limit {
			return 0, &tooLargeError{raw: raw, budget: p.limit}
		}
		if err := p.budget.acquire(ctx, n); err != nil {
			return 0, err
		}
		p.reserved += n
	} else if raw > maxUnbudgeted {
		return 0, &tooLargeError{raw: raw, budget: maxUnbudgeted}
	}
	return raw + raw/255 + 16, nil // LZ4's bound on a block of raw bytes
}

// maxUnbudgeted bounds answers of requests without a budget (the consumer
// library's pulls).
const maxUnbudgeted = 256 << 20

// tooLargeError is an answer that does not fit the memory budget.
type tooLargeError struct{ raw, budget int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("SLS answered X-Log-Bodyrawsize %d bytes, which does not fit the memory budget (%d bytes for one answer)", e.raw, e.budget)
}

// refuse records err and returns the SLS-shaped answer that makes the SDK
// stop without retrying.
func (p *pull) refuse(r *http.Request, err error) *http.Response {
	if p != nil && err != nil {
		p.refused = err
	}
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
	pl   *pull
}

var errBodyTooLong = errors.New("SLS answer body is longer than its headers allow")

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			if b.pl != nil {
				b.pl.refused = errBodyTooLong
			}
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

// callTransport attaches the current Next call's context (its deadline,
// its cancellation and its pull state) to every request the SDK makes:
// the SDK takes no context of its own.
type callTransport struct {
	base *Transport
	call atomic.Pointer[context.Context]
}

func (t *callTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx := context.Background()
	if c := t.call.Load(); c != nil {
		ctx = *c
	}
	return t.base.RoundTrip(r.WithContext(ctx))
}
