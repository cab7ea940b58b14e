package sim

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"time"
)

// receiver is the simulated receiver on the server end of a link.
type receiver struct {
	w    *world
	l    *link
	e    *end
	nc   net.Conn // e, or the TLS server over it
	plan connPlan
	rng  *rand.Rand
	relp bool
	p    parser
	off  int64 // bytes of the client's stream read (plaintext)
	n    int   // syslog messages received
	// Answers waiting for their time, in order.
	acks       []pendingAck
	lastAt     time.Time
	halfClosed bool // FIN sent: answers are dropped
	closeAfter bool // close once the answers are out (serverclose)
	lied       bool
	muted      bool
	// TXNRs the liar answered: promised (plausibly written: stored when
	// they arrive) and impossible (discarded when they arrive).
	promised, lies map[int64]bool
}

type pendingAck struct {
	data []byte
	at   time.Time
}

func (r *receiver) run() {
	defer r.w.wg.Done()
	defer r.nc.Close()
	if r.plan.dial == dialAcceptClose {
		r.w.event("accepted then closed")
		return
	}
	if r.plan.mute && !r.relp {
		r.w.event("receiver never acknowledges")
		r.never() // a TCP receiver that never reads
		return
	}
	if tc, ok := r.nc.(*tls.Conn); ok {
		if err := tc.Handshake(); err != nil {
			return
		}
	}
	buf := make([]byte, 16<<10)
	for {
		r.nc.SetReadDeadline(r.nextWake())
		n, err := r.nc.Read(buf)
		if n > 0 && !r.consume(buf[:n]) {
			return
		}
		var ne net.Error
		if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
			return // EOF, reset, closed
		}
		if !r.tick() {
			return
		}
	}
}

// never waits, reading nothing, until the link is reset or closed.
func (r *receiver) never() {
	l := r.l
	l.mu.Lock()
	defer l.mu.Unlock()
	for !l.reset && !r.e.closed && !l.up.fin {
		l.cond.Wait()
	}
}

// nextWake is when the receiver must act without input: the next answer
// due, or soon while the liar waits for its moment.
func (r *receiver) nextWake() time.Time {
	var t time.Time
	if len(r.acks) > 0 {
		t = r.acks[0].at
	}
	if r.plan.lie && !r.lied {
		if soon := time.Now().Add(100 * time.Microsecond); t.IsZero() || soon.Before(t) {
			t = soon
		}
	}
	return t
}

// consume reads b, the next bytes of the client's stream, applying the
// faults placed at byte offsets. It reports whether to go on.
func (r *receiver) consume(b []byte) bool {
	for len(b) > 0 {
		cut, act := int64(len(b)), ""
		for _, f := range []struct {
			at   int64
			name string
		}{{r.plan.resetAt, "reset"}, {r.plan.halfCloseAt, "halfclose"}, {r.plan.stallAt, "stall"}, {r.plan.closeAt, "close"}} {
			if f.at >= r.off && f.at-r.off < cut {
				cut, act = f.at-r.off, f.name
			}
		}
		if !r.parse(b[:cut]) {
			return false
		}
		r.off += cut
		b = b[cut:]
		if act != "" {
			r.w.event(act + " at a byte offset")
		}
		switch act {
		case "reset":
			r.plan.resetAt = -1
			r.e.resetNow()
			return false
		case "close":
			r.plan.closeAt = -1
			return false // run closes: RST if unread data is left
		case "halfclose":
			r.plan.halfCloseAt = -1
			r.halfClosed, r.acks = true, nil
			r.e.closeWrite()
		case "stall":
			r.plan.stallAt = -1
			time.Sleep(r.plan.stallFor)
		}
	}
	return true
}

// parse takes the frames of b.
func (r *receiver) parse(b []byte) bool {
	r.p.feed(b)
	for {
		f, ok, err := r.p.next()
		if err != nil {
			r.w.violation("link %d: the receiver got a malformed stream: %v", r.l.id, err)
			return false
		}
		if !ok {
			return true
		}
		if !r.frame(f) {
			return false
		}
	}
}

// frame handles one frame of the client.
func (r *receiver) frame(f frame) bool {
	if !r.relp {
		i := r.n
		r.n++
		if r.plan.discardFrom < 0 || i < r.plan.discardFrom {
			r.w.store(r.l, f.id)
		} else if i == r.plan.discardFrom {
			r.w.event("taken and discarded")
		}
		return true
	}
	if r.plan.mute && (f.cmd != "open" || !r.plan.muteAfterOpen) {
		if !r.muted {
			r.w.event("receiver never acknowledges")
			r.muted = true
		}
		return true // taken, neither kept nor answered
	}
	switch f.cmd {
	case "open":
		if r.plan.openRefuse {
			r.w.event("open answered 500")
			r.answer(f.txnr, "500 not now", 0)
			return true
		}
		r.answer(f.txnr, "200 OK\nrelp_version=0\nrelp_software=sim,1,none\ncommands=syslog", 0)
	case "close":
		r.answer(f.txnr, "200 OK", 0)
		r.queue([]byte("0 serverclose 0\n"), 0)
		r.closeAfter = true
	case "syslog":
		i := r.n
		r.n++
		switch {
		case r.lies[f.txnr]:
			return true // answered already, never kept
		case r.promised[f.txnr]:
			r.w.store(r.l, f.id) // answered already
			return true
		case r.plan.discardFrom >= 0 && i >= r.plan.discardFrom:
			if i == r.plan.discardFrom {
				r.w.event("taken and discarded")
			}
			return true
		case i == r.plan.refuseAt:
			r.w.event("rsp 500")
			r.answer(f.txnr, "500 error", r.delay())
		default:
			r.w.store(r.l, f.id)
			r.answer(f.txnr, "200 OK", r.delay())
		}
		if i == r.plan.violateAt {
			r.w.event("protocol violation")
			bad := pick(r.rng, "garbage\n", strconv.FormatInt(f.txnr+3, 10)+" rsp 6 200 OK\n", strconv.FormatInt(f.txnr, 10)+" rsp 6 200 OK\n")
			r.queue([]byte(bad), 0)
		}
		if i == r.plan.serverCloseAt {
			r.w.event("serverclose")
			r.queue([]byte("0 serverclose 0\n"), 0)
			r.closeAfter = true
		}
	default:
		r.w.violation("link %d: the client sent a %q frame", r.l.id, f.cmd)
		return false
	}
	return true
}

func (r *receiver) delay() time.Duration {
	if r.plan.ackDelay <= 0 {
		return 0
	}
	d := time.Duration(r.rng.Int64N(int64(r.plan.ackDelay) + 1))
	if d > r.w.sc.WriteTimeout {
		r.w.event("ack delayed past the write timeout")
	}
	return d
}

func (r *receiver) answer(txnr int64, data string, d time.Duration) {
	r.queue(fmt.Appendf(nil, "%d rsp %d %s\n", txnr, len(data), data), d)
}

// queue schedules bytes for the client d from now, after what is queued.
func (r *receiver) queue(b []byte, d time.Duration) {
	if r.halfClosed {
		return
	}
	at := time.Now().Add(d)
	if at.Before(r.lastAt) {
		at = r.lastAt
	}
	r.lastAt = at
	r.acks = append(r.acks, pendingAck{data: b, at: at})
}

// tick sends the answers due and lets the liar act. It reports whether to
// go on.
func (r *receiver) tick() bool {
	if r.plan.lie && !r.lied {
		r.lie()
	}
	now := time.Now()
	var out []byte
	for len(r.acks) > 0 && !r.acks[0].at.After(now) {
		out = append(out, r.acks[0].data...)
		r.acks = r.acks[1:]
	}
	if !r.send(out) {
		return false
	}
	return !(r.closeAfter && len(r.acks) == 0)
}

// send writes b, in small pieces when the plan says so.
func (r *receiver) send(b []byte) bool {
	for len(b) > 0 {
		n := len(b)
		if r.plan.splitAcks {
			n = min(n, 1+r.rng.IntN(40))
			if n < len(b) {
				r.w.event("answers split across reads")
			}
		}
		if _, err := r.nc.Write(b[:n]); err != nil {
			return false
		}
		b = b[n:]
	}
	return true
}

// lie acknowledges, while the client's socket write is blocked before its
// bytes were taken and everything taken before was read here, every frame
// of that write (promised: they are plausibly on their way) and the frame
// its end cuts in two (impossible: its tail is still in the client's
// buffer), and never keeps the latter.
func (r *receiver) lie() {
	l := r.l
	l.mu.Lock()
	ready := l.writing && l.writeFrom.After(time.Now().Add(2*l.down.latency)) && r.off == l.up.accepted && l.tap != nil
	var promised []int64
	var cut int64
	var ids []int
	if ready {
		cut = l.tap.pendingTxnr()
		for _, f := range l.tap.frames {
			if f.cmd == "syslog" && f.end > l.up.accepted && f.end <= l.writeEnd {
				promised = append(promised, f.txnr)
				ids = append(ids, f.id)
			}
		}
	}
	l.mu.Unlock()
	if !ready || cut == 0 {
		return
	}
	r.lied = true
	for i := range r.acks {
		r.acks[i].at = time.Time{} // everything received: answered now
	}
	r.lastAt = time.Time{}
	r.plan.splitAcks = false // the client reads the lie in one piece, while its write is blocked
	r.promised, r.lies = map[int64]bool{}, map[int64]bool{cut: true}
	for i, t := range promised {
		r.promised[t] = true
		r.w.promise(l, ids[i])
		r.answer(t, "200 OK", 0)
	}
	r.answer(cut, "200 OK", 0)
	r.w.event("acknowledged a TXNR never received")
	r.w.note("link %d: the liar acknowledged TXNR %d (never kept) and promised %d frames", l.id, cut, len(promised))
}
