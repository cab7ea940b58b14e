package format

import (
	"math/bits"
	"unicode/utf8"
	"unsafe"
)

// A fastCheck tells whether text written without escaping needed none,
// for bodies whose separators are themselves bytes that values must
// escape (the quotes of JSON, the '=' of CEF, the LEEF delimiter): the
// text needs no escaping when it holds no byte below lt, none of extra,
// exactly the expected number of count bytes (the separators) and valid
// UTF-8. Writing optimistically and checking once is much cheaper than
// escaping field by field.
type fastCheck struct {
	ok    bool // false: always escape field by field
	lt    byte
	extra []byte // at most 3
	count byte
	c1    bool // C1 control characters need escaping too
}

const low7 = 0x7f7f7f7f7f7f7f7f

// clean reports whether b passes the check with want count bytes.
func (f *fastCheck) clean(b []byte, want int) bool {
	if !f.ok {
		return false
	}
	var m, high uint64
	n := 0
	i := 0
	if len(b) >= 8 {
		p := unsafe.SliceData(b)
		k := lsb * uint64(f.lt)
		c := lsb * uint64(f.count)
		// Missing extras look for NUL, which lt or extra covers already.
		var x0, x1, x2 uint64
		switch len(f.extra) {
		case 3:
			x2 = lsb * uint64(f.extra[2])
			fallthrough
		case 2:
			x1 = lsb * uint64(f.extra[1])
			fallthrough
		case 1:
			x0 = lsb * uint64(f.extra[0])
		}
		count := func(w uint64) int {
			y := w ^ c
			return bits.OnesCount64(^(((y & low7) + low7) | y | low7))
		}
		switch len(f.extra) {
		case 0, 1:
			for ; i+8 <= len(b); i += 8 {
				w := load64(p, i)
				high |= w
				m |= (w-k)&^w | hasZero(w^x0)
				n += count(w)
			}
		default:
			for ; i+8 <= len(b); i += 8 {
				w := load64(p, i)
				high |= w
				m |= (w-k)&^w | hasZero(w^x0) | hasZero(w^x1) | hasZero(w^x2)
				n += count(w)
			}
		}
		if m&msb != 0 {
			return false
		}
	}
	for ; i < len(b); i++ {
		c := b[i]
		high |= uint64(c) << 56
		switch {
		case c == f.count:
			n++
		case c < f.lt:
			return false
		default:
			for _, x := range f.extra {
				if c == x {
					return false
				}
			}
		}
	}
	return n == want && (high&msb == 0 || utf8.Valid(b) && !(f.c1 && hasC1(b)))
}

func hasZero(x uint64) uint64 { return (x - lsb) & ^x & msb }

// newFastCheck returns the check for text escaped by rules with count
// separators. It is disabled (ok false) when the separator is itself a
// byte the check must reject.
func newFastCheck(lt byte, extra []byte, count byte, c1 bool) fastCheck {
	f := fastCheck{ok: true, lt: lt, extra: extra, count: count, c1: c1}
	nul := lt > 0
	for _, x := range extra {
		nul = nul || x == 0
		f.ok = f.ok && x != count
	}
	f.ok = f.ok && nul && count >= lt && len(extra) <= 3
	return f
}
