package relp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Defaults of Options.
const (
	DefaultWindow   = 128              // librelp's default window
	DefaultMaxFrame = 64 << 10         // answers are short: "TXNR rsp 6 200 OK"
	DefaultTimeout  = 30 * time.Second // used when Options.Timeout <= 0
)

const (
	writeBufferSize = 64 << 10
	// closeGrace bounds how long Close waits, after the answer to close,
	// for the receiver's serverclose and end of stream, so that the
	// connection is not closed with unread bytes (which would reset it).
	closeGrace = 500 * time.Millisecond
)

// Options configure a Client.
type Options struct {
	// Software is the relp_software offer, "NAME[,VERSION[,URL]]"; it
	// must not contain LF. Empty: no relp_software offer.
	Software string
	// Window is the most unacknowledged syslog frames outstanding
	// (DefaultWindow when <= 0).
	Window int
	// Timeout bounds every wait for an answer (open, close, window full,
	// Wait) and every write to the socket when the context has no earlier
	// deadline (DefaultTimeout when <= 0).
	Timeout time.Duration
	// MaxFrame is the largest DATALEN accepted in a frame from the
	// receiver (DefaultMaxFrame when <= 0).
	MaxFrame int
}

func (o Options) withDefaults() Options {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxFrame <= 0 {
		o.MaxFrame = DefaultMaxFrame
	}
	o.MaxFrame = min(o.MaxFrame, maxDataLen)
	return o
}

// Client is one RELP session. See the package documentation.
type Client struct {
	nc    net.Conn
	addr  string
	opts  Options
	first uint32 // TXNR of the open command (1; other values only in tests)

	// Owned by the caller's goroutine.
	w      *bufio.Writer
	dw     *deadlineWriter
	hdr    []byte
	sent   uint64 // syslog frames handed to Send
	closed bool   // Close or Abort was called
	queued uint64 // bytes of the frames handed to the write buffer
	// flushedK is the index of the first command not known to be written
	// whole to the socket; flushedSyslog counts the syslog frames before
	// it (Flushed).
	flushedK, flushedSyslog uint64

	// ends[k%len(ends)] is where command k's frame ends in the stream
	// (written under mu by the caller's goroutine, read by the reader):
	// an answer counts only for a frame written whole to the socket.
	ends []uint64
	// Owned by the reader goroutine: what the socket writer had done when
	// the bytes being parsed were read (see snapReader).
	snap writeSnap

	notify    chan struct{} // the reader changed st (capacity 1)
	done      chan struct{} // closed when the reader goroutine has returned
	closing   atomic.Bool   // nc is being closed by us
	closeOnce sync.Once
	closeErr  error

	mu sync.Mutex
	st state
}

// Open performs the RELP open handshake over an established connection nc
// (plain TCP or an already handshaken *tls.Conn), offering relp_version=0,
// relp_software (when set) and commands=syslog, and checks that the
// receiver answers 200 with a relp_version offer and accepts
// commands=syslog. addr names the receiver in errors. On error nc is closed.
func Open(ctx context.Context, nc net.Conn, addr string, opts Options) (*Client, error) {
	return open(ctx, nc, addr, opts, 1)
}

// open is Open with the TXNR of the open command chosen (tests of the
// wrap-around; receivers expect 1).
func open(ctx context.Context, nc net.Conn, addr string, opts Options, first uint32) (*Client, error) {
	opts = opts.withDefaults()
	c := &Client{
		nc:     nc,
		addr:   addr,
		opts:   opts,
		first:  first,
		hdr:    make([]byte, 0, 32),
		notify: make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	c.dw = newDeadlineWriter(nc, opts.Timeout)
	c.w = bufio.NewWriterSize(c.dw, writeBufferSize)
	c.ends = make([]uint64, opts.Window+2) // commands unanswered: the window, and close
	offer := c.offer()
	c.register(false, frameLen(txnrAt(first, 0), cmdOpen, len(offer))) // before the reader starts: its errors name open
	go c.read(newFrameReader(&snapReader{nc: nc, c: c}, opts.MaxFrame))
	if err := c.open(ctx, []byte(offer)); err != nil {
		c.Abort()
		return nil, explainOpen(nc, err)
	}
	return c, nil
}

// explainOpen adds a hint to an open that failed because a TLS receiver
// closed the connection: imrelp checks the client certificate after the
// TLS 1.3 handshake has completed on the client's side, then closes without
// an alert.
func explainOpen(nc net.Conn, err error) error {
	var e *Error
	if _, isTLS := nc.(*tls.Conn); !isTLS || !errors.As(err, &e) ||
		!(errors.Is(err, io.EOF) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)) {
		return err
	}
	return &Error{Addr: e.Addr, Op: e.Op, Code: e.Code, Text: e.Text,
		Err: fmt.Errorf("%w (over TLS this usually means the receiver refused the client certificate: see its log)", e.Err)}
}

// offer is the open command's data.
func (c *Client) offer() string {
	offer := "relp_version=0\n"
	if c.opts.Software != "" {
		offer += "relp_software=" + c.opts.Software + "\n"
	}
	return offer + "commands=" + cmdSyslog
}

func (c *Client) open(ctx context.Context, offer []byte) error {
	if strings.ContainsAny(c.opts.Software, "\n") {
		return c.errorf(cmdOpen, "relp_software offer contains LF")
	}
	if err := ctx.Err(); err != nil {
		return c.timeout(ctx, cmdOpen, "not started", time.Now())
	}
	defer c.limitWrites(ctx)()
	if err := c.writeFrame(cmdOpen, 0, cmdOpen, offer); err != nil {
		return err
	}
	if err := c.flush(cmdOpen); err != nil {
		return err
	}
	return c.waitFor(ctx, cmdOpen, func(st *state) bool { return st.answered > 0 && st.err == nil },
		func(*state) string { return "no answer to open" })
}

// Send frames msg as a syslog command and buffers it. When Window frames
// are unacknowledged it first flushes and waits, bounded by ctx and
// Timeout, until one is. It returns the frame's sequence number: 0 for the
// first frame of this Client, then 1, 2, ... (never wrapping, unlike the
// TXNR). On error seq is 0 and the frame may count in Sent(). After an
// error other than a timeout the Client is unusable: abort it and resend
// every frame with seq >= Acked() on a new Client. Cancelling ctx ends a
// wait; a blocked socket write ends at ctx's deadline or Timeout.
func (c *Client) Send(ctx context.Context, msg []byte) (seq uint64, err error) {
	const op = "send"
	if err := c.usable(op); err != nil {
		return 0, err
	}
	if len(msg) > maxDataLen {
		return 0, c.errorf(op, "message of %d bytes exceeds the largest RELP DATALEN (%d)", len(msg), maxDataLen)
	}
	if err := ctx.Err(); err != nil {
		return 0, c.timeout(ctx, op, "not sent", time.Now())
	}
	// The per-message path: no closure, one lock. The write bound is
	// ctx's deadline for this and the following writes (Flush has no ctx
	// of its own: it keeps the bound of the last Send).
	if dl, ok := ctx.Deadline(); ok {
		c.dw.limit = dl
	} else {
		c.dw.limit = time.Time{}
	}
	window := uint64(c.opts.Window)
	c.mu.Lock()
	full := c.sent-c.st.acked >= window
	c.mu.Unlock()
	if full {
		if err := c.flush(op); err != nil {
			return 0, err
		}
		err := c.waitFor(ctx, op, func(st *state) bool { return c.sent-st.acked < window },
			func(st *state) string {
				return fmt.Sprintf("window of %d frames full (%d of %d acknowledged)", window, st.acked, c.sent)
			})
		if err != nil {
			return 0, err
		}
	}
	k := c.register(false, frameLen(txnrAt(c.first, c.st.issued), cmdSyslog, len(msg)))
	seq = c.sent
	c.sent++
	if err := c.writeFrame(op, k, cmdSyslog, msg); err != nil {
		return 0, err
	}
	return seq, nil
}

// Flush writes buffered frames to the socket, each write bounded by
// Timeout.
func (c *Client) Flush() error {
	if err := c.usable("flush"); err != nil {
		return err
	}
	return c.flush("flush")
}

// Poll returns Acked() and the session's error, if any. It makes no system
// call: the reader goroutine has already read every rsp that arrived.
func (c *Client) Poll() (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.acked, c.st.err
}

// Acked is the number of frames acknowledged with 200, counted from the
// first: frames with seq < Acked() are confirmed.
func (c *Client) Acked() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.acked
}

// Sent is the number of frames handed to Send.
func (c *Client) Sent() uint64 { return c.sent }

// Wait flushes and blocks until every sent frame is acknowledged, or ctx
// or Timeout expires (ErrTimeout; the Client stays usable), or the session
// fails. When every frame is acknowledged it returns nil even if the
// receiver has closed the session since (the next Send reports that).
func (c *Client) Wait(ctx context.Context) error {
	const op = "wait"
	if c.closed {
		return c.errorf(op, "%w", ErrClosed)
	}
	c.mu.Lock()
	done, err := c.st.acked >= c.sent, c.st.err
	c.mu.Unlock()
	if done {
		return nil
	}
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return c.timeout(ctx, op, c.progress(), time.Now())
	}
	defer c.limitWrites(ctx)()
	if err := c.flush(op); err != nil {
		return err
	}
	return c.waitFor(ctx, op, func(st *state) bool { return st.acked >= c.sent },
		func(st *state) string { return fmt.Sprintf("%d of %d frames acknowledged", st.acked, c.sent) })
}

// Close sends close, waits (bounded by ctx and Timeout) for its answer and
// then, briefly, for the receiver's serverclose, and closes nc. It returns
// nil when every sent frame is acknowledged. It always closes nc.
func (c *Client) Close(ctx context.Context) error {
	if c.closed {
		return c.errorf(cmdClose, "%w", ErrClosed)
	}
	c.closed = true
	if err := c.close(ctx); err != nil {
		c.shutdown(true)
		if c.Acked() >= c.sent {
			return nil // the close handshake failed, but every frame is confirmed
		}
		return err
	}
	c.shutdown(false) // the RELP session ended well: a failing close_notify does not matter
	return nil
}

func (c *Client) close(ctx context.Context) error {
	const op = cmdClose
	allAcked := func(st *state) bool { return st.acked >= c.sent }
	c.mu.Lock()
	err, ended, done := c.st.err, c.st.ended, allAcked(&c.st)
	c.mu.Unlock()
	if done && (err != nil || ended) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return c.timeout(ctx, op, c.progress(), time.Now())
	}
	defer c.limitWrites(ctx)()
	k := c.register(true, frameLen(txnrAt(c.first, c.st.issued), cmdClose, 0))
	if err := c.writeFrame(op, k, cmdClose, nil); err != nil {
		return err
	}
	if err := c.flush(op); err != nil {
		return err
	}
	err = c.waitFor(ctx, op, func(st *state) bool { return st.answered > k || st.ended },
		func(st *state) string { return "no answer to close; " + c.progressLocked() })
	c.mu.Lock()
	done = allAcked(&c.st)
	c.mu.Unlock()
	if !done {
		if err == nil {
			err = c.errorf(op, "session ended with %s", c.progress())
		}
		return err
	}
	grace, cancel := context.WithTimeout(ctx, closeGrace)
	defer cancel()
	c.waitFor(grace, op, func(st *state) bool { return st.ended }, func(*state) string { return "" })
	return nil
}

// Abort closes nc at once (after an error) and stops the reader goroutine.
func (c *Client) Abort() error {
	c.closed = true
	return c.shutdown(true)
}

// shutdown closes nc once and waits for the reader goroutine. With abort,
// a TLS connection's socket is closed first so that no close_notify alert
// is written to a receiver that may not read.
func (c *Client) shutdown(abort bool) error {
	c.closeOnce.Do(func() {
		c.closing.Store(true)
		if nc, ok := c.nc.(interface{ NetConn() net.Conn }); ok && abort {
			c.closeErr = nc.NetConn().Close()
			c.nc.Close()
		} else {
			c.closeErr = c.nc.Close()
		}
		<-c.done
	})
	return c.closeErr
}

// usable returns the session's error, or ErrClosed after Close or Abort.
func (c *Client) usable(op string) error {
	if c.closed {
		return c.errorf(op, "%w", ErrClosed)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.err
}

func (c *Client) errorf(op, format string, args ...any) error {
	return &Error{Addr: c.addr, Op: op, Err: fmt.Errorf(format, args...)}
}

func (c *Client) progress() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.progressLocked()
}

func (c *Client) progressLocked() string {
	return fmt.Sprintf("%d of %d frames acknowledged", c.st.acked, c.sent)
}

// deadline is the end of a wait: Timeout from now, or ctx's deadline when
// earlier.
func (c *Client) deadline(ctx context.Context) time.Time {
	dl := time.Now().Add(c.opts.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	return dl
}

// waitFor waits until cond holds on the reader's state, the session fails,
// or ctx or Timeout expires; what describes the progress for a timeout.
// cond and what run with c.mu held. A cond that holds wins over a session
// error: when every frame is acknowledged and the receiver then closes, Wait
// succeeds and the next Send reports the error.
func (c *Client) waitFor(ctx context.Context, op string, cond func(*state) bool, what func(*state) string) error {
	start := time.Now()
	deadline := c.deadline(ctx)
	var timer *time.Timer
	for {
		c.mu.Lock()
		err, ok, ended := c.st.err, cond(&c.st), c.st.ended
		var msg string
		if !ok {
			msg = what(&c.st)
		}
		c.mu.Unlock()
		switch {
		case ok:
			return nil
		case err != nil:
			return err
		case ended:
			return c.errorf(op, "the session ended: %s", msg)
		}
		if timer == nil {
			d := time.Until(deadline)
			if d <= 0 {
				return c.timeout(ctx, op, msg, start)
			}
			timer = time.NewTimer(d)
			defer timer.Stop()
		}
		select {
		case <-c.notify:
		case <-timer.C:
			return c.timeout(ctx, op, msg, start)
		case <-ctx.Done():
			return c.timeout(ctx, op, msg, start)
		}
	}
}

func (c *Client) timeout(ctx context.Context, op, msg string, start time.Time) error {
	elapsed := time.Since(start).Round(time.Millisecond)
	err := ctx.Err()
	if dl, ok := ctx.Deadline(); ok && err == nil && !time.Now().Before(dl) {
		err = context.DeadlineExceeded // our timer fired at ctx's deadline, before ctx's own
	}
	if err != nil {
		return &Error{Addr: c.addr, Op: op, Err: fmt.Errorf("%w: %s after %v (%w)", ErrTimeout, msg, elapsed, err)}
	}
	return &Error{Addr: c.addr, Op: op, Err: fmt.Errorf("%w: %s after %v", ErrTimeout, msg, elapsed)}
}
