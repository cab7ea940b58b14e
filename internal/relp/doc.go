// Package relp is a client of RELP, rsyslog's Reliable Event Logging
// Protocol (librelp doc/relp.md), for sending syslog messages to a receiver
// such as rsyslog's imrelp with application-level acknowledgements.
//
// A Client runs over an established connection (plain TCP or an already
// handshaken *tls.Conn). Open performs the RELP open handshake; Send frames
// each message as a "syslog" command and buffers it; Flush writes the buffer;
// the receiver answers every command with an "rsp" frame, in order, and a
// "200" answer acknowledges the message. Acked reports how many frames, from
// the first, are acknowledged: frames with seq < Acked() are confirmed, the
// rest are not and must be resent on a new Client after any error
// (at-least-once delivery: only unacknowledged frames can be duplicated).
//
// An acknowledgement from rsyslog means the message was put into rsyslog's
// queue, not that it was written anywhere.
//
// # Design
//
// The Client owns one reader goroutine, started by Open and ended by Close
// or Abort, which parses the receiver's frames as they arrive, matches each
// rsp to the oldest unanswered command and records the result under a mutex.
// Poll, Acked and the waiting in Send, Wait and Close only look at that state
// (no system call). Writes are done by the caller's goroutine through a
// 64 KiB buffer, each write to the socket bounded by a write deadline.
//
// Apart from its reader goroutine, a Client is used by one goroutine at a
// time. Every Client must end with Close or Abort, which close the connection
// and stop the reader goroutine.
package relp
