package format

import (
	"strconv"
	"unicode/utf8"
)

// A charset says which bytes a header field may hold as they are; every
// other character is written as '_'.
type charset [256]bool

func newCharset(lo, hi byte, except string) *charset {
	var cs charset
	for c := int(lo); c <= int(hi); c++ {
		cs[c] = true
	}
	for i := 0; i < len(except); i++ {
		cs[except[i]] = false
	}
	return &cs
}

var (
	// RFC 5424 header fields: PRINTUSASCII.
	printUSASCII = newCharset(33, 126, "")
	// SD-NAME: PRINTUSASCII except '=', SP, ']' and '"'.
	sdNameChars = newCharset(33, 126, `=]"`)
	// RFC 3164 HOSTNAME: visible characters; ':' would end it early.
	bsdHostChars = newCharset(33, 126, ":")
	// RFC 3164 TAG: alphanumeric, plus the usual - _ . /.
	bsdTagChars = func() *charset {
		cs := newCharset('0', '9', "")
		for c := 'a'; c <= 'z'; c++ {
			cs[c], cs[c-'a'+'A'] = true, true
		}
		cs['-'], cs['_'], cs['.'], cs['/'] = true, true, true, true
		return cs
	}()
	// RFC 3164 PID: visible characters except the brackets around it.
	bsdPIDChars = newCharset(33, 126, "[]")
)

// Lengths of the RFC 5424 header fields (RFC 5424 §6) and of the RFC 3164
// TAG.
const (
	maxHostname = 255
	maxAppName  = 48
	maxProcID   = 128
	maxMsgID    = 32
	maxSDName   = 32
	maxTag      = 32
)

// appendField appends v with every character outside cs replaced by '_',
// cut to max bytes; an empty v is written as the nil value "-".
func (cs *charset) appendField(dst []byte, v string, max int) []byte {
	if v == "" {
		return append(dst, '-')
	}
	if len(v) <= max {
		i := 0
		for i < len(v) && cs[v[i]] {
			i++
		}
		if i == len(v) {
			return append(dst, v...)
		}
	}
	n := 0
	for i := 0; i < len(v) && n < max; n++ {
		c := v[i]
		if cs[c] {
			dst = append(dst, c)
			i++
			continue
		}
		size := 1
		if c >= utf8.RuneSelf {
			_, size = utf8.DecodeRuneInString(v[i:])
		}
		i += size
		dst = append(dst, '_')
	}
	return dst
}

// sanitize returns v as appendField writes it.
func (cs *charset) sanitize(v string, max int) string {
	return string(cs.appendField(nil, v, max))
}

// SanitizeHeader makes v a valid RFC 5424 header field of at most max
// characters: printable US-ASCII, other characters replaced by '_', "-"
// when empty.
func SanitizeHeader(v string, max int) string { return printUSASCII.sanitize(v, max) }

// ValidSDName reports whether s is a valid RFC 5424 SD-ID or PARAM-NAME:
// 1 to 32 printable US-ASCII characters other than '=', ']', '"' and space.
func ValidSDName(s string) bool {
	if len(s) == 0 || len(s) > maxSDName {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !sdNameChars[s[i]] {
			return false
		}
	}
	return true
}

// SanitizeSDName makes s a valid SD-ID or PARAM-NAME.
func SanitizeSDName(s string) string { return sdNameChars.sanitize(s, maxSDName) }

// priStrings holds "<PRI>" for every facility and severity.
var priStrings = func() (p [192]string) {
	for i := range p {
		p[i] = "<" + strconv.Itoa(i) + ">"
	}
	return p
}()

// appendHeader appends everything before MSG, the space before it and
// the BOM included. With sdLimit >= 0, structured data is cut so that the
// header ends at or before sdLimit.
func (e *Encoder) appendHeader(dst []byte, grp *Group, index, pri int, sec, nsec int64, sdLimit int) []byte {
	dst = append(dst, priStrings[pri]...)
	if e.bsd {
		dst = e.clock.appendBSD(dst, sec)
	} else {
		dst = append(dst, '1', ' ')
		dst = e.clock.appendRFC3339(dst, sec, nsec)
	}
	switch {
	case e.constHeader && sdLimit < 0 && !e.hasSD:
		return append(dst, e.tail...) // with the nil SD, the space and the BOM
	case e.constHeader && sdLimit < 0:
		dst = append(dst, e.tailFields...)
	default:
		max := fullMax
		if sdLimit >= 0 {
			max = compactMax // cutting to size: shorter fields leave room for the body
		}
		dst = e.appendFieldsMax(dst, max,
			e.mappedOr(e.opts.HostnameKeys, e.hostname),
			e.mappedOr(e.opts.AppNameKeys, e.appName),
			e.mappedOr(e.opts.ProcIDKeys, e.procID),
			e.mappedOr(e.opts.MsgIDKeys, e.msgID))
	}
	if e.bsd {
		return dst
	}
	if e.hasSD {
		if sdLimit >= 0 {
			sdLimit -= 1 + len(bom)
		}
		dst = e.appendSD(dst, grp, index, sdLimit)
		dst = append(dst, ' ')
	} else {
		dst = append(dst, "- "...)
	}
	if e.bom {
		dst = append(dst, bom...)
	}
	return dst
}

func (e *Encoder) mappedOr(keys []string, def string) string {
	if v, ok := lookup(e.fields, keys); ok {
		return v
	}
	return def
}

// Header field lengths: the RFC's, and the shorter ones used when a
// message must be cut.
var (
	fullMax    = [4]int{maxHostname, maxAppName, maxProcID, maxMsgID}
	compactMax = [4]int{64, 48, 32, 32}
)

// appendFields appends the header fields after the timestamp: RFC 5424
// " HOSTNAME APP-NAME PROCID MSGID " or RFC 3164 " HOSTNAME TAG[PID]: ".
func (e *Encoder) appendFields(dst []byte, host, app, procID, msgID string) []byte {
	return e.appendFieldsMax(dst, fullMax, host, app, procID, msgID)
}

func (e *Encoder) appendFieldsMax(dst []byte, max [4]int, host, app, procID, msgID string) []byte {
	dst = append(dst, ' ')
	if e.bsd {
		dst = bsdHostChars.appendField(dst, host, max[0])
		dst = append(dst, ' ')
		dst = bsdTagChars.appendField(dst, app, min(max[1], maxTag))
		if procID != "" && procID != "-" {
			dst = append(dst, '[')
			dst = bsdPIDChars.appendField(dst, procID, max[2])
			dst = append(dst, ']')
		}
		return append(dst, ": "...)
	}
	dst = printUSASCII.appendField(dst, host, max[0])
	dst = append(dst, ' ')
	dst = printUSASCII.appendField(dst, app, max[1])
	dst = append(dst, ' ')
	dst = printUSASCII.appendField(dst, procID, max[2])
	dst = append(dst, ' ')
	dst = printUSASCII.appendField(dst, msgID, max[3])
	return append(dst, ' ')
}
