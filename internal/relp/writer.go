package relp

import (
	"context"
	"net"
	"time"
)

// register numbers the next command before it is written, so that its
// answer is expected by the time it can arrive.
func (c *Client) register(isClose bool) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := c.st.issued
	c.st.issued++
	if isClose {
		c.st.closeK = k
	}
	return k
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
// timeout from now, or limit when earlier.
type deadlineWriter struct {
	nc      net.Conn
	timeout time.Duration
	limit   time.Time
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	dl := time.Now().Add(d.timeout)
	if !d.limit.IsZero() && d.limit.Before(dl) {
		dl = d.limit
	}
	if err := d.nc.SetWriteDeadline(dl); err != nil {
		return 0, err
	}
	return d.nc.Write(p)
}
