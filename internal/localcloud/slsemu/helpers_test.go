package slsemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"
)

const (
	testProject  = "proj"
	testLogstore = "store"
	// testEndpoint is a real-looking endpoint; the test transport dials the
	// emulator whatever the host.
	testEndpoint = "cn-hangzhou.log.aliyuncs.com"

	longAK     = "LTAI-long-term"
	longSecret = "long-term-secret-value"
	stsAK      = "STS.temporary"
	stsSecret  = "sts-secret-value"
	stsToken   = "sts-security-token-value"
)

// startServer starts an emulator with the test credentials and a logstore
// of the given shard count, and returns it with its listen address.
func startServer(t testing.TB, shards int) (*Server, string) {
	t.Helper()
	s := New()
	s.AddCredential(Credential{AccessKeyID: longAK, AccessKeySecret: longSecret})
	s.AddCredential(Credential{AccessKeyID: stsAK, AccessKeySecret: stsSecret, SecurityToken: stsToken})
	if err := s.CreateLogstore(testProject, testLogstore, shards); err != nil {
		t.Fatal(err)
	}
	endpoint, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, strings.TrimPrefix(endpoint, "http://")
}

// dialTo returns a transport that connects to addr whatever the request's
// host, as "<project>.<endpoint>" does not resolve.
func dialTo(t testing.TB, addr string) *http.Transport {
	var d net.Dialer
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 64,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// newClient returns an SDK client for the emulator at addr.
func newClient(t testing.TB, addr, ak, secret, token string) *sls.Client {
	t.Helper()
	return newClientWith(t, dialTo(t, addr), ak, secret, token)
}

// newClientWith returns an SDK client that sends through rt.
func newClientWith(t testing.TB, rt http.RoundTripper, ak, secret, token string) *sls.Client {
	t.Helper()
	c, ok := sls.CreateNormalInterface(testEndpoint, ak, secret, token).(*sls.Client)
	if !ok {
		t.Fatal("CreateNormalInterface did not return *sls.Client")
	}
	// With every field set, the SDK's lazy initialisation only reads them,
	// so one client can be shared by goroutines without a data race.
	c.HTTPClient = &http.Client{Transport: rt, Timeout: 10 * time.Second}
	c.RequestTimeOut = 10 * time.Second
	c.RetryTimeOut = 3 * time.Second
	return c
}

// testGroup returns a distinctive log group with tags, nanoseconds and
// several ordered contents.
func testGroup(i int) *sls.LogGroup {
	lg := &sls.LogGroup{
		Topic:  proto.String(fmt.Sprintf("topic-%d", i)),
		Source: proto.String(fmt.Sprintf("10.0.0.%d", i%250)),
		LogTags: []*sls.LogTag{
			{Key: proto.String("__hostname__"), Value: proto.String(fmt.Sprintf("host-%d", i))},
			{Key: proto.String("__pack_id__"), Value: proto.String(fmt.Sprintf("ABCDEF-%X", i))},
		},
	}
	for j := range 3 {
		lg.Logs = append(lg.Logs, &sls.Log{
			Time:   proto.Uint32(uint32(1700000000 + i)),
			TimeNs: proto.Uint32(uint32(123456789 + j)),
			Contents: []*sls.LogContent{
				{Key: proto.String("zeta"), Value: proto.String(fmt.Sprintf("group %d log %d", i, j))},
				{Key: proto.String("alpha"), Value: proto.String(strings.Repeat("x", j))},
				{Key: proto.String("msg"), Value: proto.String("héllo, wörld \x00 bytes")},
			},
		})
	}
	return lg
}

// sameGroup fails unless got and want serialize identically; it also checks
// the main fields explicitly for readable failures.
func sameGroup(t testing.TB, got, want *sls.LogGroup) {
	t.Helper()
	if got.GetTopic() != want.GetTopic() || got.GetSource() != want.GetSource() {
		t.Fatalf("topic/source = %q/%q, want %q/%q", got.GetTopic(), got.GetSource(), want.GetTopic(), want.GetSource())
	}
	if len(got.Logs) != len(want.Logs) || len(got.LogTags) != len(want.LogTags) {
		t.Fatalf("got %d logs %d tags, want %d logs %d tags", len(got.Logs), len(got.LogTags), len(want.Logs), len(want.LogTags))
	}
	for i, l := range got.Logs {
		if l.GetTime() != want.Logs[i].GetTime() || l.GetTimeNs() != want.Logs[i].GetTimeNs() {
			t.Fatalf("log %d time = %d.%d, want %d.%d", i, l.GetTime(), l.GetTimeNs(), want.Logs[i].GetTime(), want.Logs[i].GetTimeNs())
		}
	}
	g, err := got.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	w, err := want.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g, w) {
		t.Fatalf("group differs:\ngot  %v\nwant %v", got, want)
	}
}

// wantSLSError fails unless err is an *sls.Error with code and status.
func wantSLSError(t testing.TB, err error, code string, status int32) *sls.Error {
	t.Helper()
	var se *sls.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not an *sls.Error, want %s", err, err, code)
	}
	if se.Code != code || se.HTTPCode != status {
		t.Fatalf("error = %d %s (%s), want %d %s", se.HTTPCode, se.Code, se.Message, status, code)
	}
	if se.RequestID == "" {
		t.Errorf("error %s has no request ID", code)
	}
	for _, secret := range []string{longSecret, stsSecret, stsToken} {
		if strings.Contains(se.Message, secret) {
			t.Errorf("error message %q reveals a secret", se.Message)
		}
	}
	return se
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// resigning returns a transport that re-signs each request as the SDK would
// with the given Date, to imitate a client with a skewed clock.
func resigning(base http.RoundTripper, ak, secret string, date time.Time) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		var body []byte
		if r.Body != nil && r.Body != http.NoBody {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				return nil, err
			}
			body = b
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		h := make(map[string]string)
		for k, v := range r.Header {
			// The signer adds these itself, in its own spelling.
			if k != "Authorization" && k != "Content-Md5" && k != "X-Log-Signaturemethod" {
				h[k] = v[0]
			}
		}
		h["Date"] = date.UTC().Format(http.TimeFormat)
		if err := sls.NewSignerV1(ak, secret).Sign(r.Method, r.URL.RequestURI(), h, body); err != nil {
			return nil, err
		}
		r.Header = make(http.Header)
		for k, v := range h {
			r.Header.Set(k, v)
		}
		return base.RoundTrip(r)
	})
}

// tampering returns a transport that flips a byte of each request body
// after the SDK signed it.
func tampering(base http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		if r.Body != nil && r.Body != http.NoBody {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				return nil, err
			}
			if len(b) > 0 {
				b[len(b)-1] ^= 0xff
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		return base.RoundTrip(r)
	})
}
