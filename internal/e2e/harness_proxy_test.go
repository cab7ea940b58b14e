package e2e

import (
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// faultProxy sits between the function and a receiver on loopback and
// injects the faults a middlebox can: it forwards, or takes bytes (so the
// function's kernel sees them acknowledged) and discards them, or resets
// every connection after a number of bytes.
type faultProxy struct {
	ln      net.Listener
	target  string
	discard atomic.Bool // take and drop what the function sends
	// discardFirst makes the first connections discard (then discard is
	// cleared): a middlebox that ACKs and drops until the sender reconnects.
	discardFirst atomic.Int64
	resetAt      atomic.Int64 // reset a connection after this many bytes from the function (0: never)
	resets       atomic.Int64
	conns        atomic.Int64

	mu   sync.Mutex
	open []net.Conn
}

func newFaultProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *faultProxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *faultProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.open {
		c.Close()
	}
}

func (p *faultProxy) track(c net.Conn) {
	p.mu.Lock()
	p.open = append(p.open, c)
	p.mu.Unlock()
}

func (p *faultProxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		if n := p.conns.Add(1); n > p.discardFirst.Load() && p.discardFirst.Load() > 0 {
			p.discard.Store(false)
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.track(client)
		p.track(server)
		go func() { // receiver → function, as it is
			io.Copy(client, server)
			client.Close()
		}()
		go p.forward(client, server)
	}
}

// forward copies function → receiver, applying the faults.
func (p *faultProxy) forward(client, server net.Conn) {
	defer server.Close()
	defer client.Close()
	buf := make([]byte, 16<<10)
	var n int64
	for {
		k, err := client.Read(buf)
		if k > 0 {
			n += int64(k)
			if limit := p.resetAt.Load(); limit > 0 && n >= limit {
				p.resets.Add(1)
				client.(*net.TCPConn).SetLinger(0) // RST, not FIN
				return
			}
			if !p.discard.Load() {
				if _, werr := server.Write(buf[:k]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *faultProxy) String() string {
	return "proxy to " + p.target + " (" + strconv.FormatInt(p.conns.Load(), 10) + " connections, " +
		strconv.FormatInt(p.resets.Load(), 10) + " resets)"
}
