// Package format turns SLS logs into syslog messages.
//
// A log is first flattened the way Alibaba's reference function does
// (loggroups_to_flattern_list, see Group.Flatten). The message is then an
// RFC 5424 or RFC 3164 header, with facility, severity, host name,
// app name, PROCID and MSGID taken from configured fields or constants,
// optional structured data (chosen fields, the origin element), and a body:
// the seed's "||key=value" pairs (kv), a JSON object, CEF or LEEF.
//
// Every output is valid for any input, for the RFCs and for what rsyslog
// and syslog-ng parse (docs/messages.md states each rule; the parity tests
// in internal/e2e check them on both receivers):
//
//   - header fields are made valid per field and syntax (header.go): host
//     names and IP literals only in HOSTNAME, tokens neither receiver
//     splits in APP-NAME/TAG and PROCID; a value left empty or "-" falls
//     back to the constant;
//   - invalid UTF-8 is replaced by U+FFFD; each format escapes what its
//     grammar requires; NUL is never written raw (rsyslog drops the
//     control characters after one), with LF framing neither are CR and
//     LF, and RFC 3164 content is printable text and tab under any
//     framing (C1 controls, U+0080–U+009F, are control characters too);
//   - names are unique after every transformation (SD PARAM-NAMEs, JSON
//     member names, CEF/LEEF keys), by one numbering rule (uniqueNames);
//   - a message longer than the limit is cut without breaking a character,
//     an escape sequence or the body's syntax (structured data before
//     header fields, see Encoder.fit): CEF and LEEF keep whole
//     pairs, JSON stays one object; or it is dropped, on request.
//
// Per-log work is linear in the log's size, whatever its keys (flatten's
// fieldIndex, uniqueNames). An Encoder appends to a caller-owned buffer and
// allocates nothing per log in steady state.
package format
