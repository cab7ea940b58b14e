package config

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"sls2siem/internal/secret"
)

// Transport variables: retries and TLS (RFC 5425).
const (
	VarSyslogMaxRetries            = "SYSLOG_MAX_RETRIES"
	VarSyslogRELPWindow            = "SYSLOG_RELP_WINDOW"
	VarSyslogRetryBackoff          = "SYSLOG_RETRY_BACKOFF"
	VarSyslogTLSCAFile             = "SYSLOG_TLS_CA_FILE"
	VarSyslogTLSCA                 = "SYSLOG_TLS_CA"
	VarSyslogTLSServerName         = "SYSLOG_TLS_SERVER_NAME"
	VarSyslogTLSCertFile           = "SYSLOG_TLS_CERT_FILE"
	VarSyslogTLSKeyFile            = "SYSLOG_TLS_KEY_FILE"
	VarSyslogTLSCert               = "SYSLOG_TLS_CERT"
	VarSyslogTLSKey                = "SYSLOG_TLS_KEY"
	VarSyslogTLSMinVersion         = "SYSLOG_TLS_MIN_VERSION"
	VarSyslogTLSInsecureSkipVerify = "SYSLOG_TLS_INSECURE_SKIP_VERIFY"
)

var transportVars = []string{
	VarSyslogMaxRetries, VarSyslogRetryBackoff, VarSyslogRELPWindow,
	VarSyslogTLSCAFile, VarSyslogTLSCA, VarSyslogTLSServerName,
	VarSyslogTLSCertFile, VarSyslogTLSKeyFile, VarSyslogTLSCert, VarSyslogTLSKey,
	VarSyslogTLSMinVersion, VarSyslogTLSInsecureSkipVerify,
}

func (p *parser) parseTransport(s *Syslog) {
	s.MaxRetries = p.intRange(VarSyslogMaxRetries, 3, 0, 100)
	s.RetryBackoff = p.durationRange(VarSyslogRetryBackoff, 200*time.Millisecond, time.Millisecond, time.Minute)
	if s.Protocol != ProtocolTLS && s.Protocol != ProtocolRELPTLS {
		// TLS settings without TLS would send the logs in plaintext while
		// the operator believes them encrypted: refuse rather than ignore.
		for _, v := range tlsVars {
			if p.getenv(v) != "" {
				p.fail(v, "is set but %s is %s: TLS settings apply only with %s=%s or %s; set it, or unset %s",
					VarSyslogProtocol, s.Protocol, VarSyslogProtocol, ProtocolTLS, ProtocolRELPTLS, v)
			}
		}
		return
	}
	cfg := &tls.Config{ServerName: p.str(VarSyslogTLSServerName)}
	if cfg.ServerName == "" {
		cfg.ServerName = s.Host
	}
	switch p.oneOf(VarSyslogTLSMinVersion, "1.2", "1.2", "1.3") {
	case "1.3":
		cfg.MinVersion = tls.VersionTLS13
	default:
		cfg.MinVersion = tls.VersionTLS12
	}
	s.TLSInsecure = p.oneOf(VarSyslogTLSInsecureSkipVerify, "false", "true", "false") == "true"
	cfg.InsecureSkipVerify = s.TLSInsecure
	if s.TLSInsecure {
		p.warn(VarSyslogTLSInsecureSkipVerify, "is true: the receiver's certificate and name are NOT verified; anyone on the path can read and forge the logs")
	}

	// Trust: the system roots plus the optional CA bundle.
	caPEM, caVar := p.pemSource(VarSyslogTLSCA, VarSyslogTLSCAFile, false)
	if caPEM != nil {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(caPEM) {
			p.fail(caVar, "holds no PEM certificate")
		}
		cfg.RootCAs = pool
	}

	// Mutual TLS: a client certificate and key, both or neither.
	certPEM, certVar := p.pemSource(VarSyslogTLSCert, VarSyslogTLSCertFile, false)
	keyPEM, keyVar := p.pemSource(VarSyslogTLSKey, VarSyslogTLSKeyFile, true)
	switch {
	case certPEM != nil && keyPEM != nil:
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			p.fail(certVar, "and %s do not form a certificate and key pair: %s", keyVar, pemError(err, certPEM, keyPEM))
			break
		}
		cfg.Certificates = []tls.Certificate{pair}
	case certPEM != nil:
		p.fail(certVar, "is set without a key: set %s or %s too", VarSyslogTLSKeyFile, VarSyslogTLSKey)
	case keyPEM != nil:
		p.fail(keyVar, "is set without a certificate: set %s or %s too", VarSyslogTLSCertFile, VarSyslogTLSCert)
	}
	s.TLS = cfg
}

// tlsVars are the variables that only mean something with TLS.
var tlsVars = []string{
	VarSyslogTLSCAFile, VarSyslogTLSCA, VarSyslogTLSServerName,
	VarSyslogTLSCertFile, VarSyslogTLSKeyFile, VarSyslogTLSCert, VarSyslogTLSKey,
	VarSyslogTLSMinVersion, VarSyslogTLSInsecureSkipVerify,
}

// pemSource returns PEM text from the inline variable, else from the file
// the file variable names, and the name of the variable used. Neither the
// inline value nor a file variable that holds PEM text by mistake is ever
// echoed. A private key file readable by group or others is a warning.
func (p *parser) pemSource(inline, file string, private bool) ([]byte, string) {
	if v := p.getenv(inline); v != "" {
		if block, _ := pem.Decode([]byte(v)); block == nil {
			hint := ""
			if !secret.LooksLikePEM(v) && !strings.ContainsAny(v, "\n") && len(v) < 4096 {
				hint = fmt.Sprintf(": it looks like a file path: did you mean %s?", file)
			}
			p.fail(inline, "is not PEM text (%d bytes, not shown)%s", len(v), hint)
			return nil, inline
		}
		return []byte(v), inline
	}
	path := p.str(file)
	if path == "" {
		return nil, file
	}
	if secret.LooksLikePEM(path) || strings.ContainsRune(path, '\n') {
		p.fail(file, "is not a readable file path; it looks like PEM text (%d bytes, not shown): did you mean %s?", len(path), inline)
		return nil, file
	}
	f, err := os.Open(path)
	if err == nil {
		defer f.Close()
		var st os.FileInfo
		if st, err = f.Stat(); err == nil {
			if st.IsDir() {
				err = errors.New("is a directory")
			} else if st.Size() > maxPEMFile {
				err = fmt.Errorf("is %d bytes, more than the %d a PEM file needs", st.Size(), maxPEMFile)
			}
		}
		if err == nil && private && st.Mode().Perm()&0o077 != 0 {
			p.warn(file, "names %s, which is readable by group or others (mode %04o): chmod 600 it", q(path), st.Mode().Perm())
		}
	}
	var b []byte
	if err == nil {
		b, err = io.ReadAll(io.LimitReader(f, maxPEMFile))
	}
	if err != nil {
		p.fail(file, "is %s, which cannot be read: %s", q(path), fileError(err))
		return nil, file
	}
	return b, file
}

// maxPEMFile bounds what a certificate or key file may hold.
const maxPEMFile = 1 << 20

// fileError describes a file error without repeating the path.
func fileError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
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

// tlsSummary describes the TLS settings for the cold-start log line; it
// says whether a key is configured, never what it is.
func tlsSummary(s Syslog) slog.Value {
	if s.TLS == nil {
		return slog.StringValue("off")
	}
	return slog.GroupValue(
		slog.String("serverName", s.TLS.ServerName),
		slog.Bool("customCA", s.TLS.RootCAs != nil),
		slog.Bool("clientCertificate", len(s.TLS.Certificates) > 0),
		slog.Bool("insecureSkipVerify", s.TLSInsecure),
	)
}
