package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// describeTLS rewords certificate failures so that they read like what
// they are.
func describeTLS(err error) error {
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &unknown):
		return fmt.Errorf("TLS: the receiver's certificate is signed by an unknown authority (set SYSLOG_TLS_CA_FILE or SYSLOG_TLS_CA to the SIEM's CA): %w", err)
	case errors.As(err, &hostname):
		return fmt.Errorf("TLS: the receiver's certificate does not match the host name (set SYSLOG_TLS_SERVER_NAME to a name in the certificate): %w", err)
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return fmt.Errorf("TLS: the receiver's certificate has expired or is not yet valid: %w", err)
	case errors.As(err, &invalid):
		return fmt.Errorf("TLS: the receiver's certificate is invalid: %w", err)
	case errors.As(err, &verify):
		return fmt.Errorf("TLS: the receiver's certificate was rejected: %w", err)
	}
	// Alerts the receiver sent (crypto/tls does not export their type).
	msg := err.Error()
	switch {
	case strings.Contains(msg, "remote error: tls: certificate required"):
		return fmt.Errorf("TLS: the receiver requires a client certificate (set SYSLOG_TLS_CERT_FILE and SYSLOG_TLS_KEY_FILE): %w", err)
	case strings.Contains(msg, "remote error: tls: handshake failure"):
		return fmt.Errorf("TLS: the receiver aborted the handshake: it may require a client certificate (SYSLOG_TLS_CERT_FILE, SYSLOG_TLS_KEY_FILE) or share no TLS version or cipher with us: %w", err)
	case strings.Contains(msg, "remote error: tls: bad certificate"), strings.Contains(msg, "remote error: tls: unknown certificate authority"):
		return fmt.Errorf("TLS: the receiver does not trust our client certificate: %w", err)
	}
	return err
}

// explainTLS says why a TLS connection that never had data accepted
// failed. Under TLS 1.3 a receiver rejects the client certificate (or its
// absence) after the client considers the handshake done, so the first
// writes fail with a bare "broken pipe" or "connection reset": the
// receiver's alert may still be readable, and if not, the likely cause is
// named.
func (c *Conn) explainTLS(err error) error {
	if !isTLS(c.cfg.Network) || c.relp != nil || c.confirmed || strings.Contains(err.Error(), "TLS: ") {
		return err
	}
	if alert := c.readAlert(); alert != nil {
		if d := describeTLS(alert); d != alert {
			return fmt.Errorf("%w (after: %v)", d, err)
		}
	}
	if c.cfg.TLS == nil || len(c.cfg.TLS.Certificates) == 0 {
		return fmt.Errorf("%w (TLS: the receiver closed the connection before accepting any data; if it requires a client certificate, set SYSLOG_TLS_CERT_FILE and SYSLOG_TLS_KEY_FILE)", err)
	}
	return fmt.Errorf("%w (TLS: the receiver closed the connection before accepting any data; check that it trusts our client certificate)", err)
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
