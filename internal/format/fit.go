package format

import "unicode/utf8"

// mark locates one field in an encoded body, for cutting it to size.
type mark struct {
	entry int // where the field's text starts, separator included
	value int // where its value starts
}

// safeCut returns the largest boundary between units (escape sequences or
// characters, as unit measures them) of b[from:] that is at most limit.
func safeCut(b []byte, from, limit int, unit func(b []byte, i int) int) int {
	i := from
	for i < len(b) {
		n := unit(b, i)
		if i+n > limit {
			break
		}
		i += n
	}
	return min(i, limit)
}

// utf8Len is the length of the UTF-8 sequence that starts with c (1 for a
// byte that cannot start one).
func utf8Len(c byte) int {
	switch {
	case c < 0xC0:
		return 1
	case c < 0xE0:
		return 2
	case c < 0xF0:
		return 3
	default:
		return 4
	}
}

// cutUTF8 shortens b to at most n bytes without splitting a UTF-8 sequence.
func cutUTF8(b []byte, n int) []byte {
	if n >= len(b) {
		return b
	}
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return b[:n]
}

// escUnit measures the escapes this package writes in SD values, CEF and
// LEEF (\xHH, or a backslash and one ASCII character) and UTF-8
// characters.
func escUnit(b []byte, i int) int {
	if b[i] != '\\' {
		return utf8Len(b[i])
	}
	switch {
	case i+3 < len(b) && b[i+1] == 'x' && isHex(b[i+2]) && isHex(b[i+3]):
		return 4
	case i+1 < len(b) && b[i+1] < utf8.RuneSelf:
		return 2
	}
	return 1
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }
