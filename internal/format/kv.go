package format

// The seed's body: "||key=value" for each field, in order.

var (
	kvRaw    = newEscaper(escapeRules{}) // byte for byte, but NUL
	kvBreaks = newEscaper(escapeRules{breaks: true})
)

// AppendKV appends the reference function's body: "||key=value" for each
// field, in order. Invalid UTF-8 is replaced by U+FFFD and NUL is written
// as the two characters \0 (raw, it changes how rsyslog parses the rest of
// the message). With escapeBreaks (LF framing, where a raw line break
// would end the message), CR and LF are written as \r and \n.
func AppendKV(dst []byte, fields []Field, escapeBreaks bool) []byte {
	esc := kvRaw
	if escapeBreaks {
		esc = kvBreaks
	}
	return appendKV(dst, fields, esc)
}

func appendKV(dst []byte, fields []Field, esc *escaper) []byte {
	// Optimistic: write everything as it is, then check the whole body
	// at once; escape field by field only when that finds something.
	start := len(dst)
	for i := range fields {
		dst = append(dst, '|', '|')
		dst = append(dst, fields[i].Key...)
		dst = append(dst, '=')
		dst = append(dst, fields[i].Value...)
	}
	b := dst[start:]
	if esc.verify(b) {
		return dst
	}
	dst = dst[:start]
	for i := range fields {
		dst = append(dst, "||"...)
		dst = esc.appendEscaped(dst, fields[i].Key)
		dst = append(dst, '=')
		dst = esc.appendEscaped(dst, fields[i].Value)
	}
	return dst
}

// appendKVMax appends the kv body of fields, stopping before the first
// character or escape sequence that would make dst longer than limit.
func appendKVMax(dst []byte, fields []Field, esc *escaper, limit int) []byte {
	full := true
	for i := range fields {
		if limit-len(dst) < 2 {
			return dst
		}
		dst = append(dst, "||"...)
		if dst, full = esc.appendEscapedMax(dst, fields[i].Key, limit); !full || len(dst) >= limit {
			return dst
		}
		dst = append(dst, '=')
		if dst, full = esc.appendEscapedMax(dst, fields[i].Value, limit); !full {
			return dst
		}
	}
	return dst
}
