package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// sink accepts connections on loopback and hands each one's bytes back on
// a channel when the connection closes.
type sink struct {
	ln    net.Listener
	conns chan net.Conn
}

func newSink(t *testing.T) *sink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{ln: ln, conns: make(chan net.Conn, 16)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(s.conns)
				return
			}
			s.conns <- c
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *sink) accept(t *testing.T) net.Conn {
	t.Helper()
	select {
	case c := <-s.conns:
		t.Cleanup(func() { c.Close() })
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no connection accepted")
		return nil
	}
}

func cfg(addr, framing string) Config {
	return Config{Network: "tcp", Address: addr, Framing: framing, DialTimeout: time.Second, WriteTimeout: time.Second}
}

func TestFraming(t *testing.T) {
	for _, tc := range []struct{ framing, want string }{
		{FramingLF, "<14>1 a\n<14>1 bé\n"},
		{FramingOctetCounting, "7 <14>1 a9 <14>1 bé"},
	} {
		s := newSink(t)
		c := cfg(s.ln.Addr().String(), tc.framing)
		conn, err := Dial(context.Background(), &c)
		if err != nil {
			t.Fatal(err)
		}
		server := s.accept(t)
		for _, m := range []string{"<14>1 a", "<14>1 bé"} {
			if err := conn.Write([]byte(m)); err != nil {
				t.Fatal(err)
			}
		}
		if err := conn.Flush(); err != nil {
			t.Fatal(err)
		}
		conn.Close()
		got, _ := io.ReadAll(server)
		if string(got) != tc.want {
			t.Errorf("%s: wire = %q, want %q", tc.framing, got, tc.want)
		}
	}
}

func TestPoolReusesAndDropsStaleConnections(t *testing.T) {
	s := newSink(t)
	p := NewPool(cfg(s.ln.Addr().String(), FramingLF))
	defer p.Close()
	ctx := context.Background()

	c1, err := p.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv1 := s.accept(t)
	p.Put(c1)
	c2, err := p.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c2 != c1 || p.dialCount() != 1 {
		t.Fatalf("pool did not reuse the idle connection (dials %d)", p.dialCount())
	}
	p.Put(c2)

	// The receiver closes the idle connection (restart, or idle timeout
	// while the instance was frozen): the next Get must notice and redial.
	srv1.Close()
	var c3 *Conn
	deadline := time.Now().Add(5 * time.Second)
	for {
		c3, err = p.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c3 != c1 || time.Now().After(deadline) {
			break
		}
		p.Put(c3) // FIN not seen yet; try again
	}
	if c3 == c1 {
		t.Fatal("stale connection handed out")
	}
	srv2 := s.accept(t)
	if err := c3.Write([]byte("after")); err != nil {
		t.Fatal(err)
	}
	if err := c3.Flush(); err != nil {
		t.Fatal(err)
	}
	c3.Close()
	got, _ := io.ReadAll(srv2)
	if string(got) != "after\n" {
		t.Errorf("redialled connection carried %q", got)
	}
}

func TestReceiverThatStopsReadingFailsTheFlush(t *testing.T) {
	s := newSink(t)
	c := cfg(s.ln.Addr().String(), FramingOctetCounting)
	c.WriteTimeout = 200 * time.Millisecond
	conn, err := Dial(context.Background(), &c)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s.accept(t) // accepted, never read
	msg := bytes.Repeat([]byte("x"), 60000)
	var werr error
	for i := 0; i < 2000 && werr == nil; i++ {
		if werr = conn.Write(msg); werr == nil {
			werr = conn.Flush()
		}
	}
	var ne net.Error
	if !errors.As(werr, &ne) || !ne.Timeout() {
		t.Fatalf("writes to a stalled receiver ended with %v, want a timeout", werr)
	}
	if !strings.Contains(werr.Error(), s.ln.Addr().String()) {
		t.Errorf("error %q does not name the receiver", werr)
	}
}

func TestDialErrorNamesTheReceiver(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := cfg(addr, FramingLF)
	_, err = Dial(context.Background(), &c)
	if err == nil || !strings.Contains(err.Error(), "connect to syslog receiver "+addr) {
		t.Fatalf("dial to a closed port: %v", err)
	}
}

// TestPoolUsableAfterClose: a pre-stop closes the idle connections but
// does not break an invocation that still arrives.
func TestPoolUsableAfterClose(t *testing.T) {
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
			go io.Copy(io.Discard, c)
		}
	}()
	p := NewPool(cfg(ln.Addr().String(), FramingLF))
	c, err := p.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p.Put(c)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	c, err = p.Get(context.Background())
	if err != nil {
		t.Fatalf("Get after Close: %v", err)
	}
	defer c.Close()
	if p.dialCount() != 2 {
		t.Fatalf("%d dials, want 2: Close must have closed the idle connection", p.dialCount())
	}
}

func (p *Pool) dialCount() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dials
}
