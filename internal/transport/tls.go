package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"reflect"
	"time"
)

// tlsError is a TLS failure reworded to say what it is; it wraps the
// original error.
type tlsError struct {
	msg string
	err error
}

func (e *tlsError) Error() string { return e.msg + ": " + e.err.Error() }
func (e *tlsError) Unwrap() error { return e.err }

// TLS alerts (RFC 8446 §6) whose meaning describeTLS names.
const (
	alertHandshakeFailure  = 40
	alertBadCertificate    = 42
	alertUnknownCA         = 48
	alertCertificateNeeded = 116
)

// remoteAlert returns the code of the alert the receiver sent, if err is
// one. crypto/tls reports a received alert as a *net.OpError with Op
// "remote error" around a value of its unexported alert type (a uint8):
// tls.AlertError is only used with QUIC. The code is read from that value,
// not from the error's text.
func remoteAlert(err error) (code uint8, ok bool) {
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "remote error" || oe.Err == nil {
		return 0, false
	}
	if v := reflect.ValueOf(oe.Err); v.Kind() == reflect.Uint8 {
		return uint8(v.Uint()), true
	}
	return 0, false
}

// describeTLS rewords certificate failures and the receiver's alerts so
// that they read like what they are.
func describeTLS(err error) error {
	var (
		te       *tlsError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &te):
		return err // described already
	case errors.As(err, &unknown):
		return &tlsError{"TLS: the receiver's certificate is signed by an unknown authority (set SYSLOG_TLS_CA_FILE or SYSLOG_TLS_CA to the SIEM's CA)", err}
	case errors.As(err, &hostname):
		return &tlsError{"TLS: the receiver's certificate does not match the host name (set SYSLOG_TLS_SERVER_NAME to a name in the certificate)", err}
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return &tlsError{"TLS: the receiver's certificate has expired or is not yet valid", err}
	case errors.As(err, &invalid):
		return &tlsError{"TLS: the receiver's certificate is invalid", err}
	case errors.As(err, &verify):
		return &tlsError{"TLS: the receiver's certificate was rejected", err}
	}
	code, ok := remoteAlert(err)
	switch {
	case !ok:
		return err
	case code == alertCertificateNeeded:
		return &tlsError{"TLS: the receiver requires a client certificate (set SYSLOG_TLS_CERT_FILE and SYSLOG_TLS_KEY_FILE)", err}
	case code == alertHandshakeFailure:
		return &tlsError{"TLS: the receiver aborted the handshake: it may require a client certificate (SYSLOG_TLS_CERT_FILE, SYSLOG_TLS_KEY_FILE) or share no TLS version or cipher with us", err}
	case code == alertBadCertificate, code == alertUnknownCA:
		return &tlsError{"TLS: the receiver does not trust our client certificate", err}
	}
	return &tlsError{"TLS: the receiver sent an alert", err}
}

// explainTLS says why a TLS connection that never had data accepted
// failed. Under TLS 1.3 a receiver rejects the client certificate (or its
// absence) after the client considers the handshake done, so the first
// writes fail with a bare "broken pipe" or "connection reset": the
// receiver's alert may still be readable, and if not, the likely cause is
// named.
func (c *Conn) explainTLS(err error) error {
	var te *tlsError
	if !isTLS(c.cfg.Network) || c.relp != nil || c.confirmed || errors.As(err, &te) {
		return err
	}
	if alert := c.readAlert(); alert != nil {
		if d := describeTLS(alert); d != alert {
			return fmt.Errorf("%w (after: %v)", d, err)
		}
	}
	if c.cfg.TLS == nil || len(c.cfg.TLS.Certificates) == 0 {
		return &tlsError{"TLS: the receiver closed the connection before accepting any data; if it requires a client certificate, set SYSLOG_TLS_CERT_FILE and SYSLOG_TLS_KEY_FILE", err}
	}
	return &tlsError{"TLS: the receiver closed the connection before accepting any data; check that it trusts our client certificate", err}
}

// readAlert reads what the receiver sent before closing, if anything.
func (c *Conn) readAlert() error {
	if err := c.nc.SetReadDeadline(time.Now().Add(20 * time.Millisecond)); err != nil {
		return nil
	}
	defer c.nc.SetReadDeadline(time.Time{})
	var b [1]byte
	_, err := c.nc.Read(b[:])
	return err
}
