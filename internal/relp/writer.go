package relp

import (
	"context"
	"net"
	"sync"
	"time"
)

// register numbers the next command, of n bytes, before it is written,
// so that its answer is expected by the time it can arrive, and records
// where its frame ends in the stream.
func (c *Client) register(isClose bool, n int) uint64 {
	c.advanceFlushed() // before ends' slot for this command is reused
	c.queued += uint64(n)
	c.mu.Lock()
	defer c.mu.Unlock()
	k := c.st.issued
	c.st.issued++
	if isClose {
		c.st.closeK = k
	}
	c.ends[k%uint64(len(c.ends))] = c.queued
	return k
}

// frameLen is the length of a frame with datalen bytes of data.
func frameLen(txnr uint32, cmd string, datalen int) int {
	n := digits(uint64(txnr)) + 1 + len(cmd) + 1 + digits(uint64(datalen)) + 1
	if datalen > 0 {
		n += 1 + datalen
	}
	return n
}

func digits(v uint64) int {
	n := 1
	for v >= 10 {
		v /= 10
		n++
	}
	return n
}

// advanceFlushed moves flushedK past the commands written whole to the
// socket, counting the syslog frames among them. It runs on the caller's
// goroutine, the only one that writes ends.
func (c *Client) advanceFlushed() {
	flushed := c.dw.written()
	for c.flushedK < c.st.issued && c.ends[c.flushedK%uint64(len(c.ends))] <= flushed {
		if c.flushedK != 0 && c.flushedK != c.st.closeK {
			c.flushedSyslog++
		}
		c.flushedK++
	}
}

// Flushed is the number of syslog frames, counted from the first, that
// were written whole to the socket. Frames handed to Send but still in
// the write buffer, or cut by a failed write, are not.
func (c *Client) Flushed() uint64 {
	c.advanceFlushed()
	return c.flushedSyslog
}

func (c *Client) writeFrame(op string, k uint64, cmd string, data []byte) error {
	c.hdr = appendHeader(c.hdr[:0], txnrAt(c.first, k), cmd, len(data))
	if _, err := c.w.Write(c.hdr); err != nil {
		return c.fail(op, err)
	}
	if _, err := c.w.Write(data); err != nil {
		return c.fail(op, err)
	}
	if err := c.w.WriteByte('\n'); err != nil {
		return c.fail(op, err)
	}
	return nil
}

func (c *Client) flush(op string) error {
	if c.w.Buffered() == 0 {
		return nil
	}
	if err := c.w.Flush(); err != nil {
		return c.fail(op, err)
	}
	return nil
}

// limitWrites bounds the writes of one call by ctx's deadline; the
// returned function removes the bound.
func (c *Client) limitWrites(ctx context.Context) func() {
	if dl, ok := ctx.Deadline(); ok {
		c.dw.limit = dl
		return func() { c.dw.limit = time.Time{} }
	}
	return func() {}
}

// fail records a write failure (the stream may hold part of a frame: the
// session is unusable) and returns the session's first error, which is
// the receiver's own answer when it refused or closed before.
func (c *Client) fail(op string, err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st.err == nil {
		c.st.err = &Error{Addr: c.addr, Op: op, Err: err}
	}
	return c.st.err
}

// deadlineWriter sets a write deadline before every write to the socket:
// timeout from now, or limit when earlier. It keeps count of the bytes
// written to the socket and of the write in progress, for the reader
// goroutine to tell an answer to a frame written from an answer that
// came too early (see snapReader).
type deadlineWriter struct {
	nc      net.Conn
	timeout time.Duration
	limit   time.Time

	mu      sync.Mutex
	done    sync.Cond // signalled when a write ends
	flushed uint64    // bytes of ended writes that reached the socket
	started uint64    // writes started
	ended   uint64    // writes ended
	upTo    uint64    // flushed + the length of the write in progress
}

func newDeadlineWriter(nc net.Conn, timeout time.Duration) *deadlineWriter {
	d := &deadlineWriter{nc: nc, timeout: timeout}
	d.done.L = &d.mu
	return d
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	dl := time.Now().Add(d.timeout)
	if !d.limit.IsZero() && d.limit.Before(dl) {
		dl = d.limit
	}
	if err := d.nc.SetWriteDeadline(dl); err != nil {
		return 0, err
	}
	d.mu.Lock()
	d.started++
	d.upTo = d.flushed + uint64(len(p))
	d.mu.Unlock()
	n, err := d.nc.Write(p)
	d.mu.Lock()
	d.flushed += uint64(n)
	d.ended++
	d.mu.Unlock()
	d.done.Broadcast()
	return n, err
}

// written is the number of bytes that reached the socket.
func (d *deadlineWriter) written() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.flushed
}

// writeSnap is what the writer had done at one moment.
type writeSnap struct {
	flushed uint64 // bytes of ended writes
	writing bool   // a write was in progress
	seq     uint64 // which one (the writes started)
	upTo    uint64 // the end of its bytes
}

func (d *deadlineWriter) snapshot() writeSnap {
	d.mu.Lock()
	defer d.mu.Unlock()
	return writeSnap{flushed: d.flushed, writing: d.started > d.ended, seq: d.started, upTo: d.upTo}
}

// writtenAfter waits until the write in progress at snapshot s has ended
// and returns how far the bytes written then reach: what an answer read
// at s can acknowledge. A write started after s does not count.
func (d *deadlineWriter) writtenAfter(s writeSnap) uint64 {
	if !s.writing {
		return s.flushed
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for d.ended < s.seq {
		d.done.Wait()
	}
	// A write that failed part-way is the last one: nothing after it
	// reaches the socket (the session is unusable).
	return min(d.flushed, s.upTo)
}

// snapReader is the reader goroutine's view of the socket: after every
// read it records what the writer had done, so that an answer is checked
// against the frames written before it arrived.
type snapReader struct {
	nc net.Conn
	c  *Client
}

func (r *snapReader) Read(p []byte) (int, error) {
	n, err := r.nc.Read(p)
	r.c.snap = r.c.dw.snapshot()
	return n, err
}
