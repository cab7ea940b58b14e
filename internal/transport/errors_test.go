package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"sls2siem/internal/relp"
)

// listen runs serve on every connection accepted on loopback.
func listen(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c)
		}
	}()
	return ln.Addr().String()
}

// relpAnswering is a RELP receiver that opens sessions and answers every
// syslog command with answer.
func relpAnswering(answer string) func(net.Conn) {
	return func(c net.Conn) {
		defer c.Close()
		r := bufio.NewReader(c)
		for {
			var txnr, n int
			var cmd string
			if _, err := fmt.Fscanf(r, "%d %s %d", &txnr, &cmd, &n); err != nil {
				return
			}
			if _, err := r.Discard(min(n, 1) + n + 1); err != nil {
				return
			}
			a := answer
			if cmd == "open" {
				a = "200 OK\nrelp_version=0\ncommands=syslog"
			}
			fmt.Fprintf(c, "%d rsp %d %s\n", txnr, len(a), a)
		}
	}
}

// sendAll dials cfg, writes n messages, flushes and confirms, and returns
// the first error.
func sendAll(cfg Config, n int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, &cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	msg := []byte("<14>1 - - - - - - " + strings.Repeat("x", 1000))
	for i := range n {
		if err := c.Write(msg); err != nil {
			return err
		}
		if i%100 == 99 {
			if err := c.Flush(); err != nil {
				return err
			}
		}
	}
	return c.Confirm(ctx)
}

// TestSendErrorKinds: each kind of failure, produced by a real exchange on
// loopback, is a *SendError of that kind that wraps its cause.
func TestSendErrorKinds(t *testing.T) {
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}()
	acceptClose := listen(t, func(c net.Conn) { c.Close() })
	resetting := listen(t, func(c net.Conn) {
		c.(*net.TCPConn).SetLinger(0)
		c.Read(make([]byte, 1))
		c.Close()
	})
	stalled := listen(t, func(c net.Conn) { time.Sleep(5 * time.Second); c.Close() })
	other := newTestCA(t)
	tlsAddr, _ := tlsSink(t, &tls.Config{Certificates: []tls.Certificate{
		newTestCA(t).issue(t, time.Now().Add(time.Hour), x509.ExtKeyUsageServerAuth, "127.0.0.1")}})

	tcp := func(addr string) Config {
		return Config{Network: NetworkTCP, Address: addr, Framing: FramingOctetCounting, DialTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second}
	}
	cases := []struct {
		kind  Kind
		cfg   Config
		n     int
		cause func(error) bool
	}{
		{KindRefused, tcp(closed), 1, func(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }},
		{KindConnect, Config{Network: NetworkRELP, Address: acceptClose, DialTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second}, 1,
			func(err error) bool { var e *relp.Error; return errors.As(err, &e) }},
		{KindTLS, Config{Network: NetworkTLS, Address: tlsAddr, Framing: FramingOctetCounting, DialTimeout: 2 * time.Second,
			TLS: &tls.Config{RootCAs: other.pool, ServerName: "127.0.0.1"}}, 1,
			func(err error) bool { var e x509.UnknownAuthorityError; return errors.As(err, &e) }},
		{KindTimeout, func() Config { c := tcp(stalled); c.WriteTimeout = 200 * time.Millisecond; return c }(), 20000,
			func(err error) bool { var ne net.Error; return errors.As(err, &ne) && ne.Timeout() }},
		{KindWrite, tcp(resetting), 20000,
			func(err error) bool { return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) }},
		{KindConfirm, tcp(acceptClose), 1,
			func(err error) bool {
				return errors.Is(err, errPeerClosed) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
			}},
		{KindAck, Config{Network: NetworkRELP, Address: listen(t, relpAnswering("500 refused")), DialTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second}, 3,
			func(err error) bool { return errors.Is(err, relp.ErrRefused) }},
	}
	for _, tc := range cases {
		t.Run(string(tc.kind), func(t *testing.T) {
			err := sendAll(tc.cfg, tc.n)
			var se *SendError
			if !errors.As(fmt.Errorf("wrapped: %w", err), &se) {
				t.Fatalf("error %v (%T) is not a *SendError", err, err)
			}
			if se.Kind != tc.kind || KindOf(err) != tc.kind {
				t.Errorf("kind %q, want %q: %v", se.Kind, tc.kind, err)
			}
			if !tc.cause(err) {
				t.Errorf("the cause is not reachable with errors.Is/As: %v", err)
			}
			if se.Address != tc.cfg.Address || se.Unwrap() == nil || !strings.HasPrefix(err.Error(), se.Op+" to syslog receiver "+tc.cfg.Address) {
				t.Errorf("SendError %+v: %v", se, err)
			}
		})
	}
}

// TestKindOfOtherErrors: an error without a *SendError has no kind, even
// when its text reads like one.
func TestKindOfOtherErrors(t *testing.T) {
	for _, err := range []error{nil, errors.New("send to syslog receiver x over tcp: broken pipe"), relp.ErrRefused} {
		if k := KindOf(err); k != "" {
			t.Errorf("KindOf(%v) = %q, want none", err, k)
		}
	}
}
