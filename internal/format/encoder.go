package format

import (
	"unicode/utf8"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

// Encoder turns logs into complete syslog messages (without framing). It
// keeps scratch space between calls and is not safe for concurrent use; use
// one per invocation.
type Encoder struct {
	header       *RFC5424
	escapeBreaks bool
	maxSize      int
	fields       []Field
	ns           [16]byte
}

// NewEncoder returns an Encoder writing header in front of the kv body.
// escapeBreaks keeps each message on one line (LF framing). Messages longer
// than maxSize bytes (0 = no limit) are cut on a UTF-8 boundary.
func NewEncoder(header *RFC5424, escapeBreaks bool, maxSize int) *Encoder {
	return &Encoder{header: header, escapeBreaks: escapeBreaks, maxSize: maxSize}
}

// Append appends the message for log l of group grp to dst. truncated
// reports whether the message was cut to the size limit.
func (e *Encoder) Append(dst []byte, grp *Group, l *sls.Log) (out []byte, truncated bool) {
	start := len(dst)
	e.fields = grp.Flatten(e.fields[:0], l, &e.ns)
	dst = e.header.Append(dst, int64(l.GetTime()), int64(l.GetTimeNs()))
	dst = AppendKV(dst, e.fields, e.escapeBreaks)
	if e.maxSize > 0 && len(dst)-start > e.maxSize {
		return cutUTF8(dst, start+e.maxSize), true
	}
	return dst, false
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
