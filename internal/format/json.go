package format

import (
	"strings"
	"unicode/utf8"
)

// The JSON body: one object per log, keys in the seed's order. Member
// names are unique: the log's keys are, and when replacing invalid UTF-8
// makes two equal, the later is numbered (k\uFFFD, k\uFFFD2).

// jsonEscaper writes the inside of a JSON string (RFC 8259): quote,
// backslash and every control character escaped (C0 as RFC 8259 requires,
// DEL and C1 too, so that the text is also valid RFC 3164 content),
// invalid UTF-8 replaced by U+FFFD.
var jsonEscaper = newEscaper(escapeRules{
	esc: map[byte]string{'"': `\"`, '\\': `\\`},
	ctl: func(c rune) string {
		switch c {
		case '\n':
			return `\n`
		case '\r':
			return `\r`
		case '\t':
			return `\t`
		case '\b':
			return `\b`
		case '\f':
			return `\f`
		}
		const hex = "0123456789abcdef"
		return `\u00` + string([]byte{hex[c>>4&15], hex[c&15]})
	},
})

var jsonFast = newFastCheck(0x20, []byte{'\\', 0x7f}, '"', true)

// appendJSON appends {"key":"value",...}. marks records each member: entry
// is where it starts (its comma included), value where its value's text
// starts (after the opening quote). names is scratch space.
func appendJSON(dst []byte, fields []Field, marks []mark, names *uniqueNames) ([]byte, []mark) {
	// Optimistic: write the object unescaped and check it once.
	start, m0 := len(dst), len(marks)
	dst = append(dst, '{')
	for i := range fields {
		m := mark{entry: len(dst)}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, fields[i].Key...)
		dst = append(dst, '"', ':', '"')
		m.value = len(dst)
		dst = append(dst, fields[i].Value...)
		dst = append(dst, '"')
		marks = append(marks, m)
	}
	dst = append(dst, '}')
	if jsonFast.clean(dst[start:], 4*len(fields)) {
		return dst, marks
	}
	dst, marks = dst[:start], marks[:m0]
	repair := false
	for i := range fields {
		if !utf8.ValidString(fields[i].Key) {
			repair = true
			break
		}
	}
	dst = append(dst, '{')
	for i := range fields {
		m := mark{entry: len(dst)}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		if repair {
			dst = jsonEscaper.appendEscaped(dst, names.unique(repairUTF8(fields[i].Key), 0))
		} else {
			dst = jsonEscaper.appendEscaped(dst, fields[i].Key)
		}
		dst = append(dst, `":"`...)
		m.value = len(dst)
		dst = jsonEscaper.appendEscaped(dst, fields[i].Value)
		dst = append(dst, '"')
		marks = append(marks, m)
	}
	if repair {
		names.reset()
	}
	return append(dst, '}'), marks
}

// repairUTF8 replaces each byte of s that is not part of valid UTF-8 by
// U+FFFD, as the escapers do.
func repairUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// fitJSON cuts a JSON body that ends past limit so that it ends at or
// before limit and is still one valid object: the member that crosses the
// limit is shortened (its value cut between characters, keeping one at
// least) or left out, and later members are left out.
func fitJSON(dst []byte, bodyStart, limit int, marks []mark) []byte {
	for i := len(marks) - 1; i >= 0; i-- {
		m := marks[i]
		if m.entry+1 > limit {
			continue // starts past the limit
		}
		// The crossing member: never whole (the body is past the limit).
		if cut := safeCut(dst, m.value, limit-2, jsonUnit); cut > m.value {
			return append(dst[:cut], `"}`...)
		}
		return append(dst[:m.entry], '}') // not one character fits: an empty value would read as one
	}
	return append(dst[:bodyStart], "{}"...)
}

// jsonUnit is the length of the escape sequence or character at b[i].
func jsonUnit(b []byte, i int) int {
	if b[i] == '\\' {
		if i+1 < len(b) && b[i+1] == 'u' {
			return 6
		}
		return 2
	}
	return utf8Len(b[i])
}
