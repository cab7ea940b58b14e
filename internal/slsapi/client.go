package slsapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"

	"sls2siem/internal/secret"
)

// Bounds of one PullLogs call of the log reader, within the invocation's
// deadline: a request (headers and body) takes at most PullTimeout, and
// the SDK's own retries of 5xx answers and broken connections stop after
// PullRetryWindow.
const (
	PullTimeout     = 30 * time.Second
	PullRetryWindow = 20 * time.Second
)

// userAgent is what every SLS request says it is.
const userAgent = "sls2siem"

// NewSDK is the one constructor of the SDK's client: endpoint (admitted,
// scheme://host[:port]) signed with creds as sig says (the Transport's
// Signing), its requests sent through rt (the Transport, or a
// RoundTripper over it), each request bounded by timeout and the SDK's
// retries by retry. When sig cannot sign for endpoint (v4 without its
// region), the Transport refuses every request with a *RegionError in its
// Call.
func NewSDK(endpoint string, creds secret.Credentials, sig Signing, rt http.RoundTripper, timeout, retry time.Duration) *sls.Client {
	c := &sls.Client{
		Endpoint:       endpoint,
		UserAgent:      userAgent,
		RequestTimeOut: timeout,
		RetryTimeOut:   retry,
		HTTPClient:     &http.Client{Transport: rt, Timeout: timeout},
	}
	sig.apply(c)
	return c.WithCredentialsProvider(sls.NewStaticCredentialsProvider(creds.AccessKeyID, creds.AccessKeySecret, creds.SecurityToken))
}

// HTTPClient is the HTTP client of libraries that build their own SDK
// client (the consumer library): rt, each request bounded by timeout.
func HTTPClient(rt http.RoundTripper, timeout time.Duration) *http.Client {
	return &http.Client{Transport: rt, Timeout: timeout}
}

// Client makes metadata calls to one SLS endpoint with one set of
// credentials through the Transport. Every call takes a context (its
// deadline and cancellation, within CallTimeout) and fails with an error
// naming what it did. It is safe for concurrent use.
type Client struct {
	endpoint string
	creds    secret.Credentials
	rt       *Transport
}

// ErrNoCredentials is returned by New without an AccessKey pair.
var ErrNoCredentials = errors.New("no SLS credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN for STS credentials)")

// New returns a Client of endpoint, an endpoint admitted by rt's allow-list
// (trust.Endpoints.Admit: scheme://host[:port]), signing with creds as
// rt's Signing says. It fails with a *RegionError when that is v4 and the
// endpoint's region is unknown.
func New(endpoint string, creds secret.Credentials, rt *Transport) (*Client, error) {
	if strings.TrimSpace(creds.AccessKeyID) == "" || creds.AccessKeySecret == "" {
		return nil, ErrNoCredentials
	}
	if rt == nil {
		return nil, errors.New("slsapi: no transport")
	}
	if _, _, err := rt.signing.For(endpoint); err != nil {
		return nil, err
	}
	return &Client{endpoint: endpoint, creds: creds, rt: rt}, nil
}

// Endpoint is the client's endpoint.
func (c *Client) Endpoint() string { return c.endpoint }

// Credentials are the client's credentials.
func (c *Client) Credentials() secret.Credentials { return c.creds }

// Transport is the client's transport.
func (c *Client) Transport() *Transport { return c.rt }

// WithEndpoint returns a Client of another admitted endpoint with the same
// credentials and transport.
func (c *Client) WithEndpoint(endpoint string) *Client {
	cc := *c
	cc.endpoint = endpoint
	return &cc
}

// call runs f with an SDK client whose requests carry ctx, bounded by
// CallTimeout, and describes its error.
func (c *Client) call(ctx context.Context, what string, f func(*sls.Client) error) error {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	call := &Call{}
	ctx = WithCall(ctx, call)
	left := CallTimeout
	if dl, ok := ctx.Deadline(); ok {
		left = time.Until(dl)
	}
	if left <= 0 {
		return describe(ctx, what, c.endpoint, call, context.DeadlineExceeded)
	}
	sdk := NewSDK(c.endpoint, c.creds, c.rt.signing, ctxTransport{ctx: ctx, base: c.rt}, left, left)
	if err := f(sdk); err != nil {
		return describe(ctx, what, c.endpoint, call, err)
	}
	return nil
}

// ctxTransport attaches a context to every request the SDK makes.
type ctxTransport struct {
	ctx  context.Context
	base http.RoundTripper
}

func (t ctxTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.base.RoundTrip(r.WithContext(t.ctx))
}
