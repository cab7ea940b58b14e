package metrics_test

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"sls2siem/internal/metrics"
)

// serveWith starts a metrics server with opts on loopback.
func serveWith(t *testing.T, opts metrics.ServeOptions) *metrics.Server {
	t.Helper()
	m := metrics.New(metrics.Options{Version: "v", Project: project, Logstore: logstore, HeartbeatTimeout: time.Second, StuckAfter: time.Minute})
	srv, err := metrics.Listen("127.0.0.1:0", m.Handler(slog.New(slog.DiscardHandler)), slog.New(slog.DiscardHandler), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(t.Context()) })
	return srv
}

// probe asks /healthz once on a new connection, within a second.
func probe(addr, host string) (int, error) {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/healthz", nil)
	if host != "" {
		req.Host = host
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// TestHealthUnderAConnectionFlood: hundreds of connections held open,
// idle after a request (keep-alive) or silent, do not keep /healthz from
// answering, and the server never holds more than its cap.
func TestHealthUnderAConnectionFlood(t *testing.T) {
	const limit, flood = 16, 400
	srv := serveWith(t, metrics.ServeOptions{MaxConns: limit})
	addr := srv.Addr()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range flood {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			if i%2 == 0 { // a request, then held idle (keep-alive)
				c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
			} // else: silent, as a slow-header client
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}()
	}
	wg.Wait()
	for i := range 20 {
		code, err := probe(addr, "")
		if err != nil || code != http.StatusOK {
			t.Fatalf("probe %d under a flood of %d connections: %d, %v", i, len(conns), code, err)
		}
	}
	if n := srv.OpenConns(); n > limit {
		t.Errorf("the server holds %d connections, more than its cap %d", n, limit)
	}
}

// TestHostCheck: with allowed hosts, a request naming another Host (a DNS
// rebinding page) is answered 421; the allowed names, any port, pass.
func TestHostCheck(t *testing.T) {
	srv := serveWith(t, metrics.ServeOptions{AllowedHosts: []string{"localhost", "127.0.0.1", "::1"}})
	for host, want := range map[string]int{
		"": http.StatusOK, "localhost:9464": http.StatusOK, "LOCALHOST": http.StatusOK, "[::1]:1": http.StatusOK,
		"evil.example.com": http.StatusMisdirectedRequest, "evil.example.com:9464": http.StatusMisdirectedRequest,
		"localhost.evil.example.com": http.StatusMisdirectedRequest,
	} {
		if code, err := probe(srv.Addr(), host); err != nil || code != want {
			t.Errorf("Host %q: %d, %v; want %d", host, code, err, want)
		}
	}
	// Without the option, any Host is served.
	if code, err := probe(serveWith(t, metrics.ServeOptions{}).Addr(), "evil.example.com"); err != nil || code != http.StatusOK {
		t.Errorf("no host check: %d, %v", code, err)
	}
}
