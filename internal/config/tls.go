package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"sls2siem/internal/secret"
)

// trustedCAs are the system roots plus the CA bundle of SYSLOG_TLS_CA or
// SYSLOG_TLS_CA_FILE, or nil (the system roots) without one.
func (l *loader) trustedCAs() *x509.CertPool {
	caPEM, caVar, _ := l.pem(VarSyslogTLSCA, VarSyslogTLSCAFile, false)
	if caPEM == nil {
		return nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(caPEM) {
		l.fail(caVar, "holds no PEM certificate")
	}
	return pool
}

// clientCertificate is the certificate and key of mutual TLS: both or
// neither.
func (l *loader) clientCertificate() []tls.Certificate {
	certPEM, certVar, badCert := l.pem(VarSyslogTLSCert, VarSyslogTLSCertFile, false)
	keyPEM, keyVar, badKey := l.pem(VarSyslogTLSKey, VarSyslogTLSKeyFile, true)
	switch {
	case badCert || badKey:
		return nil // said already
	case certPEM != nil && keyPEM != nil:
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			l.fail(certVar, "and %s do not form a certificate and key pair: %s", keyVar, pemError(err, certPEM, keyPEM))
			return nil
		}
		return []tls.Certificate{pair}
	case certPEM != nil:
		l.fail(certVar, "is set without a key: set %s or %s too", VarSyslogTLSKeyFile, VarSyslogTLSKey)
	case keyPEM != nil:
		l.fail(keyVar, "is set without a certificate: set %s or %s too", VarSyslogTLSCertFile, VarSyslogTLSCert)
	}
	return nil
}

// pem returns PEM text from the inline variable, else from the file the
// file variable names, and the name of the variable used; nil when
// neither is set, and bad when the value was refused. A private key file
// readable by group or others is a warning.
func (l *loader) pem(inline, file string, private bool) (b []byte, name string, bad bool) {
	if v, ok := l.get(inline); ok {
		return v.([]byte), inline, false
	}
	if l.set(inline) {
		return nil, inline, true
	}
	v, ok := l.get(file)
	if !ok {
		return nil, file, l.set(file)
	}
	path := v.(string)
	b, mode, err := readPEMFile(path)
	if err != nil {
		l.fail(file, "is %s, which cannot be read: %s", secret.Quote(path), err)
		return nil, file, true
	}
	if private && mode&0o077 != 0 {
		l.warn(file, "names %s, which is readable by group or others (mode %04o): chmod 600 it", secret.Quote(path), mode)
	}
	return b, file, false
}

// maxPEMFile bounds what a certificate or key file may hold.
const maxPEMFile = 1 << 20

// readPEMFile reads a PEM file of at most maxPEMFile bytes, and its
// permissions. The error does not repeat the path.
func readPEMFile(path string) ([]byte, os.FileMode, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fileError(err)
	}
	defer f.Close()
	st, err := f.Stat()
	switch {
	case err != nil:
		return nil, 0, fileError(err)
	case st.IsDir():
		return nil, 0, errors.New("is a directory")
	case st.Size() > maxPEMFile:
		return nil, 0, fmt.Errorf("is %d bytes, more than the %d a PEM file needs", st.Size(), maxPEMFile)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxPEMFile))
	if err != nil {
		return nil, 0, fileError(err)
	}
	return b, st.Mode().Perm(), nil
}

// fileError describes a file error without repeating the path.
func fileError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// pemError keeps key material out of the message: crypto/tls errors do not
// quote their input today, and nothing of the PEM text may slip through
// should that change.
func pemError(err error, material ...[]byte) string {
	s := fmt.Sprintf("%.200s", err.Error())
	for _, m := range material {
		for _, line := range strings.Split(string(m), "\n") {
			if len(line) >= 8 {
				s = strings.ReplaceAll(s, line, secret.Redacted)
			}
		}
	}
	return s
}
