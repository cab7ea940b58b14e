package format

import (
	"bytes"
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

// alnumCharset returns the letters and digits plus extra.
func alnumCharset(extra string) *charset {
	cs := newCharset('0', '9', "")
	for c := 'a'; c <= 'z'; c++ {
		cs[c], cs[c-'a'+'A'] = true, true
	}
	for i := 0; i < len(extra); i++ {
		cs[extra[i]] = true
	}
	return cs
}

var (
	// RFC 5424 header fields: PRINTUSASCII.
	printUSASCII = newCharset(33, 126, "")
	// SD-NAME: PRINTUSASCII except '=', SP, ']' and '"'.
	sdNameChars = newCharset(33, 126, `=]"`)
	// PARAM-NAME as written: an SD-NAME without '.', since syslog-ng keeps
	// structured data as .SDATA.SD-ID.PARAM-NAME and splits that at the
	// last dot when it writes it out again ($SDATA).
	sdParamChars = newCharset(33, 126, `=]".`)
	// HOSTNAME: the characters of host names and IP literals. rsyslog's
	// RFC 3164 parser takes nothing else (and go-syslog's no ':').
	hostChars5424 = alnumCharset(".-_:")
	hostChars3164 = alnumCharset(".-_")
	// APP-NAME, RFC 3164 TAG: a token neither receiver splits. rsyslog's
	// programname stops at '/', ':' and '['; syslog-ng's RFC 3164 PROGRAM
	// at ':' and '['; ']' and '"' end the fields around them.
	tokenChars = newCharset(33, 126, `"/:[]`)
	// PROCID, RFC 3164 PID: the same, '/' allowed.
	pidChars = newCharset(33, 126, `":[]`)
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

// A fieldRule makes values valid for one header field of one syntax, for
// the RFC and for what rsyslog and syslog-ng parse.
type fieldRule struct {
	cs        *charset
	ipv6Colon bool   // ':' only in IP literals: kept when everything before the last ':' is hex digits and ':'
	alnumEnd  bool   // trailing characters other than letters and digits removed
	nilValue  string // written when neither value nor constant is usable ("" : the field is left out)
}

var (
	hostRule5424 = &fieldRule{cs: hostChars5424, ipv6Colon: true, nilValue: "-"}
	hostRule3164 = &fieldRule{cs: hostChars3164, alnumEnd: true, nilValue: "localhost"}
	appRule      = &fieldRule{cs: tokenChars, nilValue: "-"}
	procIDRule   = &fieldRule{cs: pidChars, nilValue: "-"}
	pidRule3164  = &fieldRule{cs: pidChars}
	msgIDRule    = &fieldRule{cs: printUSASCII, nilValue: "-"}
)

// appendValue appends v with every character outside the rule's charset
// replaced by '_', cut to max characters, then the rule's IPv6 and
// last-character rules applied. ok is false, and nothing appended, when
// that leaves nothing usable: an empty value or "-" (the nil value).
func (r *fieldRule) appendValue(dst []byte, v string, max int) (_ []byte, ok bool) {
	start := len(dst)
	dst = r.cs.appendChars(dst, v, max)
	b := dst[start:]
	if r.ipv6Colon {
		if last := bytes.LastIndexByte(b, ':'); last >= 0 && !hexOrColon(b[:last]) {
			for i, c := range b {
				if c == ':' {
					b[i] = '_'
				}
			}
		}
	}
	if r.alnumEnd {
		for len(b) > 0 && !isAlnum(b[len(b)-1]) {
			b = b[:len(b)-1]
		}
		dst = dst[:start+len(b)]
	}
	if len(b) == 0 || len(b) == 1 && b[0] == '-' {
		return dst[:start], false
	}
	return dst, true
}

func hexOrColon(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' || c == ':') {
			return false
		}
	}
	return true
}

// appendChars appends v with every character outside cs replaced by '_',
// cut to max characters (all ASCII, so max bytes).
func (cs *charset) appendChars(dst []byte, v string, max int) []byte {
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

// appendField appends v as appendChars does; an empty v is written as the
// nil value "-".
func (cs *charset) appendField(dst []byte, v string, max int) []byte {
	if v == "" {
		return append(dst, '-')
	}
	return cs.appendChars(dst, v, max)
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

// sdParamNames returns the PARAM-NAMEs of keys: made valid (without '.'),
// and unique by the numbering rule of uniqueName, still at most 32
// characters.
func sdParamNames(keys []string) []string {
	var u uniqueNames
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = u.unique(sdParamChars.sanitize(k, maxSDName), maxSDName)
	}
	return out
}

// priStrings holds "<PRI>" for every facility and severity.
var priStrings = func() (p [192]string) {
	for i := range p {
		p[i] = "<" + strconv.Itoa(i) + ">"
	}
	return p
}()

// appendHeader appends everything before MSG, the space before it and
// the BOM included, and sets sdStart. At a shortening level > 0 (a message
// being cut), header fields are shorter (shortMax[level]). With msgAt >= 0
// the element of SDKeys is cut so that MSG starts at or before msgAt, or
// left out (msgAt 0 always leaves it out).
func (e *Encoder) appendHeader(dst []byte, grp *Group, index, pri int, sec, nsec int64, level, msgAt int) []byte {
	dst = append(dst, priStrings[pri]...)
	if e.bsd {
		dst = e.clock.appendBSD(dst, sec)
	} else {
		dst = append(dst, '1', ' ')
		dst = e.clock.appendRFC3339(dst, sec, nsec)
	}
	switch {
	case e.constHeader && level == 0 && !e.hasSD:
		e.sdStart = len(dst) + len(e.tailFields)
		return append(dst, e.tail...) // with the nil SD, the space and the BOM
	case e.constHeader && level == 0:
		dst = append(dst, e.tailFields...)
	default:
		o := &e.opts
		dst = e.appendFields(dst, shortMax[level], o.HostnameKeys, o.AppNameKeys, o.ProcIDKeys, o.MsgIDKeys)
	}
	e.sdStart = len(dst)
	if e.bsd {
		return dst
	}
	if e.hasSD {
		sdLimit := -1 // no limit
		if msgAt >= 0 {
			sdLimit = msgAt - 1 // the space
			if e.bom {
				sdLimit -= len(bom)
			}
			sdLimit = max(sdLimit, 0)
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

// appendMapped appends a header field: the value of the first of keys
// present in the log whose value the rule leaves usable, else def (the
// constant), else the rule's nil value.
func (e *Encoder) appendMapped(dst []byte, r *fieldRule, keys []string, def string, max int) []byte {
	for _, k := range keys {
		if v, ok := e.find(k); ok && v != "" {
			if out, ok := r.appendValue(dst, v, max); ok {
				return out
			}
		}
	}
	if out, ok := r.appendValue(dst, def, max); ok {
		return out
	}
	return append(dst, r.nilValue...)
}

// Header field lengths (HOSTNAME, APP-NAME, PROCID, MSGID): the RFC's,
// then the shorter ones of each level used when a message must be cut.
var (
	fullMax  = [4]int{maxHostname, maxAppName, maxProcID, maxMsgID}
	shortMax = [3][4]int{fullMax, {64, 48, 32, 32}, {16, 16, 16, 16}}
)

// appendFields appends the header fields after the timestamp: RFC 5424
// " HOSTNAME APP-NAME PROCID MSGID " or RFC 3164 " HOSTNAME TAG[PID]: ".
// Each is mapped from the log (keys) or the constant.
func (e *Encoder) appendFields(dst []byte, max [4]int, hostKeys, appKeys, procKeys, msgKeys []string) []byte {
	o := &e.opts
	dst = append(dst, ' ')
	if e.bsd {
		dst = e.appendMapped(dst, hostRule3164, hostKeys, o.Hostname, max[0])
		dst = append(dst, ' ')
		dst = e.appendMapped(dst, appRule, appKeys, o.AppName, min(max[1], maxTag))
		n := len(dst)
		dst = append(dst, '[')
		if dst = e.appendMapped(dst, pidRule3164, procKeys, o.ProcID, max[2]); len(dst) == n+1 {
			dst = dst[:n] // no PID
		} else {
			dst = append(dst, ']')
		}
		return append(dst, ": "...)
	}
	dst = e.appendMapped(dst, hostRule5424, hostKeys, o.Hostname, max[0])
	dst = append(dst, ' ')
	dst = e.appendMapped(dst, appRule, appKeys, o.AppName, max[1])
	dst = append(dst, ' ')
	dst = e.appendMapped(dst, procIDRule, procKeys, o.ProcID, max[2])
	dst = append(dst, ' ')
	dst = e.appendMapped(dst, msgIDRule, msgKeys, o.MsgID, max[3])
	return append(dst, ' ')
}
