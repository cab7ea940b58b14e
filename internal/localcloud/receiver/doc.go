// Package receiver implements a small embedded syslog receiver for demos and
// tests.
//
// A [Receiver] listens on TCP (optionally TLS) or UDP and calls a handler for
// each message, one at a time. On TCP the framing is detected per frame, as
// rsyslog does: a frame that starts with a digit is octet-counted
// ("LEN SP MSG", RFC 6587 section 3.4.1), any other frame ends at the next LF
// (RFC 6587 section 3.4.2). On UDP each datagram is one message.
package receiver
