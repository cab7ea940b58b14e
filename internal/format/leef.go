package format

import (
	"fmt"
	"strconv"
	"strings"
)

// The LEEF body (IBM QRadar Log Event Extended Format):
//
//	LEEF:1.0|Vendor|Product|Version|EventID|devTime=…<TAB>devTimeFormat=…<TAB>sev=N<TAB>key=value…
//	LEEF:2.0|Vendor|Product|Version|EventID|^|devTime=…^devTimeFormat=…^…
//
// LEEF defines no escaping. Attribute keys are made alphanumeric (see
// attrKeys); in values the delimiter is written \t (tab) or \xHH, CR, LF
// and NUL as \r, \n, \0. Header fields hold no '|' (written '_') and no
// control characters (written as spaces).

// LEEFDevTimeFormat is the devTimeFormat (a Java date pattern) of devTime.
const LEEFDevTimeFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSZ"

// leefSeverity maps a syslog severity to LEEF's sev scale, 1–10.
var leefSeverity = [8]string{"10", "9", "8", "7", "5", "4", "3", "1"}

var leefHeaderEscaper = newEscaper(escapeRules{
	esc: map[byte]string{'|': "_"},
	ctl: func(rune) string { return " " },
})

func newLEEFValueEscaper(delim byte, strict bool) *escaper {
	esc := map[byte]string{'\n': `\n`, '\r': `\r`}
	if delim == '\t' {
		esc[delim] = `\t`
	} else {
		esc[delim] = hexEscape(delim)
	}
	return newEscaper(escapeRules{strict: strict, esc: esc})
}

// leefHeader returns the fixed start of every LEEF body:
// "LEEF:V|Vendor|Product|Version|".
func leefHeader(vendor, product, version string, v2 bool) string {
	b := []byte("LEEF:1.0|")
	if v2 {
		b = []byte("LEEF:2.0|")
	}
	for _, f := range []string{vendor, product, version} {
		b = leefHeaderEscaper.appendEscaped(b, f)
		b = append(b, '|')
	}
	return string(b)
}

// leefDelimiterField is the delimiter field of a LEEF 2.0 header: the
// character itself when printable, else (a tab, the only other delimiter
// ParseLEEFDelimiter accepts) its hex form 0x09, as IBM's table shows
// hex delimiters (0x5E).
func leefDelimiterField(delim byte) string {
	if delim > ' ' && delim < 0x7f {
		return string(delim)
	}
	const hex = "0123456789ABCDEF"
	return string([]byte{'0', 'x', hex[delim>>4], hex[delim&15]})
}

// maxLEEFEventID bounds an EventID taken from a field.
const maxLEEFEventID = 255

// appendLEEFHeader appends the LEEF header of one log and its first
// attributes, through sev=N.
func (e *Encoder) appendLEEFHeader(dst []byte, sev int, sec, nsec int64, level int) []byte {
	o := &e.opts
	d := e.delim
	maxID := maxLEEFEventID
	if level > 0 {
		maxID = shortHeader[level]
	}
	dst = append(dst, e.leefStart...)
	dst = leefHeaderEscaper.appendEscaped(dst, prefixText(e.mapped(o.EventIDKeys, o.EventID), maxID))
	dst = append(dst, '|')
	if e.leef2 {
		dst = append(dst, leefDelimiterField(d)...)
		dst = append(dst, '|')
	}
	dst = append(dst, "devTime="...)
	dst = e.clock.appendJava(dst, sec, nsec)
	dst = append(dst, d)
	dst = append(dst, "devTimeFormat="+LEEFDevTimeFormat...)
	dst = append(dst, d)
	dst = append(dst, "sev="...)
	return append(dst, leefSeverity[sev]...)
}

// ParseLEEFDelimiter reads a LEEF 2.0 delimiter: one character, or its
// code in hex as 0x5E or x5E. It is a tab or a printable ASCII character
// other than a letter, a digit, '=', '|' and '\': a space or another
// control character would break the RFC 3164 content rule, or what a
// reader sees.
func ParseLEEFDelimiter(v string) (byte, error) {
	c := -1
	switch {
	case len(v) == 1:
		c = int(v[0])
	case len(v) >= 2 && (v[0] == 'x' || v[0] == 'X' || strings.HasPrefix(strings.ToLower(v), "0x")):
		h := v[1:]
		if v[0] == '0' {
			h = v[2:]
		}
		if n, err := strconv.ParseUint(h, 16, 16); err == nil && len(h) <= 4 {
			c = int(n)
		}
	}
	switch {
	case c < 0:
		return 0, fmt.Errorf("want one character or its hex code such as ^, 0x5E or x5E")
	case c > 0x7e:
		return 0, fmt.Errorf("want an ASCII character (code below 0x7F)")
	case c < 0x20 && c != '\t':
		return 0, fmt.Errorf("a control character other than tab (0x09) cannot delimit LEEF attributes")
	case isAlnum(byte(c)) || strings.IndexByte("=|\\ ", byte(c)) >= 0:
		return 0, fmt.Errorf("letters, digits, '=', '|', '\\' and space cannot delimit LEEF attributes")
	}
	return byte(c), nil
}
