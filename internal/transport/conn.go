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
	// Dial opens the TCP or UDP connection (nil: a net.Dialer with
	// DialTimeout and keep-alives). A connection that also has
	//
	//	Unacked() (int, error)
	//
	// tells Confirm and Acked how many written bytes the peer has not
	// acknowledged, instead of the socket's send queue (SIOCOUTQ). It is
	// the seam of the delivery simulator (internal/delivery/sim), which
	// dials simulated connections.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// sendQueue is a connection that tells how much of what was written its
// peer has not acknowledged (see Config.Dial).
type sendQueue interface {
	Unacked() (int, error)
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
	// outq reports the bytes written and not acknowledged by the peer's
	// TCP stack; nil where nothing tells.
	outq func() (int, error)
	// For tcp and tls: where each message handed to the write buffer ends
	// in the (plaintext) stream, from ends[head] on those not yet known to
	// have reached the socket; queued is the stream's length, flushedMsgs
	// counts the messages that reached the socket (MessagesFlushed).
	ends        []uint64
	head        int
	queued      uint64
	flushedMsgs uint64
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
	network := cfg.Network
	if !slices.Contains([]string{NetworkTCP, NetworkTLS, NetworkUDP, NetworkRELP, NetworkRELPTLS}, network) {
		return nil, fmt.Errorf("syslog transport: unknown network %q", network)
	}
	proto := "tcp"
	if network == NetworkUDP {
		proto = "udp"
	}
	dial := cfg.Dial
	if dial == nil {
		d := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
		dial = d.DialContext
	} else if cfg.DialTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.DialTimeout)
		defer cancel()
	}
	raw, err := dial(ctx, proto, cfg.Address)
	if err != nil {
		return nil, newSendError(opConnect, cfg, err)
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
			return nil, newSendError(opConnect, cfg, describeTLS(err))
		}
		nc = tc
	}
	dw := &deadlineWriter{nc: nc, timeout: cfg.WriteTimeout}
	c := &Conn{cfg: cfg, nc: nc, raw: raw, counted: counted, dw: dw, w: bufio.NewWriterSize(dw, bufferSize), lastUsed: time.Now()}
	switch q, ok := raw.(sendQueue); {
	case ok:
		c.outq = q.Unacked
	case outqSupported:
		c.outq = func() (int, error) { return unacked(raw) }
	}
	if isRELP(network) {
		octx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
		defer cancel()
		rc, err := relp.Open(octx, nc, cfg.Address, relp.Options{
			Software: cfg.Software, Window: cfg.RELPWindow, Timeout: max(cfg.WriteTimeout, time.Second),
		})
		if err != nil {
			return nil, newSendError(opConnect, cfg, err)
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
		return c.wrap(opSend, err)
	case c.cfg.Network == NetworkUDP:
		_, err := c.dw.Write(msg)
		if err == nil {
			c.sent++
		}
		return c.wrap(opSend, err)
	}
	if c.cfg.Framing == FramingOctetCounting {
		hdr := strconv.AppendInt(c.frame[:0], int64(len(msg)), 10)
		hdr = append(hdr, ' ')
		c.queue(len(hdr) + len(msg))
		if _, err := c.w.Write(hdr); err != nil {
			return c.wrap(opSend, err)
		}
		_, err := c.w.Write(msg)
		return c.wrap(opSend, err)
	}
	c.queue(len(msg) + 1)
	if _, err := c.w.Write(msg); err != nil {
		return c.wrap(opSend, err)
	}
	return c.wrap(opSend, c.w.WriteByte('\n'))
}

// queue records where the message of n framed bytes about to be buffered
// ends in the stream, dropping the records of messages already written.
func (c *Conn) queue(n int) {
	c.advanceFlushed()
	if c.head == len(c.ends) {
		c.ends, c.head = c.ends[:0], 0
	} else if c.head > len(c.ends)/2 {
		c.ends = c.ends[:copy(c.ends, c.ends[c.head:])]
		c.head = 0
	}
	c.queued += uint64(n)
	c.ends = append(c.ends, c.queued)
}

// advanceFlushed counts the queued messages that reached the socket.
func (c *Conn) advanceFlushed() {
	for c.head < len(c.ends) && c.ends[c.head] <= c.dw.written {
		c.head++
		c.flushedMsgs++
	}
}

// MessagesFlushed counts the messages, from the connection's first, that
// were written whole to the socket: RELP frames, stream messages, UDP
// datagrams. What is still in the write buffer, or was cut by a failed
// write, is not.
func (c *Conn) MessagesFlushed() uint64 {
	switch {
	case c.relp != nil:
		return c.relp.Flushed()
	case c.cfg.Network == NetworkUDP:
		return c.sent
	}
	c.advanceFlushed()
	return c.flushedMsgs
}

// Flush writes what is buffered to the socket.
func (c *Conn) Flush() error {
	c.lastUsed = time.Now()
	if c.relp != nil {
		return c.wrap(opFlush, c.relp.Flush())
	}
	return c.wrap(opFlush, c.w.Flush())
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
	case c.failed || c.outq == nil:
		return 0, false
	}
	written := c.counted.n.Load()
	n, err := c.outq()
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
			return c.wrap(opConfirm, err)
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
			return c.wrap(opConfirm, err)
		}
		n, err := 0, error(nil)
		if c.outq != nil {
			n, err = c.outq()
		}
		if err != nil || n == 0 {
			c.confirmed = true
			return nil // acknowledged (or unknown here: the liveness check stands)
		}
		now := time.Now()
		if n != last {
			last, progressAt = n, now
		}
		if err := ctx.Err(); err != nil {
			return c.wrap(opConfirm, fmt.Errorf("%d bytes still unacknowledged by the receiver: %w", n, err))
		}
		if now.Sub(progressAt) > stall {
			return c.wrap(opConfirm, fmt.Errorf("%d bytes still unacknowledged by the receiver, none for %s: %w", n, stall, errTimeout))
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
	return newSendError(op, c.cfg, c.explainTLS(err))
}

// Errors of peerClosed.
var (
	errPeerClosed = errors.New("the receiver closed the connection")
	errPeerSent   = errors.New("the receiver sent data on a syslog connection")
)

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
		return errPeerClosed
	case err != nil:
		return describeTLS(err)
	case n > 0:
		return errPeerSent
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

// deadlineWriter sets a write deadline before every write to the socket
// and counts the bytes written (plaintext: above TLS).
type deadlineWriter struct {
	nc      net.Conn
	timeout time.Duration
	limit   time.Time
	written uint64
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
	n, err := d.nc.Write(p)
	d.written += uint64(n)
	return n, err
}
