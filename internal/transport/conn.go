// Package transport delivers framed syslog messages to a receiver over TCP,
// TLS or UDP, with buffered writes, write deadlines, a delivery check
// before success, and a pool of connections that outlives one invocation.
package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// Framings of a message on a stream (RFC 6587).
const (
	FramingLF            = "lf"             // MSG LF (non-transparent framing)
	FramingOctetCounting = "octet-counting" // MSG-LEN SP MSG (RFC 5425 / RFC 6587 §3.4.1)
)

// Config says where and how to send.
type Config struct {
	Network      string // "tcp", "tls" or "udp"
	Address      string // host:port
	Framing      string // FramingLF or FramingOctetCounting; ignored for udp
	TLS          *tls.Config
	DialTimeout  time.Duration
	WriteTimeout time.Duration // bound on every write to the socket and on Confirm
	IdleTimeout  time.Duration // pooled connections idle longer are closed
}

const bufferSize = 64 * 1024

// Conn is one connection to the receiver. Messages are framed into a
// buffer and reach the socket on Flush (or when the buffer fills). A Conn
// is used by one invocation at a time.
type Conn struct {
	cfg      *Config
	nc       net.Conn // the TLS conn for tls
	raw      net.Conn // the TCP or UDP socket underneath
	w        *bufio.Writer
	dw       *deadlineWriter
	lastUsed time.Time
	frame    [24]byte
	// confirmed is set once a Confirm succeeded: the receiver has
	// accepted data on this connection.
	confirmed bool
}

// Dial connects to the receiver described by cfg. For TLS the handshake
// (certificate and host name verification) completes before Dial returns.
func Dial(ctx context.Context, cfg *Config) (*Conn, error) {
	d := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
	var nc, raw net.Conn
	var err error
	switch cfg.Network {
	case "tcp", "udp":
		nc, err = d.DialContext(ctx, cfg.Network, cfg.Address)
		raw = nc
	case "tls":
		td := &tls.Dialer{NetDialer: d, Config: cfg.TLS}
		nc, err = td.DialContext(ctx, "tcp", cfg.Address)
		if err == nil {
			raw = nc.(*tls.Conn).NetConn()
		}
	default:
		return nil, fmt.Errorf("syslog transport: unknown network %q", cfg.Network)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to syslog receiver %s over %s: %w", cfg.Address, cfg.Network, describeTLS(err))
	}
	dw := &deadlineWriter{nc: nc, timeout: cfg.WriteTimeout}
	return &Conn{cfg: cfg, nc: nc, raw: raw, dw: dw, w: bufio.NewWriterSize(dw, bufferSize), lastUsed: time.Now()}, nil
}

// SetDeadline bounds every later write by t (the invocation's deadline);
// the zero time removes the bound.
func (c *Conn) SetDeadline(t time.Time) { c.dw.limit = t }

// Write frames msg and buffers it. For udp the message is sent at once as
// one datagram.
func (c *Conn) Write(msg []byte) error {
	if c.cfg.Network == "udp" {
		_, err := c.dw.Write(msg)
		return c.wrap("send", err)
	}
	if c.cfg.Framing == FramingOctetCounting {
		hdr := strconv.AppendInt(c.frame[:0], int64(len(msg)), 10)
		hdr = append(hdr, ' ')
		if _, err := c.w.Write(hdr); err != nil {
			return c.wrap("send", err)
		}
		_, err := c.w.Write(msg)
		return c.wrap("send", err)
	}
	if _, err := c.w.Write(msg); err != nil {
		return c.wrap("send", err)
	}
	return c.wrap("send", c.w.WriteByte('\n'))
}

// Flush writes what is buffered to the socket.
func (c *Conn) Flush() error {
	c.lastUsed = time.Now()
	return c.wrap("flush", c.w.Flush())
}

// Confirm flushes, then waits until the receiver's TCP stack has
// acknowledged every byte written (the socket's send queue is empty) and
// checks that the receiver has not closed or reset the connection. A nil
// error is the strongest delivery evidence plain syslog over TCP offers;
// an error means data written on this connection may be lost. For udp it
// only flushes.
func (c *Conn) Confirm(ctx context.Context) error {
	if err := c.Flush(); err != nil {
		return err
	}
	if c.cfg.Network == "udp" {
		return nil
	}
	deadline := time.Now().Add(max(c.cfg.WriteTimeout, time.Second))
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	for {
		// peerClosed waits up to a millisecond: it paces the loop, and it
		// catches a receiver that resets the connection or sends a TLS
		// alert while bytes are still in flight.
		if err := c.peerClosed(); err != nil {
			return c.wrap("confirm delivery", err)
		}
		n, err := unacked(c.raw)
		if err != nil || n == 0 {
			c.confirmed = true
			return nil // acknowledged (or unknown here: the liveness check stands)
		}
		if time.Now().After(deadline) {
			return c.wrap("confirm delivery", fmt.Errorf("%d bytes still unacknowledged by the receiver: %w", n, errTimeout))
		}
	}
}

var errTimeout = errors.New("timeout")

// Close closes the connection without flushing.
func (c *Conn) Close() error { return c.nc.Close() }

// closeGracefully flushes, then closes the connection.
func (c *Conn) closeGracefully() error {
	err := c.Flush()
	return errors.Join(err, c.nc.Close())
}

func (c *Conn) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	err = c.explainTLS(err)
	return fmt.Errorf("%s to syslog receiver %s over %s: %w", op, c.cfg.Address, c.cfg.Network, err)
}

// peerClosed reports, without blocking for more than a millisecond,
// whether the receiver has closed or reset the connection. Receivers never
// send, so pending data is unexpected too.
//
// For TLS the read goes through the TLS layer, which consumes post-handshake
// messages (session tickets) and reports alerts such as "certificate
// required"; a read timeout does not break a tls.Conn.
func (c *Conn) peerClosed() error {
	if err := c.nc.SetReadDeadline(time.Now().Add(time.Millisecond)); err != nil {
		return err
	}
	defer c.nc.SetReadDeadline(time.Time{})
	var b [1]byte
	n, err := c.nc.Read(b[:])
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return nil
	case errors.Is(err, io.EOF):
		return errors.New("the receiver closed the connection")
	case err != nil:
		return describeTLS(err)
	case n > 0:
		return errors.New("the receiver sent data on a syslog connection")
	}
	return nil
}

// alive reports whether a pooled connection is still usable.
func (c *Conn) alive() bool {
	return c.cfg.Network == "udp" || c.peerClosed() == nil
}

// deadlineWriter sets a write deadline before every write to the socket.
type deadlineWriter struct {
	nc      net.Conn
	timeout time.Duration
	limit   time.Time
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	var dl time.Time
	if d.timeout > 0 {
		dl = time.Now().Add(d.timeout)
	}
	if !d.limit.IsZero() && (dl.IsZero() || d.limit.Before(dl)) {
		dl = d.limit
	}
	if err := d.nc.SetWriteDeadline(dl); err != nil {
		return 0, err
	}
	return d.nc.Write(p)
}
