package e2e

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strconv"
	"testing"
	"time"
)

// loopback returns 127.0.0.1:port.
func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// octetFrame frames msg for RFC 6587 octet counting: "LEN SP MSG".
func octetFrame(msg string) string { return fmt.Sprintf("%d %s", len(msg), msg) }

// lfFrame frames msg for RFC 6587 non-transparent framing: "MSG LF".
func lfFrame(msg string) string { return msg + "\n" }

// sendStream writes the framed messages on one TCP connection and closes it.
func sendStream(t testing.TB, addr string, frame func(string) string, msgs ...string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	writeFrames(t, c, frame, msgs)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// sendUDP sends each message as one datagram.
func sendUDP(t testing.TB, addr string, msgs ...string) {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, m := range msgs {
		if _, err := io.WriteString(c, m); err != nil {
			t.Fatal(err)
		}
	}
}

// dialTLS opens a TLS connection and completes the handshake.
func dialTLS(addr string, cfg *tls.Config) (*tls.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return tls.DialWithDialer(d, "tcp", addr, cfg)
}

// sendTLS writes octet-counted messages on one TLS connection and closes it.
func sendTLS(t testing.TB, addr string, cfg *tls.Config, msgs ...string) {
	t.Helper()
	c, err := dialTLS(addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	writeFrames(t, c, octetFrame, msgs)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

func writeFrames(t testing.TB, c net.Conn, frame func(string) string, msgs []string) {
	t.Helper()
	for _, m := range msgs {
		if _, err := io.WriteString(c, frame(m)); err != nil {
			t.Fatal(err)
		}
	}
}
