package format

import (
	"strconv"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

// Syntaxes (SYSLOG_FORMAT) and bodies (SYSLOG_BODY).
const (
	SyntaxRFC5424 = "rfc5424"
	SyntaxRFC3164 = "rfc3164"

	BodyKV   = "kv"
	BodyJSON = "json"
	BodyCEF  = "cef"
	BodyLEEF = "leef"
)

// OriginSDID is the SD-ID of the origin element:
// [origin@32473 project="…" logstore="…" shard="…" cursor="…" index="…"].
const OriginSDID = "origin@32473"

// Options say how logs become messages. The zero value (with a host name)
// is the seed's format: RFC 5424, kv body, UTC.
type Options struct {
	Syntax string // SyntaxRFC5424 (default) or SyntaxRFC3164
	Body   string // BodyKV (default), BodyJSON, BodyCEF or BodyLEEF

	// Constants of the header; each *Keys list names the fields that
	// override its constant (the first present with a non-empty value).
	// Empty strings are the nil value "-".
	Facility, Severity               int // 0–23, 0–7
	Hostname, AppName, ProcID, MsgID string
	FacilityKeys, SeverityKeys       []string
	HostnameKeys, AppNameKeys        []string
	ProcIDKeys, MsgIDKeys            []string
	Location                         *time.Location // time zone of timestamps; nil is UTC
	BOM                              bool           // UTF-8 BOM before MSG (RFC 5424 only)
	SDID                             string         // SD-ID of the element holding SDKeys
	SDKeys                           []string       // fields copied into structured data (RFC 5424 only)
	IncludeKeys, ExcludeKeys         []string       // the body's fields; "prefix*" matches a prefix
	Origin                           bool           // the origin SD element (RFC 5424 only)
	EscapeBreaks                     bool           // LF framing: CR and LF never raw (RFC 3164: under any framing; NUL: always)
	MaxSize                          int            // bytes per message, 0 for no limit
	DropOversize                     bool           // drop a longer message instead of cutting it
	Vendor, Product, Version         string         // CEF and LEEF headers
	EventIDKeys, EventNameKeys       []string       // CEF signature ID / LEEF EventID, CEF Name
	EventID, EventName               string         // their constants
	LEEFDelimiter                    byte           // 0: LEEF 1.0 (tab); else LEEF 2.0 with it
}

// Result says what Append did with a log.
type Result uint8

const (
	Written   Result = iota // the whole message was appended
	Truncated               // the message was cut to MaxSize
	Dropped                 // the message was longer than MaxSize: nothing appended
)

// Encoder turns logs into complete syslog messages (without framing). It
// keeps scratch space between calls and is not safe for concurrent use; use
// one per invocation.
type Encoder struct {
	opts  Options
	clock *clock
	bsd   bool // RFC 3164
	body  string

	fac, sev    int
	constHeader bool   // no header field is mapped: tailFields is fixed
	tailFields  []byte // the header fields after the timestamp, when constHeader
	tail        []byte // tailFields, then the nil SD, space and BOM when there is no SD
	hasSD       bool
	sdID        string
	sdKeys      []string // SDKeys without repeats
	sdNames     []string // their PARAM-NAMEs, valid and unique
	sdEsc       *escaper
	bom         bool

	filter    keyFilter
	kvEsc     *escaper  // kv body
	valueEsc  *escaper  // CEF and LEEF values
	pairsFast fastCheck // CEF and LEEF pairs written unescaped
	keys      *attrKeys
	cefVendor string // "Vendor|Product|Version", escaped
	leefStart string
	delim     byte
	leef2     bool

	originBase []byte // origin element up to the cursor's value

	fields     []Field
	bodyFields []Field
	index      fieldIndex // flatten's index of the keys of a long log
	indexed    bool       // index holds this log's keys
	jsonNames  uniqueNames
	marks      []mark
	sdStart    int // where structured data starts, once a message is being cut
	fixedEnd   int // end of what a cut must keep: header, body header
	ns         [16]byte
}

// minBody is the content's reserve when a message is cut (Encoder.fit):
// structured data and header fields leave it this many bytes, or its
// whole length when shorter.
const minBody = 16

// NewEncoder returns an Encoder for o. Values that do not fit the chosen
// syntax are sanitised, never rejected: validation belongs to the caller.
func NewEncoder(o Options) *Encoder {
	if o.Syntax == "" {
		o.Syntax = SyntaxRFC5424
	}
	if o.Body == "" {
		o.Body = BodyKV
	}
	e := &Encoder{
		opts:  o,
		clock: newClock(o.Location),
		bsd:   o.Syntax == SyntaxRFC3164,
		body:  o.Body,
		fac:   clamp(o.Facility, 0, 23),
		sev:   clamp(o.Severity, 0, 7),
		sdEsc: sdEscaper(o.EscapeBreaks),
		filter: keyFilter{
			include: newPatterns(o.IncludeKeys),
			exclude: newPatterns(o.ExcludeKeys),
		},
	}
	e.kvEsc = kvRaw
	switch {
	case e.bsd:
		// RFC 3164 content is printable text and tab under any framing.
		e.kvEsc = newEscaper(escapeRules{breaks: true, strict: true})
	case o.EscapeBreaks:
		e.kvEsc = kvBreaks
	}
	if !e.bsd {
		e.bom = o.BOM
		if len(o.SDKeys) > 0 {
			e.sdID = SanitizeSDName(o.SDID)
			seen := map[string]bool{}
			for _, k := range o.SDKeys {
				if !seen[k] {
					seen[k] = true
					e.sdKeys = append(e.sdKeys, k)
				}
			}
			e.sdNames = sdParamNames(e.sdKeys)
		}
		e.hasSD = o.Origin || len(e.sdKeys) > 0
		if o.Origin {
			e.SetOrigin("", "", 0)
		}
	}
	e.constHeader = len(o.HostnameKeys) == 0 && len(o.AppNameKeys) == 0 &&
		len(o.ProcIDKeys) == 0 && len(o.MsgIDKeys) == 0
	e.tailFields = e.appendFields(nil, fullMax, nil, nil, nil, nil)
	e.tail = append([]byte(nil), e.tailFields...)
	if !e.bsd && !e.hasSD {
		e.tail = append(e.tail, "- "...)
		if e.bom {
			e.tail = append(e.tail, bom...)
		}
	}

	switch o.Body {
	case BodyCEF:
		e.keys = newAttrKeys("rt")
		e.valueEsc = newCEFValueEscaper(e.bsd)
		// '=' separates key and value: values must hold none.
		e.pairsFast = newFastCheck(e.valueEsc.lt, without(e.valueEsc.extra, '='), '=', e.valueEsc.c1 != nil)
		var b []byte
		for i, f := range []string{o.Vendor, o.Product, o.Version} {
			if i > 0 {
				b = append(b, '|')
			}
			b = cefHeaderEscaper.appendEscaped(b, f)
		}
		e.cefVendor = string(b)
	case BodyLEEF:
		e.delim = o.LEEFDelimiter
		if e.delim == 0 {
			e.delim = '\t'
		}
		e.leef2 = o.LEEFDelimiter != 0
		e.keys = newAttrKeys("devTime", "devTimeFormat", "sev")
		e.valueEsc = newLEEFValueEscaper(e.delim, e.bsd)
		// The delimiter separates attributes: values must hold none.
		if e.bsd {
			e.pairsFast = newFastCheck(0x20, []byte{0x7f}, e.delim, true)
		} else {
			e.pairsFast = newFastCheck(0, []byte{0, '\n', '\r'}, e.delim, false)
		}
		e.leefStart = leefHeader(o.Vendor, o.Product, o.Version, e.leef2)
	}
	return e
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// without returns bs without c.
func without(bs []byte, c byte) []byte {
	var out []byte
	for _, b := range bs {
		if b != c {
			out = append(out, b)
		}
	}
	return out
}

func clamp(n, lo, hi int) int { return min(max(n, lo), hi) }

// SetOrigin sets the project, logstore and shard of the origin element
// (Options.Origin). Groups made by NewGroup afterwards carry them.
func (e *Encoder) SetOrigin(project, logstore string, shard int) {
	b := append(e.originBase[:0], "["+OriginSDID+` project="`...)
	b = e.sdEsc.appendEscaped(b, project)
	b = append(b, `" logstore="`...)
	b = e.sdEsc.appendEscaped(b, logstore)
	b = append(b, `" shard="`...)
	b = strconv.AppendInt(b, int64(shard), 10)
	b = append(b, `" cursor="`...)
	e.originBase = b
}

// NewGroup prepares log group g, read at cursor, for Append. The cursor
// is only used by the origin element; "" takes g.GetCursor().
func (e *Encoder) NewGroup(g *sls.LogGroup, cursor string) *Group {
	grp := NewGroup(g)
	if cursor == "" {
		cursor = grp.cursor
	}
	if e.opts.Origin && !e.bsd {
		b := append([]byte(nil), e.originBase...)
		b = e.sdEsc.appendEscaped(b, cursor)
		grp.origin = append(b, `" index="`...)
	}
	return grp
}

// Append appends the message for log l, the index-th log of group grp, to
// dst.
func (e *Encoder) Append(dst []byte, grp *Group, index int, l *sls.Log) ([]byte, Result) {
	start := len(dst)
	e.fields, e.indexed = grp.flatten(e.fields[:0], l, &e.ns, &e.index)
	sec, nsec := logTime(l)
	fac, sev := e.fac, e.sev
	if len(e.opts.SeverityKeys) > 0 {
		if v, ok := e.lookup(e.opts.SeverityKeys); ok {
			if s, ok := ParseSeverity(v); ok {
				sev = s
			}
		}
	}
	if len(e.opts.FacilityKeys) > 0 {
		if v, ok := e.lookup(e.opts.FacilityKeys); ok {
			if f, ok := ParseFacility(v); ok {
				fac = f
			}
		}
	}
	dst = e.appendHeader(dst, grp, index, fac*8+sev, sec, nsec, 0, -1)
	body := e.fields
	if e.filter.active() {
		e.bodyFields = e.bodyFields[:0]
		for _, f := range e.fields {
			if e.filter.keep(f.Key) {
				e.bodyFields = append(e.bodyFields, f)
			}
		}
		body = e.bodyFields
	}
	dst = e.appendBody(dst, body, sev, sec, nsec, 0)
	if e.opts.MaxSize <= 0 || len(dst)-start <= e.opts.MaxSize {
		return dst, Written
	}
	if e.opts.DropOversize {
		return dst[:start], Dropped
	}
	return e.fit(dst, start, grp, index, fac*8+sev, body, sev, sec, nsec), Truncated
}

// fit writes again the message of a log, which is longer than MaxSize,
// from start, at most MaxSize bytes long (docs/messages.md, "Size"). The
// content is MSG after the body's own header (CEF and LEEF headers, JSON's
// braces); it keeps a reserve of min(minBody, its length) bytes of room:
//
//  1. the SYSLOG_SD_KEYS element takes what is left beside the reserve:
//     whole when it fits, else the value that crosses that room is cut
//     (one character at least, else left out) and later ones left out;
//  2. when even without that element the header and the body's header
//     leave less than the reserve, the header fields are shortened
//     (shortMax, shortHeader), level by level;
//  3. the content is cut to the room left (whole pairs, one JSON object,
//     whole characters and escape sequences);
//  4. only when the shortest headers do not fit, they are cut (cutHeaders).
func (e *Encoder) fit(dst []byte, start int, grp *Group, index, pri int, body []Field, sev int, sec, nsec int64) []byte {
	limit := start + e.opts.MaxSize
	reserve := min(minBody, len(dst)-e.fixedEnd) // the content as written whole
	bodyStart := 0
	for level := range shortMax {
		// Without the SD_KEYS element (msgAt 0 leaves it out).
		dst = e.appendHeader(dst[:start], grp, index, pri, sec, nsec, level, 0)
		n := len(dst)
		contentAt := len(e.appendBodyHeader(dst, sev, sec, nsec, level))
		dst = dst[:n]
		if contentAt+reserve > limit && level+1 < len(shortMax) {
			continue
		}
		if len(e.sdKeys) > 0 && contentAt+reserve <= limit {
			dst = e.appendHeader(dst[:start], grp, index, pri, sec, nsec, level, limit-reserve-(contentAt-n))
		}
		bodyStart = len(dst)
		dst = e.appendBody(dst, body, sev, sec, nsec, level)
		break
	}
	if len(dst) <= limit {
		return dst
	}
	if e.fixedEnd > limit {
		// Only with absurd constants or limits: even the shortest
		// headers do not fit.
		return e.cutHeaders(dst, start, bodyStart, limit)
	}
	switch e.body {
	case BodyJSON:
		dst = fitJSON(dst, bodyStart, limit, e.marks)
	case BodyCEF, BodyLEEF:
		dst = fitPairs(dst, e.fixedEnd, limit, e.marks)
	default:
		// Written again up to the limit: the escaper knows where its
		// escape sequences are, the bytes alone do not (a literal
		// backslash is kept).
		dst = appendKVMax(dst[:bodyStart], body, e.kvEsc, limit)
	}
	if e.bsd && len(dst) == bodyStart && len(dst) < limit {
		dst = append(dst, '-') // RFC 3164 content cannot be empty
	}
	return dst
}

// appendBodyHeader appends the body's own header: what appendBody writes
// before the content (JSON: the braces, counted here as written first).
func (e *Encoder) appendBodyHeader(dst []byte, sev int, sec, nsec int64, level int) []byte {
	switch e.body {
	case BodyJSON:
		return append(dst, "{}"...)
	case BodyCEF:
		return e.appendCEFHeader(dst, sev, sec, nsec, level)
	case BodyLEEF:
		return e.appendLEEFHeader(dst, sev, sec, nsec, level)
	}
	return dst
}

// cutHeaders cuts dst, whose headers (syslog header from start, structured
// data, the body's header from bodyStart) end past limit, to at most
// limit bytes, leaving a valid message: the body's header is cut between
// escape sequences, or when the syslog header alone does not fit, MSG is
// left out and structured data written as nil.
func (e *Encoder) cutHeaders(dst []byte, start, bodyStart, limit int) []byte {
	switch {
	case limit >= bodyStart && e.body == BodyCEF:
		return dst[:safeCut(dst, bodyStart, limit, escUnit)] // CEF header: every '\\' starts an escape
	case limit >= bodyStart && e.body == BodyLEEF:
		return cutUTF8(dst, limit) // LEEF header: no escapes
	case limit >= bodyStart:
		dst = dst[:bodyStart]
		if e.bsd && len(dst) < limit {
			dst = append(dst, '-')
		}
		return dst
	case !e.bsd && e.sdStart < limit:
		return append(dst[:e.sdStart], '-')
	}
	return cutUTF8(dst, max(limit, start)) // header fields: ASCII, no escapes
}

// logTime returns the log's time: __time__ plus __time_ns_part__
// nanoseconds; a part of 10^9 or more carries into the seconds, so that
// the time is the one the body's __time_ns_part__ gives.
func logTime(l *sls.Log) (sec, nsec int64) {
	ns := int64(l.GetTimeNs())
	return int64(l.GetTime()) + ns/1e9, ns % 1e9
}

// find returns the value of key k in the log.
func (e *Encoder) find(k string) (string, bool) {
	if !e.indexed {
		return find(e.fields, k)
	}
	if p := e.index.lookup(e.fields, k); p >= 0 {
		return e.fields[p].Value, true
	}
	return "", false
}

// lookup returns the value of the first of keys present in the log with a
// non-empty value.
func (e *Encoder) lookup(keys []string) (string, bool) {
	for _, k := range keys {
		if v, ok := e.find(k); ok && v != "" {
			return v, true
		}
	}
	return "", false
}

// mapped returns the value of the first of keys present and non-empty in
// the log, else def.
func (e *Encoder) mapped(keys []string, def string) string {
	if v, ok := e.lookup(keys); ok {
		return v
	}
	return def
}

// appendBody appends MSG and sets fixedEnd to where it can start being
// cut. A level > 0 shortens the header fields of CEF and LEEF.
func (e *Encoder) appendBody(dst []byte, body []Field, sev int, sec, nsec int64, level int) []byte {
	e.marks = e.marks[:0]
	start := len(dst)
	e.fixedEnd = start
	switch e.body {
	case BodyJSON:
		e.fixedEnd += 2 // {}
		dst, e.marks = appendJSON(dst, body, e.marks, &e.jsonNames)
	case BodyCEF:
		dst = e.appendCEFHeader(dst, sev, sec, nsec, level)
		e.fixedEnd = len(dst)
		dst = e.appendPairs(dst, body, ' ')
	case BodyLEEF:
		dst = e.appendLEEFHeader(dst, sev, sec, nsec, level)
		e.fixedEnd = len(dst)
		dst = e.appendPairs(dst, body, e.delim)
	default:
		dst = appendKV(dst, body, e.kvEsc)
	}
	if e.bsd && len(dst) == start {
		dst = append(dst, '-') // RFC 3164 content cannot be empty
	}
	return dst
}
