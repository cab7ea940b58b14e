package config

import (
	"crypto/tls"
	"net"
	"strconv"
	"time"

	"sls2siem/internal/format"
	"sls2siem/internal/transport"
)

// Syslog is how to reach the receiver: the transport's configuration and
// the retry policy of the shipper above it.
type Syslog struct {
	Transport transport.Config
	// MaxRetries is how many times a failed send redials and resends,
	// without any log confirmed in between, before the range fails;
	// RetryBackoff is the first pause (it doubles, up to MaxBackoff).
	MaxRetries   int
	RetryBackoff time.Duration
	// TLSInsecure records SYSLOG_TLS_INSECURE_SKIP_VERIFY=true.
	TLSInsecure bool
}

// MaxBackoff bounds the pause between two reconnections.
const MaxBackoff = 30 * time.Second

// Backoff is the pause before the n-th reconnection (n ≥ 1) in a row.
func (s Syslog) Backoff(n int) time.Duration {
	d := s.RetryBackoff
	for i := 1; i < n && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}

// Protocols (SYSLOG_PROTOCOL): the transport's networks.
const (
	ProtocolTCP     = transport.NetworkTCP
	ProtocolUDP     = transport.NetworkUDP
	ProtocolTLS     = transport.NetworkTLS
	ProtocolRELP    = transport.NetworkRELP
	ProtocolRELPTLS = transport.NetworkRELPTLS
)

// transportFields names the variables of transport.Config's fields.
var transportFields = map[string]string{
	"Network": VarSyslogProtocol, "Address": VarSyslogHost, "Framing": VarSyslogFraming, "RELPWindow": VarSyslogRELPWindow,
	"DialTimeout": VarSyslogDialTimeout, "WriteTimeout": VarSyslogWriteTimeout, "IdleTimeout": VarSyslogIdleTimeout,
	"TLS": VarSyslogProtocol,
}

// receiver reads the receiver's and the messages' variables.
func (l *loader) receiver() (Syslog, format.Options) {
	var s Syslog
	network := l.str(VarSyslogProtocol)
	t := transport.DefaultConfig(network)
	host, _ := l.required(VarSyslogHost, "the host name or IP address of the syslog receiver")
	port := transport.DefaultPort(network)
	if v, ok := l.get(VarSyslogPort); ok {
		port = v.(int)
	}
	if host != nil {
		t.Address = net.JoinHostPort(host.(string), strconv.Itoa(port))
	}
	if v, ok := l.get(VarSyslogFraming); ok {
		t.Framing = v.(string)
	}
	if v, ok := l.get(VarSyslogRELPWindow); ok {
		t.RELPWindow = v.(int)
	}
	t.DialTimeout = l.duration(VarSyslogDialTimeout)
	t.WriteTimeout = l.duration(VarSyslogWriteTimeout)
	t.IdleTimeout = l.duration(VarSyslogIdleTimeout)
	s.MaxRetries = l.integer(VarSyslogMaxRetries)
	s.RetryBackoff = l.duration(VarSyslogRetryBackoff)
	t.TLS, s.TLSInsecure = l.tlsConfig(network, host)
	if host != nil {
		l.validated(t.Validate(), transportFields)
	}
	s.Transport = t
	return s, l.format(t)
}

// tlsConfig reads the TLS variables: refused unless the protocol runs
// over TLS (the logs would go out in plaintext while the operator believes
// them encrypted).
func (l *loader) tlsConfig(network string, host any) (*tls.Config, bool) {
	if network != ProtocolTLS && network != ProtocolRELPTLS {
		for _, v := range tlsVars {
			if l.set(v) {
				l.fail(v, "is set but %s is %s: TLS settings apply only with %s=%s or %s; set it, or unset %s",
					VarSyslogProtocol, network, VarSyslogProtocol, ProtocolTLS, ProtocolRELPTLS, v)
			}
		}
		return nil, false
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if h, ok := host.(string); ok {
		cfg.ServerName = h
	}
	if v, ok := l.get(VarSyslogTLSServerName); ok {
		cfg.ServerName = v.(string)
	}
	if l.str(VarSyslogTLSMinVersion) == "1.3" {
		cfg.MinVersion = tls.VersionTLS13
	}
	insecure := l.boolean(VarSyslogTLSInsecureSkipVerify)
	cfg.InsecureSkipVerify = insecure
	if insecure {
		l.warn(VarSyslogTLSInsecureSkipVerify, "is true: the receiver's certificate and name are NOT verified; anyone on the path can read and forge the logs")
	}
	cfg.RootCAs = l.trustedCAs()
	cfg.Certificates = l.clientCertificate()
	return cfg, insecure
}

// tlsVars are the variables that only mean something with TLS.
var tlsVars = []string{
	VarSyslogTLSCAFile, VarSyslogTLSCA, VarSyslogTLSServerName,
	VarSyslogTLSCertFile, VarSyslogTLSKeyFile, VarSyslogTLSCert, VarSyslogTLSKey,
	VarSyslogTLSMinVersion, VarSyslogTLSInsecureSkipVerify,
}
