package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// describeTLS rewords certificate failures so that they read like what
// they are.
func describeTLS(err error) error {
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var alert tls.AlertError
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
	case errors.As(err, &alert) && (alert == 116 || alert == 42):
		return fmt.Errorf("TLS: the receiver requires a client certificate (set SYSLOG_TLS_CERT_FILE and SYSLOG_TLS_KEY_FILE): %w", err)
	case errors.As(err, &alert) && alert == 48:
		return fmt.Errorf("TLS: the receiver does not trust our client certificate: %w", err)
	}
	return err
}
