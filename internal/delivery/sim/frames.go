package sim

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// frame is one frame of a stream: a RELP command, or an octet-counted
// syslog message (cmd "msg").
type frame struct {
	txnr       int64 // RELP TXNR; 0 for octet counting
	cmd        string
	data       []byte // valid until the parser is fed again
	id         int    // the message's simid, -1 when it has none
	start, end int64  // where the frame lies in the stream
}

// parser cuts a byte stream into frames, incrementally.
type parser struct {
	relp bool
	buf  []byte
	off  int64 // stream offset of buf[0]
}

var errMalformed = errors.New("malformed frame")

func (p *parser) feed(b []byte) { p.buf = append(p.buf, b...) }

// next returns the next complete frame, ok false when more bytes are
// needed.
func (p *parser) next() (f frame, ok bool, err error) {
	b := p.buf
	i := 0
	num := func() (int64, bool, error) {
		j := i
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j == len(b) {
			return 0, false, nil
		}
		if j == i || j-i > 10 {
			return 0, false, fmt.Errorf("%w: %q", errMalformed, b[i:min(j+1, len(b))])
		}
		v, _ := strconv.ParseInt(string(b[i:j]), 10, 64)
		i = j
		return v, true, nil
	}
	if p.relp {
		txnr, ok, err := num()
		if !ok || err != nil {
			return f, false, err
		}
		if b[i] != ' ' {
			return f, false, fmt.Errorf("%w after TXNR", errMalformed)
		}
		i++
		k := bytes.IndexByte(b[i:], ' ')
		if k < 0 {
			if len(b)-i > 32 {
				return f, false, fmt.Errorf("%w: command", errMalformed)
			}
			return f, false, nil
		}
		f.txnr, f.cmd = txnr, string(b[i:i+k])
		i += k + 1
	} else {
		f.cmd = "msg"
	}
	n, ok, err := num()
	if !ok || err != nil {
		return f, false, err
	}
	switch {
	case p.relp && n == 0 && b[i] == '\n':
		i++
	case b[i] == ' ':
		i++
		if len(b)-i < int(n)+btoi(p.relp) {
			return f, false, nil
		}
		f.data = b[i : i+int(n)]
		i += int(n)
		if p.relp {
			if b[i] != '\n' {
				return f, false, fmt.Errorf("%w: no LF after DATA", errMalformed)
			}
			i++
		}
	default:
		return f, false, fmt.Errorf("%w after DATALEN", errMalformed)
	}
	f.id = simID(f.data)
	f.start, f.end = p.off, p.off+int64(i)
	p.buf = p.buf[i:]
	p.off += int64(i)
	if len(p.buf) == 0 {
		p.buf = nil
	}
	return f, true, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// simID extracts the message's identity, "simid=N", from its body.
func simID(b []byte) int {
	k := bytes.Index(b, []byte("simid="))
	if k < 0 {
		return -1
	}
	b = b[k+len("simid="):]
	j := 0
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	v, err := strconv.Atoi(string(b[:j]))
	if err != nil {
		return -1
	}
	return v
}

// tapped is a frame the client handed to its socket, and for which
// attempt.
type tapped struct {
	txnr     int64
	cmd      string
	id       int
	end      int64
	attempt  int
	complete bool // the tap has seen its last byte
}

// tap records the frames of what the client hands to its socket. Which of
// them reached it is told by comparing end with the link's accepted bytes.
type tap struct {
	p       parser
	frames  []tapped
	attempt func() int
	broken  bool // not parseable: stop
}

func (t *tap) feed(off int64, b []byte) {
	if t.broken {
		return
	}
	if off != t.p.off+int64(len(t.p.buf)) {
		t.broken = true // a write after a failed one: never happens with bufio
		return
	}
	t.p.feed(b)
	for {
		f, ok, err := t.p.next()
		if err != nil {
			t.broken = true
			return
		}
		if !ok {
			return
		}
		t.frames = append(t.frames, tapped{txnr: f.txnr, cmd: f.cmd, id: f.id, end: f.end, attempt: t.attempt(), complete: true})
	}
}

// pendingTxnr is the TXNR of the frame cut by the end of what was handed
// (its head was handed, its tail not), or 0.
func (t *tap) pendingTxnr() int64 {
	if t.broken || len(t.p.buf) == 0 {
		return 0
	}
	i := bytes.IndexByte(t.p.buf, ' ')
	if i <= 0 {
		return 0
	}
	v, err := strconv.ParseInt(string(t.p.buf[:i]), 10, 64)
	if err != nil {
		return 0
	}
	return v
}
