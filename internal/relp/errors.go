package relp

import (
	"errors"
	"fmt"
	"strings"
)

// Causes of an *Error, for errors.Is.
var (
	// ErrProtocol: the receiver sent something that is not valid RELP
	// (garbage, a malformed frame, an rsp for a command never sent or out
	// of order, a frame longer than allowed).
	ErrProtocol = errors.New("RELP protocol violation")
	// ErrRefused: the receiver answered a command with a code other than 200.
	ErrRefused = errors.New("refused by the RELP receiver")
	// ErrServerClose: the receiver sent the serverclose hint.
	ErrServerClose = errors.New("receiver closed the RELP session (serverclose)")
	// ErrTimeout: an answer did not arrive before the context's deadline or
	// Options.Timeout. Wrapped together with the context's error when the
	// context ended first.
	ErrTimeout = errors.New("timed out waiting for the RELP receiver")
	// ErrClosed: the Client was already closed or aborted.
	ErrClosed = errors.New("RELP client closed")
	// ErrNoSyslog: the receiver's open answer does not accept commands=syslog.
	ErrNoSyslog = errors.New("receiver does not accept the RELP syslog command")
)

// quoteLen bounds how much of what the receiver sent is quoted in an error.
const quoteLen = 64

// Error is the error type of this package. It names the receiver and never
// holds message contents: only what the receiver sent, truncated to 64 bytes.
type Error struct {
	Addr string // the receiver, as given to Open
	// Op is the command whose answer was awaited ("open", "syslog",
	// "close") or the operation that failed ("send", "flush", "wait",
	// "receive").
	Op   string
	Code int    // the rsp code when the receiver refused a command (e.g. 500), else 0
	Text string // the receiver's text with Code, truncated to 64 bytes
	Err  error  // the cause: one of the Err* values, a protocol violation, or a network or TLS error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("relp ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	switch {
	case e.Code != 0:
		fmt.Fprintf(&b, "receiver %s refused the %s command: %d %q", e.Addr, e.Op, e.Code, e.Text)
	case e.Err == ErrServerClose:
		fmt.Fprintf(&b, "receiver %s closed the RELP session (serverclose)", e.Addr)
	default:
		fmt.Fprintf(&b, "receiver %s: %v", e.Addr, e.Err)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// protocolError is a RELP protocol violation by the receiver, with a quote of
// what it sent. It matches ErrProtocol.
type protocolError struct {
	what  string
	sent  []byte // the first bytes of what the receiver sent, at most quoteLen
	more  bool   // sent is truncated
	cause error  // e.g. io.ErrUnexpectedEOF, or nil
}

func newProtocolError(what string, sent []byte, more bool, cause error) *protocolError {
	e := &protocolError{what: what, more: more, cause: cause}
	if len(sent) > quoteLen {
		sent, e.more = sent[:quoteLen], true
	}
	e.sent = append([]byte(nil), sent...)
	return e
}

func (e *protocolError) Error() string {
	return fmt.Sprintf("%v: %s; it sent %s", ErrProtocol, e.what, quote(e.sent, e.more))
}

func (e *protocolError) Is(target error) bool { return target == ErrProtocol }

func (e *protocolError) Unwrap() error { return e.cause }

// quote renders bytes the receiver sent, escaped, with "..." when truncated.
func quote(b []byte, more bool) string {
	if len(b) > quoteLen {
		b, more = b[:quoteLen], true
	}
	if more {
		return fmt.Sprintf("%q...", b)
	}
	return fmt.Sprintf("%q", b)
}

// truncate cuts a text the receiver sent to quoteLen bytes.
func truncate(b []byte) string {
	if len(b) > quoteLen {
		return string(b[:quoteLen]) + "..."
	}
	return string(b)
}
