// Package transport delivers syslog messages to a receiver over TCP, TLS,
// UDP or RELP (plain or over TLS), with buffered writes, write deadlines,
// the receiver's confirmation of progress (its TCP stack's for TCP and TLS,
// its RELP acknowledgements for RELP), and a pool of connections that
// outlives one invocation.
package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"sls2siem/internal/relp"
)

// Framings of a message on a stream (RFC 6587).
const (
	FramingLF            = "lf"             // MSG LF (non-transparent framing)
	FramingOctetCounting = "octet-counting" // MSG-LEN SP MSG (RFC 5425 / RFC 6587 §3.4.1)
)

// Networks.
const (
	NetworkTCP     = "tcp"
	NetworkTLS     = "tls"
	NetworkUDP     = "udp"
	NetworkRELP    = "relp"     // RELP over TCP
	NetworkRELPTLS = "relp-tls" // RELP over TLS
)

// Config says where and how to send.
type Config struct {
	Network      string      // NetworkTCP, NetworkTLS, NetworkUDP, NetworkRELP or NetworkRELPTLS
	Address      string      // host:port
	Framing      string      // FramingLF or FramingOctetCounting; ignored for udp and RELP (its own framing)
	TLS          *tls.Config // for tls and relp-tls
	RELPWindow   int         // RELP frames outstanding at most (0: relp.DefaultWindow)
	Software     string      // RELP relp_software offer
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
	nc       net.Conn // the TLS conn for tls and relp-tls
	raw      net.Conn // the TCP or UDP socket underneath
	counted  *countingConn
	w        *bufio.Writer
	dw       *deadlineWriter
	relp     *relp.Client // for relp and relp-tls
	relpCtx  context.Context
	cancel   context.CancelFunc
	sent     uint64 // datagrams, for udp
	lastUsed time.Time
	frame    [24]byte
	// confirmed is set once a Confirm succeeded: the receiver has
	// accepted data on this connection.
	confirmed bool
	// failed is set by the first error: what the socket says afterwards
	// (an empty send queue after a reset) is no evidence of delivery.
	failed bool
}

// isTLS reports whether the network runs over TLS.
func isTLS(network string) bool { return network == NetworkTLS || network == NetworkRELPTLS }

// isRELP reports whether the network is RELP.
func isRELP(network string) bool { return network == NetworkRELP || network == NetworkRELPTLS }

// Dial connects to the receiver described by cfg. For TLS the handshake
// (certificate and host name verification) completes before Dial returns,
// and for RELP the session is open.
func Dial(ctx context.Context, cfg *Config) (*Conn, error) {
	d := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
	network := cfg.Network
	if !slices.Contains([]string{NetworkTCP, NetworkTLS, NetworkUDP, NetworkRELP, NetworkRELPTLS}, network) {
		return nil, fmt.Errorf("syslog transport: unknown network %q", network)
	}
	proto := "tcp"
	if network == NetworkUDP {
		proto = "udp"
	}
	raw, err := d.DialContext(ctx, proto, cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("connect to syslog receiver %s over %s: %w", cfg.Address, network, err)
	}
	// Bytes are counted below TLS: what the receiver's TCP stack
	// acknowledges is compared with them.
	counted := &countingConn{Conn: raw}
	var nc net.Conn = counted
	if isTLS(network) {
		hctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
		tc := tls.Client(counted, cfg.TLS)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			raw.Close()
			return nil, fmt.Errorf("connect to syslog receiver %s over %s: %w", cfg.Address, network, describeTLS(err))
		}
		nc = tc
	}
	dw := &deadlineWriter{nc: nc, timeout: cfg.WriteTimeout}
	c := &Conn{cfg: cfg, nc: nc, raw: raw, counted: counted, dw: dw, w: bufio.NewWriterSize(dw, bufferSize), lastUsed: time.Now()}
	if isRELP(network) {
		octx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
		defer cancel()
		rc, err := relp.Open(octx, nc, cfg.Address, relp.Options{
			Software: cfg.Software, Window: cfg.RELPWindow, Timeout: max(cfg.WriteTimeout, time.Second),
		})
		if err != nil {
			return nil, fmt.Errorf("connect to syslog receiver %s over %s: %w", cfg.Address, network, err)
		}
		c.relp = rc
		c.w, c.dw = nil, nil
		c.SetDeadline(time.Time{})
	}
	return c, nil
}

// countingConn counts the bytes written to the socket.
type countingConn struct {
	net.Conn
	n atomic.Uint64
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n.Add(uint64(n))
	return n, err
}

// SetDeadline bounds every later write (and, for RELP, every wait for an
// acknowledgement) by t, the invocation's deadline; the zero time removes
// the bound.
func (c *Conn) SetDeadline(t time.Time) {
	if c.relp == nil {
		c.dw.limit = t
		return
	}
	if c.cancel != nil {
		c.cancel()
	}
	if t.IsZero() {
		c.relpCtx, c.cancel = context.Background(), nil
		return
	}
	c.relpCtx, c.cancel = context.WithDeadline(context.Background(), t)
}

// Write frames msg and buffers it. For udp the message is sent at once as
// one datagram.
func (c *Conn) Write(msg []byte) error {
	switch {
	case c.relp != nil:
		_, err := c.relp.Send(c.relpCtx, msg)
		return c.wrap("send", err)
	case c.cfg.Network == NetworkUDP:
		_, err := c.dw.Write(msg)
		if err == nil {
			c.sent++
		}
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
	if c.relp != nil {
		return c.wrap("flush", c.relp.Flush())
	}
	return c.wrap("flush", c.w.Flush())
}

// Position is how far the connection has sent, in the unit of Acked:
// bytes flushed to the socket (tcp, tls), frames (relp, relp-tls),
// datagrams (udp).
func (c *Conn) Position() uint64 {
	switch {
	case c.relp != nil:
		return c.relp.Sent()
	case c.cfg.Network == NetworkUDP:
		return c.sent
	}
	return c.counted.n.Load()
}

// Acked reports, without blocking, how far the receiver has confirmed, in
// Position's unit: the bytes its TCP stack acknowledged (tcp, tls), the
// frames it answered 200 (relp, relp-tls); udp confirms nothing, so its
// Position counts as confirmed once sent. ok is false when nothing can be
// said: after an error on a TCP or TLS connection (a reset empties the
// send queue without anything having been delivered), or where the
// system does not tell.
func (c *Conn) Acked() (pos uint64, ok bool) {
	switch {
	case c.relp != nil:
		n, _ := c.relp.Poll() // acknowledged frames stay acknowledged, error or not
		return n, true
	case c.cfg.Network == NetworkUDP:
		return c.sent, !c.failed
	case c.failed || !outqSupported:
		return 0, false
	}
	written := c.counted.n.Load()
	n, err := unacked(c.raw)
	if err != nil || uint64(n) > written {
		return 0, false
	}
	return written - uint64(n), true
}

// CountsMessages reports whether Position counts messages (RELP frames,
// UDP datagrams) rather than bytes.
func (c *Conn) CountsMessages() bool { return c.relp != nil || c.cfg.Network == NetworkUDP }

// Confirm flushes, then waits until the receiver has confirmed everything
// written: for RELP every frame answered 200; for TCP and TLS every byte
// acknowledged by its TCP stack (the socket's send queue is empty) with
// the connection still up. A TCP receiver that keeps taking bytes is
// given until ctx's deadline; one that takes none for SYSLOG_WRITE_TIMEOUT
// fails the confirmation. For udp it only flushes. A nil error is the
// strongest delivery evidence the protocol offers; an error means data
// written on this connection may be lost.
func (c *Conn) Confirm(ctx context.Context) error {
	if err := c.Flush(); err != nil {
		return err
	}
	switch {
	case c.relp != nil:
		if err := c.relp.Wait(ctx); err != nil {
			return c.wrap("confirm delivery", err)
		}
		c.confirmed = true
		return nil
	case c.cfg.Network == NetworkUDP:
		return nil
	}
	stall := max(c.cfg.WriteTimeout, time.Second)
	last, progressAt := -1, time.Now()
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
		now := time.Now()
		if n != last {
			last, progressAt = n, now
		}
		if err := ctx.Err(); err != nil {
			return c.wrap("confirm delivery", fmt.Errorf("%d bytes still unacknowledged by the receiver: %w", n, err))
		}
		if now.Sub(progressAt) > stall {
			return c.wrap("confirm delivery", fmt.Errorf("%d bytes still unacknowledged by the receiver, none for %s: %w", n, stall, errTimeout))
		}
	}
}

var errTimeout = errors.New("timeout")

// Close closes the connection without flushing.
func (c *Conn) Close() error {
	if c.cancel != nil {
		c.cancel()
	}
	if c.relp != nil {
		return c.relp.Abort()
	}
	return c.nc.Close()
}

// closeGracefully flushes, then closes the connection (for RELP: the
// close command, answered by the receiver).
func (c *Conn) closeGracefully() error {
	if c.relp != nil {
		ctx, cancel := context.WithTimeout(context.Background(), max(c.cfg.WriteTimeout, time.Second))
		defer cancel()
		return c.relp.Close(ctx)
	}
	err := c.Flush()
	return errors.Join(err, c.nc.Close())
}

func (c *Conn) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	c.failed = true
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
	switch {
	case c.relp != nil:
		_, err := c.relp.Poll()
		return err == nil
	case c.cfg.Network == NetworkUDP:
		return true
	}
	return c.peerClosed() == nil
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
