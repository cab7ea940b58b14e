package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"syscall"

	"sls2siem/internal/relp"
)

// Kind says which part of a delivery failed. Every error that Dial, Write,
// Flush and Confirm return is a *SendError carrying one; the kinds are the
// values of the kind label of sls2siem_send_failures_total.
type Kind string

// Kinds of send failure, tested in this order (the first that applies).
const (
	// KindAck: the RELP receiver answered a command with a code other
	// than 200 (e.g. "500 error", errors.Is relp.ErrRefused), on open or on
	// a syslog frame.
	KindAck Kind = "ack"
	// KindTimeout: a bound passed: connecting or the handshake took longer
	// than SYSLOG_DIAL_TIMEOUT, a write blocked past SYSLOG_WRITE_TIMEOUT,
	// acknowledgements did not come in time (RELP, or a TCP receiver that
	// stopped taking bytes), or the invocation's deadline came.
	KindTimeout Kind = "timeout"
	// KindRefused: the receiver's host refused the TCP connection
	// (ECONNREFUSED: nothing listens on the port).
	KindRefused Kind = "refused"
	// KindTLS: the TLS handshake failed or the receiver rejected it: its
	// certificate, ours, or an alert it sent.
	KindTLS Kind = "tls"
	// KindConnect: the connection could not be set up for another reason
	// (no route, a reset during the connect, a RELP open that failed
	// otherwise than by a refusal).
	KindConnect Kind = "connect"
	// KindConfirm: the receiver did not confirm what was written: over TCP
	// and TLS it closed or reset the connection before its TCP stack
	// acknowledged every byte; over RELP the session ended (closed, reset,
	// serverclose) or broke the protocol before every frame was answered.
	KindConfirm Kind = "confirm"
	// KindWrite: a write or flush to the socket failed (reset, broken pipe).
	KindWrite Kind = "write"
)

// Kinds lists every kind, in the order above.
var Kinds = []Kind{KindAck, KindTimeout, KindRefused, KindTLS, KindConnect, KindConfirm, KindWrite}

// SendError is a failed delivery operation: what was being done, to which
// receiver, and why. It wraps the cause (a *relp.Error over RELP, a
// network, TLS or x509 error otherwise): errors.Is and errors.As see
// through it.
type SendError struct {
	Kind    Kind
	Op      string // "connect", "send", "flush" or "confirm delivery"
	Address string
	Network string
	Err     error
}

func (e *SendError) Error() string {
	what, ok := opText[e.Op]
	if !ok {
		what = e.Op + " to syslog receiver"
	}
	return what + " " + e.Address + " over " + e.Network + ": " + e.Err.Error()
}

func (e *SendError) Unwrap() error { return e.Err }

// KindOf returns the kind of a send failure, or "" when err holds no
// *SendError (it did not come from the transport).
func KindOf(err error) Kind {
	var se *SendError
	if errors.As(err, &se) {
		return se.Kind
	}
	return ""
}

// Operations, as they appear in errors.
const (
	opConnect = "connect"
	opSend    = "send"
	opFlush   = "flush"
	opConfirm = "confirm delivery"
)

// opText is how an operation reads in an error.
var opText = map[string]string{
	opConnect: "connect to syslog receiver",
	opSend:    "send to syslog receiver",
	opFlush:   "flush to syslog receiver",
	opConfirm: "confirm delivery to syslog receiver",
}

// newSendError classifies err, the cause of op's failure.
func newSendError(op string, cfg *Config, err error) *SendError {
	return &SendError{Kind: classify(op, err), Op: op, Address: cfg.Address, Network: cfg.Network, Err: err}
}

func classify(op string, err error) Kind {
	switch {
	case errors.Is(err, relp.ErrRefused):
		return KindAck
	case isTimeout(err):
		return KindTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindRefused
	case isTLSFailure(err):
		return KindTLS
	case op == opConnect:
		return KindConnect
	case op == opConfirm, errors.Is(err, relp.ErrProtocol), errors.Is(err, relp.ErrServerClose), errors.Is(err, errPeerClosed):
		return KindConfirm
	}
	return KindWrite
}

// isTimeout: a deadline or a bound on waiting passed.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, relp.ErrTimeout) || errors.Is(err, errTimeout) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// isTLSFailure: the handshake, a certificate or an alert of the receiver.
func isTLSFailure(err error) bool {
	var (
		te       *tlsError
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		header   tls.RecordHeaderError
		alert    tls.AlertError
	)
	_, remote := remoteAlert(err)
	return remote || errors.As(err, &te) || errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &header) || errors.As(err, &alert)
}
