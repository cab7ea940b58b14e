// Package transport delivers framed syslog messages to a receiver over TCP,
// TLS or UDP, with buffered writes, write deadlines and a pool of
// connections that outlives a single invocation.
package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
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
	WriteTimeout time.Duration // bound on every write to the socket
	IdleTimeout  time.Duration // pooled connections idle longer are closed
}

const bufferSize = 64 * 1024

// Conn is one connection to the receiver. Messages are framed into a
// buffer and reach the socket on Flush (or when the buffer fills). A Conn
// is used by one invocation at a time.
type Conn struct {
	cfg      *Config
	nc       net.Conn
	w        *bufio.Writer
	dw       *deadlineWriter
	lastUsed time.Time
	frame    [24]byte
}

// Dial connects to the receiver described by cfg.
func Dial(ctx context.Context, cfg *Config) (*Conn, error) {
	d := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
	var nc net.Conn
	var err error
	switch cfg.Network {
	case "tcp", "udp":
		nc, err = d.DialContext(ctx, cfg.Network, cfg.Address)
	case "tls":
		td := &tls.Dialer{NetDialer: d, Config: cfg.TLS}
		nc, err = td.DialContext(ctx, "tcp", cfg.Address)
	default:
		return nil, fmt.Errorf("syslog transport: unknown network %q", cfg.Network)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to syslog receiver %s over %s: %w", cfg.Address, cfg.Network, err)
	}
	dw := &deadlineWriter{nc: nc, timeout: cfg.WriteTimeout}
	return &Conn{cfg: cfg, nc: nc, dw: dw, w: bufio.NewWriterSize(dw, bufferSize), lastUsed: time.Now()}, nil
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
	return fmt.Errorf("%s to syslog receiver %s over %s: %w", op, c.cfg.Address, c.cfg.Network, err)
}

// alive reports whether a pooled connection still looks usable: the peer
// has not closed it (EOF) or reset it while it sat idle, for example while
// FC froze the instance. Receivers never send, so a pending byte is also a
// reason to drop it.
func (c *Conn) alive() bool {
	if c.cfg.Network == "udp" {
		return true
	}
	if err := c.nc.SetReadDeadline(time.Now().Add(time.Millisecond)); err != nil {
		return false
	}
	var b [1]byte
	_, err := c.nc.Read(b[:])
	_ = c.nc.SetReadDeadline(time.Time{})
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
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
