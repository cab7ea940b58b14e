package format

import (
	"strconv"
	"unicode/utf8"
)

// The CEF body (ArcSight Common Event Format, revision 0):
//
//	CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|rt=MS key=value …
//
// Header fields escape '\' and '|'; extension values escape '\', '=', CR
// and LF, and write NUL as \0; extension keys are alphanumeric (see
// attrKeys).

// cefSeverity maps a syslog severity (0–7) to CEF's 0–10 scale
// (emerg 10 … debug 1).
var cefSeverity = [8]string{"10", "9", "8", "7", "5", "4", "3", "1"}

var cefHeaderEscaper = newEscaper(escapeRules{
	esc: map[byte]string{'\\': `\\`, '|': `\|`},
	ctl: func(rune) string { return " " },
})

func newCEFValueEscaper(strict bool) *escaper {
	return newEscaper(escapeRules{
		strict: strict,
		esc:    map[byte]string{'\\': `\\`, '=': `\=`, '\n': `\n`, '\r': `\r`},
	})
}

// Longest Signature ID and Name taken from a field (the CEF
// specification's limits), and when a message must be cut.
const (
	maxCEFSignatureID = 1023
	maxCEFName        = 512
)

// shortHeader is the length of the CEF Signature ID and Name and the LEEF
// EventID at each shortening level (see Encoder.Append).
var shortHeader = [3]int{0, 32, 8}

// appendCEFHeader appends the CEF header of one log, through rt=MS (the
// header's mapped fields are looked up in the whole log).
func (e *Encoder) appendCEFHeader(dst []byte, sev int, sec, nsec int64, level int) []byte {
	o := &e.opts
	maxID, maxName := maxCEFSignatureID, maxCEFName
	if level > 0 {
		maxID, maxName = shortHeader[level], shortHeader[level]
	}
	dst = append(dst, "CEF:0|"...)
	dst = append(dst, e.cefVendor...) // escaped once, in NewEncoder
	dst = append(dst, '|')
	dst = cefHeaderEscaper.appendEscaped(dst, prefixText(e.mapped(o.EventIDKeys, o.EventID), maxID))
	dst = append(dst, '|')
	dst = cefHeaderEscaper.appendEscaped(dst, prefixText(e.mapped(o.EventNameKeys, o.EventName), maxName))
	dst = append(dst, '|')
	dst = append(dst, cefSeverity[sev]...)
	dst = append(dst, "|rt="...)
	return strconv.AppendInt(dst, sec*1000+nsec/1e6, 10)
}

// appendPairs appends the CEF extension or the LEEF attributes: sep key=value
// for each field, keys made valid and unique, values escaped.
func (e *Encoder) appendPairs(dst []byte, fields []Field, sep byte) []byte {
	// Optimistic: write the values unescaped and check them once.
	start, m0 := len(dst), len(e.marks)
	e.keys.start()
	for i := range fields {
		m := mark{entry: len(dst)}
		dst = append(dst, sep)
		dst = append(dst, e.keys.key(fields[i].Key)...)
		dst = append(dst, '=')
		m.value = len(dst)
		dst = append(dst, fields[i].Value...)
		e.marks = append(e.marks, m)
	}
	if e.pairsFast.clean(dst[start:], len(fields)) {
		return dst
	}
	dst, e.marks = dst[:start], e.marks[:m0]
	e.keys.start()
	for i := range fields {
		m := mark{entry: len(dst)}
		dst = append(dst, sep)
		dst = append(dst, e.keys.key(fields[i].Key)...)
		dst = append(dst, '=')
		m.value = len(dst)
		dst = e.valueEsc.appendEscaped(dst, fields[i].Value)
		e.marks = append(e.marks, m)
	}
	return dst
}

// fitPairs cuts a CEF or LEEF body that ends past limit to whole pairs:
// in order, each pair is kept when it still fits and left out when it does
// not. The pairs start at fixedEnd.
func fitPairs(dst []byte, fixedEnd, limit int, marks []mark) []byte {
	w := fixedEnd
	for i, m := range marks {
		end := len(dst)
		if i+1 < len(marks) {
			end = marks[i+1].entry
		}
		if w+end-m.entry <= limit {
			w += copy(dst[w:], dst[m.entry:end])
		}
	}
	return dst[:w]
}

// prefixText returns the longest prefix of s, cut between characters,
// whose text as a CEF or LEEF header writes it before escaping is at most
// n bytes: each byte that is not part of valid UTF-8 counts as U+FFFD (3
// bytes), each control character (C0, DEL, C1) as the space it becomes.
// So the limit holds for the value a CEF or LEEF reader decodes.
func prefixText(s string, n int) string {
	if len(s) <= n && utf8.ValidString(s) {
		return s // controls only shrink
	}
	w := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		out := size
		switch {
		case r == utf8.RuneError && size == 1:
			out = 3
		case r >= 0x80 && r < 0xA0:
			out = 1
		}
		if w+out > n {
			return s[:i]
		}
		w += out
		i += size
	}
	return s
}
