package logstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/slsapi"
	"sls2siem/internal/trust"
)

// countingListener is a loopback listener that must see no connection.
func countingListener(t *testing.T) (addr string, conns *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns = new(atomic.Int64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), conns
}

// TestTransportSendsOnlyToAllowedEndpoints: whatever the SDK is asked to
// build, a request whose host is not <project>.<allowed endpoint> never
// leaves the process.
func TestTransportSendsOnlyToAllowedEndpoints(t *testing.T) {
	addr, conns := countingListener(t)
	_, port, _ := net.SplitHostPort(addr)
	def, err := trust.ParseEndpoints(trust.DefaultAllowed, true)
	if err != nil {
		t.Fatal(err)
	}
	local := localFor("http://" + addr)
	for name, c := range map[string]struct {
		allowed  trust.Endpoints
		endpoint string
		project  string
	}{
		"IP endpoint, default list":  {def, "http://" + addr, "proj"},
		"localhost, default list":    {def, "http://localhost:" + port, "proj"},
		"injected project":           {def, "https://cn-hangzhou-intranet.log.aliyuncs.com", "127.0.0.1:" + port + "?"},
		"project with a slash":       {def, "https://cn-hangzhou-intranet.log.aliyuncs.com", "a/b"},
		"project with an at":         {local, "http://" + addr, "a@b"},
		"dotted project":             {local, "http://" + addr, "x.127.0.0.1"},
		"upper-case project":         {local, "http://" + addr, "PROJ"},
		"empty label":                {local, "http://" + addr, ""},
		"allowed IP, other loopback": {local, "http://127.0.0.2:" + port, "proj"},
		"allowed IP, another port":   {localFor("http://127.0.0.1:1"), "http://" + addr, "proj"},
	} {
		t.Run(name, func(t *testing.T) {
			rng := Range{Endpoint: c.endpoint, Project: c.project, Logstore: "store", Begin: "MTA=", End: "MjA="}
			r := NewReader(rng, sts, Options{Transport: slsapi.NewTransport(c.allowed)})
			defer r.Close()
			_, err := r.Next(t.Context())
			if err == nil {
				t.Fatal("the pull succeeded")
			}
			if !strings.Contains(err.Error(), "refused to send an SLS request") && !strings.Contains(err.Error(), "SLS_ALLOWED_ENDPOINTS") &&
				!strings.Contains(err.Error(), "invalid") {
				t.Errorf("error %q does not say the request was refused", err)
			}
		})
	}
	if n := conns.Load(); n != 0 {
		t.Fatalf("%d connections reached the listener", n)
	}
}

// lyingSLS answers every PullLogs with the given headers and body.
func lyingSLS(t *testing.T, headers map[string]string, body []byte) Range {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.Header().Set("X-Log-Cursor", "MjA=")
		w.Header().Set("X-Log-Count", "1")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return Range{Endpoint: srv.URL, Project: "proj", Logstore: "store", Begin: "MTA=", End: "MjA="}
}

// TestAnswerIsBoundedBeforeItIsAllocated: the real SDK against an endpoint
// that lies about sizes gets a clear error, never a terabyte allocation.
func TestAnswerIsBoundedBeforeItIsAllocated(t *testing.T) {
	for name, c := range map[string]struct {
		headers map[string]string
		body    []byte
		want    string
	}{
		"terabyte declared":  {map[string]string{"X-Log-Bodyrawsize": "1099511627776", "X-Log-Compresstype": "lz4"}, []byte("x"), "does not fit the memory budget"},
		"negative size":      {map[string]string{"X-Log-Bodyrawsize": "-5", "X-Log-Compresstype": "lz4"}, []byte("x"), "want a size in bytes"},
		"garbage size":       {map[string]string{"X-Log-Bodyrawsize": "12abc", "X-Log-Compresstype": "lz4"}, []byte("x"), "want a size in bytes"},
		"zstd not asked for": {map[string]string{"X-Log-Bodyrawsize": "100", "X-Log-Compresstype": "zstd"}, []byte("x"), "accepts lz4 only"},
		"body beyond bound":  {map[string]string{"X-Log-Bodyrawsize": "10", "X-Log-Compresstype": "lz4"}, make([]byte, 1<<20), "longer than its headers allow"},
		"not lz4 data":       {map[string]string{"X-Log-Bodyrawsize": "10", "X-Log-Compresstype": "lz4"}, []byte("not lz4 at all"), "pull logs"},
	} {
		t.Run(name, func(t *testing.T) {
			rng := lyingSLS(t, c.headers, c.body)
			budget := NewBudget(64 << 20)
			r := newTestReader(rng, sts, Options{Budget: budget})
			defer r.Close()
			_, err := r.Next(t.Context())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if budget.used != 0 {
				t.Fatalf("%d bytes of the budget still reserved after the failure", budget.used)
			}
		})
	}
}

// TestPullsAdaptToTheBudget: with a budget too small for SLS_PULL_COUNT
// groups, the reader asks for fewer, reads every group, and stays inside.
func TestPullsAdaptToTheBudget(t *testing.T) {
	emu, rng := emulator(t, 0)
	big := strings.Repeat("v", 1<<20) // 1 MiB per log group
	for g := 0; g < 40; g++ {
		appendGroup(t, emu, rng, fmt.Sprintf("%03d-%s", g, big))
	}
	rng.End, _ = emu.Cursor("proj", "store", 0, "end")
	budget := NewBudget(16 << 20)
	r := newTestReader(rng, sts, Options{PullCount: 1000, Budget: budget})
	defer r.Close()
	// As the shipping pipeline does: one goroutine pulls ahead, the other
	// holds a batch while the next is pulled, then releases it.
	type pulled struct {
		b   *Batch
		err error
	}
	ch := make(chan pulled)
	go func() {
		for {
			b, err := r.Next(t.Context())
			ch <- pulled{b, err}
			if err != nil {
				return
			}
		}
	}()
	var n, pulls int
	for p := range ch {
		if errors.Is(p.err, ErrDone) {
			break
		}
		if p.err != nil {
			t.Fatal(p.err)
		}
		pulls++
		n += len(p.b.Groups)
		p.b.Release()
	}
	if n != 40 {
		t.Fatalf("read %d groups, want 40", n)
	}
	if pulls < 5 { // at most half the budget per answer: 8 MiB
		t.Errorf("%d pulls for 40 MiB of groups with a 16 MiB budget: the count did not adapt", pulls)
	}
	if budget.peak > budget.total+budget.total/2 {
		t.Errorf("peak reservation %d is far above the budget %d", budget.peak, budget.total)
	}
	if budget.used != 0 {
		t.Errorf("%d bytes still reserved after every batch was released", budget.used)
	}
}

// TestCancelStopsThePullInFlight: cancelling Next's context ends the
// request at once, not after the SDK's own retry timer.
func TestCancelStopsThePullInFlight(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	rng := Range{Endpoint: srv.URL, Project: "proj", Logstore: "store", Begin: "MTA=", End: "MjA="}
	r := newTestReader(rng, sts, Options{})
	defer r.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := r.Next(ctx)
		done <- err
	}()
	cancel()
	err := <-done
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want one wrapping context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Next returned %s after the cancel: the SDK retried the cancelled request", d)
	}
}

// TestUnreachableEndpointFailsFastWithTheCause: a refused connection fails
// at once, without the SDK's retries, naming the endpoint and the network
// error.
func TestUnreachableEndpointFailsFastWithTheCause(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	rng := Range{Endpoint: "http://" + addr, Project: "proj", Logstore: "store", Begin: "MTA=", End: "MjA="}
	r := newTestReader(rng, sts, Options{})
	defer r.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	_, err = r.Next(ctx)
	if err == nil {
		t.Fatal("pulled from a closed port")
	}
	var unreachable *slsapi.UnreachableError
	if !errors.As(err, &unreachable) {
		t.Errorf("error %v is not an *slsapi.UnreachableError", err)
	}
	for _, want := range []string{"SLS endpoint http://" + addr + " unreachable", "connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func appendGroup(t *testing.T, emu interface {
	Append(project, logstore string, shard int, g *sls.LogGroup, received time.Time) (string, error)
}, rng Range, value string) {
	t.Helper()
	lg := &sls.LogGroup{Logs: []*sls.Log{{Time: proto.Uint32(1732500000), Contents: []*sls.LogContent{{Key: proto.String("v"), Value: proto.String(value)}}}}}
	if _, err := emu.Append(rng.Project, rng.Logstore, rng.Shard, lg, time.Unix(1732500000, 0)); err != nil {
		t.Fatal(err)
	}
}
