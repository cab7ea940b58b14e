package slsapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/localcloud/slsemu"
	"sls2siem/internal/secret"
	"sls2siem/internal/trust"
)

// local admits the loopback endpoint (http://127.0.0.1:PORT) and no
// other port, as SLS_ALLOWED_ENDPOINTS=127.0.0.1:PORT does.
func local(endpoint string) trust.Endpoints {
	e, err := trust.ParseEndpoints(strings.TrimPrefix(endpoint, "http://"), false)
	if err != nil {
		panic(err)
	}
	return e
}

var creds = secret.Credentials{AccessKeyID: "LTAI-slsapi", AccessKeySecret: "slsapi-secret"}

// emulator starts the SLS emulator with a two-shard logstore p/ls holding
// three groups in shard 0, and returns a Client of it.
func emulator(t *testing.T) (*slsemu.Server, *Client) {
	t.Helper()
	emu := slsemu.New()
	emu.AddCredential(slsemu.Credential{AccessKeyID: creds.AccessKeyID, AccessKeySecret: creds.AccessKeySecret})
	endpoint, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	if err := emu.CreateLogstore("proj", "store", 2); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		lg := &sls.LogGroup{Logs: []*sls.Log{{Time: proto.Uint32(1732500000), Contents: []*sls.LogContent{{Key: proto.String("i"), Value: proto.String("x")}}}}}
		if _, err := emu.Append("proj", "store", 0, lg, time.Unix(1732500000+int64(i)*60, 0)); err != nil {
			t.Fatal(err)
		}
	}
	c, err := New(endpoint, creds, NewTransport(local(endpoint)))
	if err != nil {
		t.Fatal(err)
	}
	return emu, c
}

func TestCursorCodec(t *testing.T) {
	for _, n := range []int64{0, 1, 1600000000000000000} {
		if got, err := CursorNumber(Cursor(n)); err != nil || got != n {
			t.Errorf("CursorNumber(Cursor(%d)) = %d, %v", n, got, err)
		}
	}
	for _, bad := range []string{"", "!!", "aGVsbG8=", Cursor(-1), strings.Repeat("MTA=", 40)} {
		if _, err := CursorNumber(bad); err == nil {
			t.Errorf("CursorNumber(%q) accepted", bad)
		}
	}
	if n, ok := Distance(Cursor(3), Cursor(10)); !ok || n != 7 {
		t.Errorf("Distance = %d, %v", n, ok)
	}
	if _, ok := Distance(Cursor(10), Cursor(3)); ok {
		t.Error("Distance backwards known")
	}
}

// TestCallsAgainstTheEmulator: every call, through the real SDK.
func TestCallsAgainstTheEmulator(t *testing.T) {
	emu, c := emulator(t)
	ctx := t.Context()
	shards, err := c.Shards(ctx, "proj", "store")
	if err != nil || len(shards) != 2 || shards[1].ID != 1 || shards[0].Status != "readwrite" {
		t.Fatalf("Shards = %+v, %v", shards, err)
	}
	begin, err1 := c.GetCursor(ctx, "proj", "store", 0, "begin")
	end, err2 := c.GetCursor(ctx, "proj", "store", 0, "end")
	at, err3 := c.GetCursorTime(ctx, "proj", "store", 0, begin)
	if n, ok := Distance(begin, end); errors.Join(err1, err2, err3) != nil || !ok || n != 3 || at.Unix() != 1732500000 {
		t.Fatalf("cursors %s %s (%d groups), time %v: %v %v %v", begin, end, n, at, err1, err2, err3)
	}
	info, err := c.Logstore(ctx, "proj", "store")
	if err != nil || info.TTL != Forever || info.Shards != 2 || info.Name != "store" {
		t.Fatalf("Logstore = %+v, %v", info, err)
	}
	if err := emu.SetTTL("proj", "store", 36*time.Hour); err != nil {
		t.Fatal(err)
	}
	if info, err := c.Logstore(ctx, "proj", "store"); err != nil || info.TTL != 2 {
		t.Errorf("TTL of 36h: %+v, %v; want 2 days", info, err)
	}
	if err := c.EnsureGroup(ctx, "proj", "store", "g", 30); err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureGroup(ctx, "proj", "store", "g", 60); err != nil { // updates the timeout
		t.Fatal(err)
	}
	if err := c.SaveCheckpoint(ctx, "proj", "store", "g", 0, end); err != nil {
		t.Fatal(err)
	}
	cps, err := c.Checkpoints(ctx, "proj", "store", "g")
	if err != nil || len(cps) == 0 || cps[0].Cursor != end || cps[0].Saved.IsZero() {
		t.Fatalf("Checkpoints = %+v, %v", cps, err)
	}
	lg := &sls.LogGroup{Logs: []*sls.Log{{Time: proto.Uint32(1732500000), Contents: []*sls.LogContent{{Key: proto.String("k"), Value: proto.String("v")}}}}}
	if err := c.PutLogs(ctx, "write a test log", "proj", "store", lg, nil); err != nil {
		t.Fatal(err)
	}
}

// TestErrorsNameTheCode: SLS errors are *CodeError, in a message saying
// what was asked.
func TestErrorsNameTheCode(t *testing.T) {
	_, c := emulator(t)
	_, err := c.Shards(t.Context(), "proj", "nope")
	var ce *CodeError
	if !errors.As(err, &ce) || ce.Code != "LogStoreNotExist" || ce.HTTPStatus != 404 || !IsCode(err, "LogStoreNotExist") ||
		!strings.Contains(err.Error(), "list the shards of project proj logstore nope: SLS error LogStoreNotExist (HTTP 404)") {
		t.Errorf("unknown logstore: %v", err)
	}
	bad, _ := New(c.Endpoint(), secret.Credentials{AccessKeyID: creds.AccessKeyID, AccessKeySecret: "wrong-secret"}, c.Transport())
	_, err = bad.Shards(t.Context(), "proj", "store")
	if !IsCode(err, "SignatureNotMatch") || strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("wrong secret: %v", err)
	}
}

// TestUnreachableEndpointFailsAtOnce: a failure to connect is final: one
// dial, no SDK retry, one error naming the endpoint.
func TestUnreachableEndpointFailsAtOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	rt := NewTransport(local(addr))
	var dials atomic.Int64
	rt.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	c, err := New("http://"+addr, creds, rt)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Shards(t.Context(), "proj", "store")
	var ue *UnreachableError
	if !errors.As(err, &ue) || ue.Endpoint != "http://"+addr || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("error %v, want an *UnreachableError naming http://%s", err, addr)
	}
	if want := "list the shards of project proj logstore store: SLS endpoint http://" + addr + " unreachable: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q does not start with %q", err, want)
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("%d dials: the failure to connect was retried", n)
	}
}

// TestNotAnSLSEndpoint: an endpoint that answers, but not as SLS, is named
// so.
func TestNotAnSLSEndpoint(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(404)
		w.Write([]byte("<html>not found</html>"))
	}))
	defer srv.Close()
	c, err := New(srv.URL, creds, NewTransport(local(srv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Shards(t.Context(), "proj", "store")
	if err == nil || !strings.Contains(err.Error(), "list the shards of project proj logstore store: unexpected answer (HTTP 404, text/html): not an SLS endpoint?") || strings.Contains(err.Error(), "<html>") {
		t.Errorf("error %v, want one saying what was asked, without the page", err)
	}
}

// TestDeadlineBoundsACall: an endpoint that accepts and never answers
// fails the call by its context's deadline, saying so.
func TestDeadlineBoundsACall(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	c, err := New("http://"+ln.Addr().String(), creds, NewTransport(local(ln.Addr().String())))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err = c.GetCursor(ctx, "proj", "store", 0, "end")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer from http://"+ln.Addr().String()+" in time") {
		t.Errorf("error %v, want the deadline, naming the endpoint", err)
	}
}

func TestMissingCredentialsNameTheVariables(t *testing.T) {
	for _, c := range []secret.Credentials{{}, {AccessKeyID: "id"}, {AccessKeySecret: "s"}, {AccessKeyID: " ", AccessKeySecret: "s"}} {
		_, err := New("http://127.0.0.1:1", c, NewTransport(local("127.0.0.1:1")))
		if !errors.Is(err, ErrNoCredentials) || !strings.Contains(err.Error(), "ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET") {
			t.Errorf("New(%v) = %v", c, err)
		}
	}
}

// TestTransportRefusesDisallowedHosts: a request to a host the allow-list
// does not name never leaves the process.
func TestTransportRefusesDisallowedHosts(t *testing.T) {
	rt := NewTransport(local("127.0.0.1:1"))
	rt.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		t.Errorf("dialled %s", addr)
		return nil, errors.New("no")
	}
	c, err := New("http://evil.example.com", creds, rt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Shards(t.Context(), "proj", "store"); err == nil || !strings.Contains(err.Error(), "not allowed by SLS_ALLOWED_ENDPOINTS") {
		t.Errorf("error %v", err)
	}
}

// TestCheckRange: a range is checked against its shard as SLS has it:
// one that cannot exist is an *InvalidRangeError, one whose beginning left
// the shard an *ExpiredRangeError, naming the cursors.
func TestCheckRange(t *testing.T) {
	emu, c := emulator(t)
	ctx := t.Context()
	begin, _ := c.GetCursor(ctx, "proj", "store", 0, "begin")
	end, _ := c.GetCursor(ctx, "proj", "store", 0, "end")
	bn, _ := CursorNumber(begin)
	if err := c.CheckRange(ctx, "proj", "store", 0, begin, end); err != nil {
		t.Errorf("the whole shard: %v", err)
	}
	if err := c.CheckRange(ctx, "proj", "store", 0, end, end); err != nil {
		t.Errorf("an empty range at the end: %v", err)
	}
	for name, c2 := range map[string]struct {
		shard      int
		begin, end string
		want       string
	}{
		"past the end":      {0, begin, Cursor(bn + 10), "its end cursor is 7 log groups past the shard's end cursor"},
		"backwards":         {0, end, begin, "its begin cursor is after its end cursor"},
		"no such shard":     {7, begin, end, "ShardNotExist"},
		"not cursors":       {0, "x", end, "not SLS cursors"},
		"empty shard, past": {1, begin, Cursor(bn + 1), "1 log groups past"},
	} {
		err := c.CheckRange(ctx, "proj", "store", c2.shard, c2.begin, c2.end)
		var inv *InvalidRangeError
		if !errors.As(err, &inv) || !strings.Contains(err.Error(), c2.want) || !strings.Contains(err.Error(), "cannot exist") {
			t.Errorf("%s: %v, want an *InvalidRangeError saying %q", name, err, c2.want)
		}
	}
	if _, err := emu.ExpireBefore("proj", "store", time.Unix(1732500000+90, 0)); err != nil {
		t.Fatal(err)
	}
	err := c.CheckRange(ctx, "proj", "store", 0, begin, end)
	var exp *ExpiredRangeError
	if !errors.As(err, &exp) || exp.Groups != 2 || !strings.Contains(err.Error(), "2 log groups of it expired") {
		t.Errorf("expired: %v, want 2 log groups expired", err)
	}
}
