package logstore

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"
)

// NewTransport returns the HTTP transport the SLS client uses. The SDK sends
// every request to <project>.<endpoint>; when the endpoint is an IP address
// or localhost (a local emulator), that name does not resolve, so the
// transport dials the endpoint's own address instead. Production endpoints
// (host names) are dialled as given.
func NewTransport() *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.MaxIdleConnsPerHost = 8
	t.IdleConnTimeout = 55 * time.Second
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, dialAddress(addr))
	}
	return t
}

// dialAddress maps "<project>.<ip-or-localhost>:port" to "<ip-or-localhost>:port".
func dialAddress(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	_, rest, ok := strings.Cut(host, ".")
	if !ok {
		return addr
	}
	if rest == "localhost" || net.ParseIP(rest) != nil {
		return net.JoinHostPort(rest, port)
	}
	return addr
}

// contextTransport attaches the invocation's context to every request the
// SDK makes (the SDK itself takes no context), so that an expiring
// invocation cancels requests in flight.
type contextTransport struct {
	ctx  context.Context
	base http.RoundTripper
}

func (t contextTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.base.RoundTrip(r.WithContext(t.ctx))
}
