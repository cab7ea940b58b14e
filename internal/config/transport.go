package config

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// Transport variables: retries and TLS (RFC 5425).
const (
	VarSyslogMaxRetries            = "SYSLOG_MAX_RETRIES"
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
	VarSyslogMaxRetries, VarSyslogRetryBackoff,
	VarSyslogTLSCAFile, VarSyslogTLSCA, VarSyslogTLSServerName,
	VarSyslogTLSCertFile, VarSyslogTLSKeyFile, VarSyslogTLSCert, VarSyslogTLSKey,
	VarSyslogTLSMinVersion, VarSyslogTLSInsecureSkipVerify,
}

func (p *parser) parseTransport(s *Syslog) {
	s.MaxRetries = p.intRange(VarSyslogMaxRetries, 3, 0, 100)
	s.RetryBackoff = p.duration(VarSyslogRetryBackoff, 200*time.Millisecond)
	if s.Protocol != ProtocolTLS {
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

	// Trust: the system roots plus the optional CA bundle.
	caPEM, caVar := p.pemSource(VarSyslogTLSCA, VarSyslogTLSCAFile)
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
	certPEM, certVar := p.pemSource(VarSyslogTLSCert, VarSyslogTLSCertFile)
	keyPEM, keyVar := p.pemSource(VarSyslogTLSKey, VarSyslogTLSKeyFile)
	switch {
	case certPEM != nil && keyPEM != nil:
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			p.fail(certVar, "and %s do not form a certificate and key pair: %s", keyVar, pemError(err))
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

// pemSource returns PEM text from the inline variable, else from the file
// the file variable names, and the name of the variable used.
func (p *parser) pemSource(inline, file string) ([]byte, string) {
	if v := p.getenv(inline); v != "" {
		if block, _ := pem.Decode([]byte(v)); block == nil {
			p.fail(inline, "is not PEM text")
			return nil, inline
		}
		return []byte(v), inline
	}
	path := p.str(file)
	if path == "" {
		return nil, file
	}
	b, err := os.ReadFile(path)
	if err != nil {
		p.fail(file, "is %q, which cannot be read: %v", path, err)
		return nil, file
	}
	return b, file
}

// pemError keeps key material out of the message.
func pemError(err error) string {
	return fmt.Sprintf("%.200s", err.Error())
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
