package sim

import (
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// chunk is bytes in flight: accepted by the sender's socket, arriving at.
type chunk struct {
	data []byte
	at   time.Time
}

// pipe is one direction of a link.
type pipe struct {
	latency        time.Duration
	sndCap, rcvCap int
	flight         []chunk // sent, not yet in the receiver's buffer
	flightN        int
	rcv            []byte // in the receiver's buffer: acknowledged by its TCP stack, not read
	// Stream offsets: accepted by the sender's socket, moved into the
	// receiver's buffer (acknowledged), read by the receiver.
	accepted, acked, read int64
	fin                   bool        // the sender closed its side: EOF once drained
	readerGone            bool        // the receiving end is closed: data arriving resets the link
	timer                 *time.Timer // wakes the link when the first chunk in flight arrives
	timerAt               time.Time
	// unackedAtReset is what the sender's stack still counted as
	// unacknowledged when the link was reset: Linux keeps reporting it
	// (SIOCOUTQ is write_seq - snd_una, which a reset does not move).
	unackedAtReset int
}

// link is a simulated TCP connection: up carries the client's bytes to the
// receiver, down the receiver's answers.
type link struct {
	id   int
	w    *world
	plan connPlan
	mu   sync.Mutex
	cond sync.Cond
	up   pipe
	down pipe
	// reset: an RST dropped everything; every later operation fails.
	reset bool
	// The client's socket write in progress, for the liar: whether one
	// is blocked before its bytes are accepted, until when, and where its
	// bytes end in the stream.
	writing   bool
	writeFrom time.Time
	writeEnd  int64
	writes    int // socket writes started by the client
	// tap parses what the client hands to its socket (plaintext only).
	tap *tap
	// recv is the receiver the link leads to (SYSLOG_HOST's index);
	// probe marks a health probe's connection. ended is when (world.seq)
	// the client closed it or it was reset: 0 while it is up.
	recv  int
	probe bool
	ended int64
	used  map[int]bool // attempts that wrote on it
}

func newLink(w *world, id int, p connPlan) *link {
	l := &link{id: id, w: w, plan: p}
	l.cond.L = &l.mu
	l.up = pipe{latency: p.latency, sndCap: p.sndBuf, rcvCap: p.rcvBuf}
	l.down = pipe{latency: p.latency, sndCap: 1 << 20, rcvCap: 1 << 20}
	return l
}

// pump moves the bytes that have arrived into the receiver's buffer, as
// far as it has room. A pipe whose reader is gone resets the link when
// bytes arrive. l.mu is held.
func (l *link) pump(p *pipe) {
	now := time.Now()
	for len(p.flight) > 0 && !now.Before(p.flight[0].at) {
		if p.readerGone {
			l.doReset()
			return
		}
		c := &p.flight[0]
		n := min(len(c.data), p.rcvCap-len(p.rcv))
		if n == 0 {
			return
		}
		p.rcv = append(p.rcv, c.data[:n]...)
		c.data = c.data[n:]
		p.flightN -= n
		p.acked += int64(n)
		if len(c.data) == 0 {
			p.flight = p.flight[1:]
		}
	}
	l.arrival(p)
}

// doReset drops everything: both sides see ECONNRESET. l.mu is held.
func (l *link) doReset() {
	if l.reset {
		return
	}
	l.reset = true
	if l.ended == 0 {
		l.ended = l.w.seq.Add(1)
	}
	for _, p := range []*pipe{&l.up, &l.down} {
		p.unackedAtReset = p.flightN
		p.flight, p.flightN, p.rcv = nil, 0, nil
	}
	l.cond.Broadcast()
}

// arrival makes sure the pipe is pumped when its first chunk in flight
// arrives (one timer per pipe). l.mu is held.
func (l *link) arrival(p *pipe) {
	if len(p.flight) == 0 {
		return
	}
	at := p.flight[0].at
	if !at.After(time.Now()) {
		return // arrived: it moves when the receiver's buffer has room (Read pumps)
	}
	if p.timer != nil && !p.timerAt.After(at) && p.timerAt.After(time.Now()) {
		return // an earlier (or equal) wake-up is set
	}
	if p.timer != nil {
		p.timer.Stop()
	}
	p.timerAt = at
	p.timer = time.AfterFunc(time.Until(at), l.wake)
}

// wake pumps both directions and wakes every waiter.
func (l *link) wake() {
	l.mu.Lock()
	l.pump(&l.up)
	l.pump(&l.down)
	l.cond.Broadcast()
	l.mu.Unlock()
}

// wait blocks until woken or dl passes. l.mu is held.
func (l *link) wait(dl time.Time) {
	if !dl.IsZero() {
		d := time.Until(dl)
		if d <= 0 {
			return
		}
		t := time.AfterFunc(d, l.wake)
		defer t.Stop()
	}
	l.cond.Wait()
}

// end is one end of a link, a net.Conn.
type end struct {
	l        *link
	in, out  *pipe
	client   bool
	rdl, wdl time.Time
	closed   bool
}

func (l *link) ends() (client, server *end) {
	return &end{l: l, in: &l.down, out: &l.up, client: true}, &end{l: l, in: &l.up, out: &l.down}
}

type simAddr string

func (a simAddr) Network() string { return "tcp" }
func (a simAddr) String() string  { return string(a) }

func (e *end) LocalAddr() net.Addr  { return simAddr("sim") }
func (e *end) RemoteAddr() net.Addr { return simAddr("sim") }

func opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Err: err}
}

var (
	errReset    = os.NewSyscallError("read", syscall.ECONNRESET)
	errPipe     = os.NewSyscallError("write", syscall.EPIPE)
	errDeadline = os.ErrDeadlineExceeded
)

func expired(dl time.Time) bool { return !dl.IsZero() && !time.Now().Before(dl) }

func (e *end) Read(b []byte) (int, error) {
	l := e.l
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		l.pump(e.in)
		switch {
		case e.closed:
			return 0, net.ErrClosed
		case l.reset:
			return 0, opError("read", errReset)
		case len(e.in.rcv) > 0:
			n := copy(b, e.in.rcv)
			e.in.rcv = e.in.rcv[n:]
			e.in.read += int64(n)
			l.pump(e.in) // room for more
			l.cond.Broadcast()
			return n, nil
		case e.in.fin && e.in.flightN == 0:
			return 0, io.EOF
		case expired(e.rdl):
			return 0, opError("read", errDeadline)
		}
		l.wait(e.rdl)
	}
}

func (e *end) Write(b []byte) (int, error) {
	l := e.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.closed {
		return 0, net.ErrClosed
	}
	if e.client {
		l.w.used(l)
		l.writes++
		if l.tap != nil {
			l.tap.feed(e.out.accepted, b)
		}
		if d := l.w.slowWrite(l, l.writes); d > 0 && !l.reset {
			// A socket write that takes its time before the stack takes
			// the bytes (a send buffer full in the kernel).
			l.writing, l.writeFrom, l.writeEnd = true, time.Now().Add(d), e.out.accepted+int64(len(b))
			l.mu.Unlock()
			time.Sleep(d)
			l.mu.Lock()
			l.writing = false
		}
	}
	n := 0
	for n < len(b) {
		l.pump(e.out)
		switch {
		case e.closed:
			return n, net.ErrClosed
		case l.reset:
			return n, opError("write", errReset)
		case e.out.readerGone:
			l.doReset()
			return n, opError("write", errPipe)
		case expired(e.wdl):
			return n, opError("write", errDeadline)
		}
		if room := e.out.sndCap - e.out.flightN; room > 0 {
			k := min(room, len(b)-n)
			data := append([]byte(nil), b[n:n+k]...)
			e.out.flight = append(e.out.flight, chunk{data: data, at: time.Now().Add(e.out.latency)})
			e.out.flightN += k
			e.out.accepted += int64(k)
			n += k
			l.arrival(e.out)
			continue
		}
		l.wait(e.wdl)
	}
	return n, nil
}

// Close closes the end: FIN, or RST when unread data is left.
func (e *end) Close() error {
	l := e.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	if e.client && l.ended == 0 {
		l.ended = l.w.seq.Add(1)
	}
	l.pump(e.in)
	if len(e.in.rcv) > 0 {
		l.doReset()
		return nil
	}
	e.out.fin = true
	e.in.readerGone = true
	l.cond.Broadcast()
	return nil
}

// closeWrite sends FIN and keeps reading (a half-close).
func (e *end) closeWrite() {
	l := e.l
	l.mu.Lock()
	defer l.mu.Unlock()
	e.out.fin = true
	l.cond.Broadcast()
}

// resetNow aborts the connection with RST.
func (e *end) resetNow() {
	l := e.l
	l.mu.Lock()
	defer l.mu.Unlock()
	l.doReset()
}

func (e *end) SetDeadline(t time.Time) error {
	e.SetReadDeadline(t)
	return e.SetWriteDeadline(t)
}

func (e *end) SetReadDeadline(t time.Time) error {
	e.l.mu.Lock()
	e.rdl = t
	e.l.cond.Broadcast()
	e.l.mu.Unlock()
	return nil
}

func (e *end) SetWriteDeadline(t time.Time) error {
	e.l.mu.Lock()
	e.wdl = t
	e.l.cond.Broadcast()
	e.l.mu.Unlock()
	return nil
}

// Unacked is the bytes the client wrote that the receiver's TCP stack has
// not acknowledged: the transport's view of the send queue (SIOCOUTQ).
func (e *end) Unacked() (int, error) {
	l := e.l
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pump(e.out)
	if l.reset {
		return e.out.unackedAtReset, nil
	}
	return e.out.flightN, nil
}
