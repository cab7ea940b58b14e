package format

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"
	"unsafe"
)

// An escaper appends text with some bytes replaced by escape sequences and
// invalid UTF-8 replaced by U+FFFD. Clean runs are found eight bytes at a
// time (SWAR), so the common case is little more than a copy.
type escaper struct {
	// class of each byte: copy it, check UTF-8, or write seq instead.
	class [256]uint8
	seq   [256]string
	// Fast scan: a word is clean unless it has a byte >= 0x80, a byte
	// below lt (when lt > 0) or one of extra. The byte loop then decides
	// with class, so these may over-approximate.
	lt    byte
	extra []byte
	// c1 holds the escapes of the C1 control characters U+0080–U+009F
	// (two bytes in UTF-8, 0xC2 0x80–0x9F), when they are escaped.
	c1 *[32]string
}

const (
	classCopy = iota
	classUTF8
	classEscape
)

// Escaping rules shared by the body writers.
//
// NUL is always written as the text \0 (unless ctl says otherwise): sent
// byte for byte, it changes how rsyslog parses the rest of the message.
type escapeRules struct {
	breaks bool // CR, LF as \r, \n (LF framing)
	strict bool // other C0 controls, DEL and C1 controls as \xHH (RFC 3164 content: printable text and tab only)
	esc    map[byte]string
	ctl    func(c rune) string // when set: the escape of every control character, C0, DEL and C1 (overrides breaks and strict)
}

func newEscaper(r escapeRules) *escaper {
	e := &escaper{}
	for c := 0x80; c < 0x100; c++ {
		e.class[c] = classUTF8
	}
	set := func(c byte, s string) {
		if e.class[c] == classEscape && c >= 0x20 {
			e.seq[c] = s
			return
		}
		e.class[c] = classEscape
		e.seq[c] = s
		if c < 0x20 {
			e.lt = max(e.lt, c+1)
		} else {
			e.extra = append(e.extra, c)
		}
	}
	if r.strict {
		for c := byte(0); c < 0x20; c++ {
			if c != '\t' && c != '\n' && c != '\r' {
				set(c, hexEscape(c))
			}
		}
		set(0x7f, hexEscape(0x7f))
		e.c1 = new([32]string)
		for i := range e.c1 {
			e.c1[i] = hexEscape(byte(0x80 + i)) // the code point: U+009B is \x9b
		}
	}
	set(0, `\0`)
	if r.breaks || r.strict {
		set('\n', `\n`)
		set('\r', `\r`)
	}
	if r.ctl != nil {
		for c := byte(0); c < 0x20; c++ {
			set(c, r.ctl(rune(c)))
		}
		set(0x7f, r.ctl(0x7f))
		e.c1 = new([32]string)
		for i := range e.c1 {
			e.c1[i] = r.ctl(rune(0x80 + i))
		}
	}
	for c, s := range r.esc {
		set(c, s)
	}
	if len(e.extra) > 3 {
		panic("format: an escaper scans for at most 3 bytes above 0x1f")
	}
	return e
}

func hexEscape(c byte) string {
	const hex = "0123456789abcdef"
	return string([]byte{'\\', 'x', hex[c>>4], hex[c&15]})
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasLess is non-zero when a byte of w is below n (n <= 128).
func hasLess(w uint64, n byte) uint64 { return (w - lsb*uint64(n)) & ^w & msb }

// hasByte is non-zero when a byte of w equals c.
func hasByte(w uint64, c byte) uint64 {
	x := w ^ (lsb * uint64(c))
	return (x - lsb) & ^x & msb
}

// cleanPrefix returns the length of the longest prefix of s that needs no
// escaping and is ASCII.
func (e *escaper) cleanPrefix(s string) int {
	i := 0
	if len(s) >= 8 {
		p := unsafe.StringData(s)
		lt := e.lt
		switch len(e.extra) {
		case 0:
			for ; i+8 <= len(s); i += 8 {
				w := load64(p, i)
				if (w&msb)|hasLess(w, lt) != 0 {
					break
				}
			}
		case 1:
			a := e.extra[0]
			for ; i+8 <= len(s); i += 8 {
				w := load64(p, i)
				if (w&msb)|hasLess(w, lt)|hasByte(w, a) != 0 {
					break
				}
			}
		case 2:
			a, b := e.extra[0], e.extra[1]
			for ; i+8 <= len(s); i += 8 {
				w := load64(p, i)
				if (w&msb)|hasLess(w, lt)|hasByte(w, a)|hasByte(w, b) != 0 {
					break
				}
			}
		default:
			a, b, c := e.extra[0], e.extra[1], e.extra[2]
			for ; i+8 <= len(s); i += 8 {
				w := load64(p, i)
				if (w&msb)|hasLess(w, lt)|hasByte(w, a)|hasByte(w, b)|hasByte(w, c) != 0 {
					break
				}
			}
		}
	}
	for i < len(s) && e.class[s[i]] == classCopy {
		i++
	}
	return i
}

func load64(p *byte, i int) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(p), i)), 8))
}

// appendEscaped appends s to dst with e's escapes, valid UTF-8.
func (e *escaper) appendEscaped(dst []byte, s string) []byte {
	for {
		n := e.cleanPrefix(s)
		dst = append(dst, s[:n]...)
		if n == len(s) {
			return dst
		}
		s = s[n:]
		c := s[0]
		switch e.class[c] {
		case classEscape:
			dst = append(dst, e.seq[c]...)
			s = s[1:]
		case classUTF8:
			// Copy the run of valid multi-byte characters at once.
			j := 0
			for j < len(s) && s[j] >= utf8.RuneSelf {
				r, size := utf8.DecodeRuneInString(s[j:])
				if r == utf8.RuneError && size == 1 || r < 0xA0 && e.c1 != nil {
					break
				}
				j += size
			}
			switch {
			case j > 0:
				dst = append(dst, s[:j]...)
			case s[0] == 0xC2 && len(s) > 1 && s[1] < 0xA0 && s[1] >= 0x80: // a C1 control, escaped
				dst = append(dst, e.c1[s[1]-0x80]...)
				j = 2
			default:
				dst = append(dst, "\uFFFD"...)
				j = 1
			}
			s = s[j:]
		default:
			dst = append(dst, c)
			s = s[1:]
		}
	}
}

// verify reports whether b, text written without escaping, needed none:
// it holds no byte e escapes and is valid UTF-8.
func (e *escaper) verify(b []byte) bool {
	high := false
	if len(b) >= 8 {
		p := unsafe.SliceData(b)
		var m uint64
		switch len(e.extra) {
		case 0:
			m = scan0(p, len(b), e.lt)
		default:
			m = scanN(p, len(b), e.lt, e.extra)
		}
		if m&^msb != 0 {
			return false
		}
		high = m&msb != 0
	} else {
		for _, c := range b {
			if e.class[c] == classEscape {
				return false
			}
			high = high || c >= utf8.RuneSelf
		}
	}
	return !high || utf8.Valid(b) && (e.c1 == nil || !hasC1(b))
}

// hasC1 reports whether valid UTF-8 b holds a C1 control character
// (U+0080–U+009F: 0xC2 then 0x80–0x9F; in valid UTF-8, 0xC2 only starts a
// character).
func hasC1(b []byte) bool {
	for {
		i := bytes.IndexByte(b, 0xC2)
		if i < 0 || i+1 >= len(b) {
			return false
		}
		if b[i+1] < 0xA0 {
			return true
		}
		b = b[i+2:]
	}
}

// scan0 ORs, over the n >= 8 bytes at p, the high bits of the bytes (in
// msb) and the bytes below lt (in the low bits).
func scan0(p *byte, n int, lt byte) uint64 {
	k := lsb * uint64(lt)
	var m, high uint64
	i := 0
	for ; i+16 <= n; i += 16 {
		w, x := load64(p, i), load64(p, i+8)
		high |= w | x
		m |= (w - k) &^ w
		m |= (x - k) &^ x
	}
	for ; i+8 <= n; i += 8 {
		w := load64(p, i)
		high |= w
		m |= (w - k) &^ w
	}
	if i < n {
		w := load64(p, n-8)
		high |= w
		m |= (w - k) &^ w
	}
	return high&msb | (m&msb)>>7
}

// scanN is scan0 that also looks for the bytes of extra.
func scanN(p *byte, n int, lt byte, extra []byte) uint64 {
	var m, high uint64
	check := func(w uint64) {
		high |= w
		m |= hasLess(w, lt)
		for _, c := range extra {
			m |= hasByte(w, c)
		}
	}
	i := 0
	for ; i+8 <= n; i += 8 {
		check(load64(p, i))
	}
	if i < n {
		check(load64(p, n-8))
	}
	return high&msb | m>>7
}

// appendEscapedMax is appendEscaped that stops before the first character
// or escape sequence that would make dst longer than limit. full reports
// whether all of s was written.
func (e *escaper) appendEscapedMax(dst []byte, s string, limit int) (_ []byte, full bool) {
	for {
		room := limit - len(dst)
		n := e.cleanPrefix(s)
		if n > room {
			return append(dst, s[:max(room, 0)]...), false // ASCII: any cut is between characters
		}
		dst = append(dst, s[:n]...)
		if n == len(s) {
			return dst, true
		}
		s = s[n:]
		room -= n
		c := s[0]
		switch e.class[c] {
		case classEscape:
			if len(e.seq[c]) > room {
				return dst, false
			}
			dst = append(dst, e.seq[c]...)
			s = s[1:]
		case classUTF8:
			r, size := utf8.DecodeRuneInString(s)
			out := s[:size]
			switch {
			case r == utf8.RuneError && size == 1:
				out = "\uFFFD"
			case r < 0xA0 && e.c1 != nil:
				out = e.c1[r-0x80]
			}
			if len(out) > room {
				return dst, false
			}
			dst = append(dst, out...)
			s = s[size:]
		default:
			if room < 1 {
				return dst, false
			}
			dst = append(dst, c)
			s = s[1:]
		}
	}
}
