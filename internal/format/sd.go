package format

import "strconv"

// RFC 5424 structured data: [SD-ID PARAM-NAME="PARAM-VALUE" …].

// sdEscaper writes PARAM-VALUEs: '"', '\' and ']' escaped with a
// backslash (RFC 5424 §6.3.3), invalid UTF-8 replaced. NUL, and with
// breaks CR and LF, become the text \0, \r, \n (whose backslash is
// escaped in turn, since strict parsers accept no other escape).
func sdEscaper(breaks bool) *escaper {
	esc := map[byte]string{'"': `\"`, '\\': `\\`, ']': `\]`, 0: `\\0`}
	if breaks {
		esc['\n'], esc['\r'] = `\\n`, `\\r`
	}
	return newEscaper(escapeRules{esc: esc})
}

// appendSD appends the STRUCTURED-DATA field: the origin element, the
// element of SDKeys, or "-". With limit >= 0 the SDKeys element ends at or
// before limit: a value that crosses it is cut (between characters and
// escape sequences, keeping one at least, else the parameter is left
// out) and later ones are left out; an element left without parameters
// is left out.
func (e *Encoder) appendSD(dst []byte, grp *Group, index int, limit int) []byte {
	n := len(dst)
	if e.opts.Origin {
		dst = append(dst, grp.origin...)
		dst = strconv.AppendInt(dst, int64(index), 10)
		dst = append(dst, `"]`...)
	}
	if len(e.sdNames) > 0 {
		elem := len(dst)
		dst = append(dst, '[')
		dst = append(dst, e.sdID...)
		params := 0
		for i, k := range e.sdKeys {
			v, ok := e.find(k)
			if !ok {
				continue
			}
			p := len(dst)
			dst = append(dst, ' ')
			dst = append(dst, e.sdNames[i]...)
			dst = append(dst, '=', '"')
			if limit < 0 {
				dst = e.sdEsc.appendEscaped(dst, v)
				dst = append(dst, '"')
				params++
				continue
			}
			// `"]` must still fit after the value.
			if len(dst)+2 > limit {
				dst = dst[:p]
				break
			}
			vStart := len(dst)
			var full bool
			dst, full = e.sdEsc.appendEscapedMax(dst, v, limit-2)
			if len(dst) == vStart && v != "" {
				dst = dst[:p] // not one character fits: an empty value would read as one
				break
			}
			dst = append(dst, '"')
			params++
			if !full {
				break
			}
		}
		if params > 0 {
			dst = append(dst, ']')
		} else {
			dst = dst[:elem]
		}
	}
	if len(dst) == n {
		dst = append(dst, '-')
	}
	return dst
}

// find returns the value of key in fs.
func find(fs []Field, key string) (string, bool) {
	for i := range fs {
		if fs[i].Key == key {
			return fs[i].Value, true
		}
	}
	return "", false
}
