// Package format turns SLS logs into syslog messages.
//
// A log is first flattened the way Alibaba's reference function does
// (loggroups_to_flattern_list, see Group.Flatten). The message is then an
// RFC 5424 or RFC 3164 header, with facility, severity, host name,
// app name, PROCID and MSGID taken from configured fields or constants,
// optional structured data (chosen fields, the origin element), and a body:
// the seed's "||key=value" pairs (kv), a JSON object, CEF or LEEF.
//
// Every output is valid for any input: header fields are sanitised and
// cut to their RFC lengths, invalid UTF-8 is replaced by U+FFFD, each
// format escapes what its grammar requires, and with LF framing no CR, LF
// or NUL is ever written raw, so one log can never become two messages.
// Messages longer than the limit are cut without breaking a character, an
// escape sequence or the body's syntax (or dropped, on request).
//
// An Encoder appends to a caller-owned buffer and allocates nothing per log
// in steady state.
package format
