package relp

import (
	"errors"
	"fmt"
	"io"
)

// state is what the reader goroutine learned, guarded by Client.mu.
// Commands are numbered by index k from 0: k = 0 is open, closeK (when
// not 0) is close, every other index is a syslog frame with seq k-1.
type state struct {
	issued   uint64 // commands registered before being written
	answered uint64 // commands answered, in order
	acked    uint64 // syslog frames answered 200
	closeK   uint64 // index of the close command; 0 before Close
	err      error  // first failure: the session is unusable
	ended    bool   // the reader goroutine has stopped reading
}

func (st *state) kind(k uint64) string {
	switch {
	case k == 0:
		return cmdOpen
	case st.closeK != 0 && k == st.closeK:
		return cmdClose
	}
	return cmdSyslog
}

// pending names the command whose answer is awaited.
func (st *state) pending() string {
	if st.answered < st.issued {
		return st.kind(st.answered)
	}
	return "receive"
}

func (st *state) closeAnswered() bool { return st.closeK != 0 && st.answered > st.closeK }

// read is the reader goroutine: it parses the receiver's frames and
// records what they mean until the stream ends or is unusable.
func (c *Client) read(fr *frameReader) {
	defer close(c.done)
	for {
		f, err := fr.next()
		// What the answer can acknowledge: the frames written whole
		// before it was read; for a frame that was then part of a write
		// in progress, once that write has ended (waiting without the
		// lock: an answer can outrun the write call that carried it).
		written := c.snap.flushed
		if err == nil && f.cmd == cmdRsp && c.snap.writing && c.awaitedEnd() > written {
			written = c.dw.writtenAfter(c.snap)
		}
		c.mu.Lock()
		stop := c.handle(f, err, fr.sent(), written)
		if stop {
			c.st.ended = true
		}
		c.mu.Unlock()
		select {
		case c.notify <- struct{}{}:
		default:
		}
		if stop {
			return
		}
	}
}

// awaitedEnd is where the frame of the command whose answer comes next
// ends in the stream (0 when none is awaited). Only the reader goroutine
// moves st.answered, so the answer it reads next is for that command.
func (c *Client) awaitedEnd() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st.answered >= c.st.issued {
		return 0
	}
	return c.ends[c.st.answered%uint64(len(c.ends))]
}

// handle applies one frame, or the read error err, to c.st; c.mu is held.
// written is how many bytes of the stream had reached the socket when the
// frame arrived: an rsp for a command whose frame was not written whole by
// then is a protocol violation (an early or invented acknowledgement),
// never a confirmation. It reports whether reading must stop.
func (c *Client) handle(f frame, err error, sent []byte, written uint64) (stop bool) {
	st := &c.st
	op := st.pending()
	setErr := func(e error) bool {
		if st.err == nil {
			st.err = e
		}
		return true
	}
	protocol := func(format string, args ...any) bool {
		return setErr(&Error{Addr: c.addr, Op: op, Err: newProtocolError(fmt.Sprintf(format, args...), sent, false, nil)})
	}
	switch {
	case err != nil:
		if st.closeAnswered() {
			return true // the end of the session
		}
		if c.closing.Load() {
			return setErr(&Error{Addr: c.addr, Op: "receive", Err: ErrClosed})
		}
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("connection closed by the receiver (%w), unanswered commands: %d", err, st.issued-st.answered)
		}
		return setErr(&Error{Addr: c.addr, Op: op, Err: err})
	case f.cmd == cmdServerClose && f.txnr == 0:
		if st.closeAnswered() {
			return true
		}
		return setErr(&Error{Addr: c.addr, Op: op, Err: ErrServerClose})
	case f.cmd != cmdRsp:
		return protocol("unexpected %s command with TXNR %d", f.cmd, f.txnr)
	case f.txnr == 0:
		return protocol("rsp with TXNR 0")
	case st.answered == st.issued:
		return protocol("rsp for TXNR %d while no command is unanswered", f.txnr)
	}
	if want := txnrAt(c.first, st.answered); f.txnr != want {
		d := (uint64(f.txnr) + maxTxnr - uint64(want)) % maxTxnr // how far ahead of want
		switch {
		case st.answered > 0 && d == maxTxnr-1:
			return protocol("duplicate rsp for TXNR %d (expected %d)", f.txnr, want)
		case d < st.issued-st.answered:
			return protocol("rsp for TXNR %d out of order (expected %d)", f.txnr, want)
		}
		return protocol("rsp for unknown TXNR %d (expected %d)", f.txnr, want)
	}
	k := st.answered
	kind := st.kind(k)
	if end := c.ends[k%uint64(len(c.ends))]; end > written && !plantAckUnflushed {
		return protocol("rsp for TXNR %d before its %s frame was written whole to the socket (it ends at byte %d of the stream, %d were written)",
			f.txnr, kind, end, written)
	}
	st.answered++
	if kind == cmdClose {
		return false // any answer ends the session; read on until serverclose or EOF
	}
	r, perr := parseRsp(f.data)
	if perr != nil {
		return protocol("%v in the answer to %s", perr, kind)
	}
	if r.code != 200 {
		return setErr(&Error{Addr: c.addr, Op: kind, Code: r.code, Text: truncate(r.text), Err: ErrRefused})
	}
	switch kind {
	case cmdOpen:
		o := parseOffers(r.data)
		if _, ok := o["relp_version"]; !ok {
			return protocol("answer to open without a relp_version offer")
		}
		if !o.has("commands", cmdSyslog) {
			return setErr(&Error{Addr: c.addr, Op: cmdOpen, Err: fmt.Errorf("%w (its offers: %s)", ErrNoSyslog, quote(r.data, false))})
		}
	case cmdSyslog:
		st.acked++
	}
	return false
}
