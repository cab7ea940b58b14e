package format

import (
	"unicode/utf8"
)

// AppendKV appends the reference function's body: "||key=value" for each
// field, in order. Invalid UTF-8 is replaced by U+FFFD. With escapeBreaks
// (LF framing, where a raw line break would end the message), CR, LF and
// NUL are written as the two characters \r, \n and \0.
func AppendKV(dst []byte, fields []Field, escapeBreaks bool) []byte {
	for _, f := range fields {
		dst = append(dst, "||"...)
		dst = appendText(dst, f.Key, escapeBreaks)
		dst = append(dst, '=')
		dst = appendText(dst, f.Value, escapeBreaks)
	}
	return dst
}

// appendText appends s, valid UTF-8 and, with escapeBreaks, on one line.
func appendText(dst []byte, s string, escapeBreaks bool) []byte {
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || (escapeBreaks && (c == '\n' || c == '\r' || c == 0)) {
			clean = false
			break
		}
	}
	if clean {
		return append(dst, s...)
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if escapeBreaks {
				switch c {
				case '\n':
					dst = append(dst, `\n`...)
					i++
					continue
				case '\r':
					dst = append(dst, `\r`...)
					i++
					continue
				case 0:
					dst = append(dst, `\0`...)
					i++
					continue
				}
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}
