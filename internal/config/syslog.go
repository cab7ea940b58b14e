package config

import (
	"crypto/tls"
	"net"
	"strconv"
	"strings"
	"time"

	"sls2siem/internal/format"
	"sls2siem/internal/receivers"
	"sls2siem/internal/transport"
)

// Syslog is how to reach the receivers: the transport's configuration of
// each, how they share the logs, and the retry policy of the shipper
// above them.
type Syslog struct {
	// Transport is the first receiver's configuration: with a single
	// SYSLOG_HOST, the only one.
	Transport transport.Config
	// Receivers are every receiver's configuration, in SYSLOG_HOST's
	// order (Receivers[0] is Transport): the same settings, each with its
	// address and, for TLS, its host name as the name to verify unless
	// SYSLOG_TLS_SERVER_NAME gives one.
	Receivers []transport.Config
	// Balance is how several receivers share the logs (SYSLOG_BALANCE:
	// receivers.Failover or receivers.RoundRobin); FailbackProbes and
	// ProbeInterval say when a receiver found down is used again.
	Balance        receivers.Policy
	FailbackProbes int
	ProbeInterval  time.Duration
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

// receiver reads the receivers' and the messages' variables.
func (l *loader) receiver() (Syslog, format.Options) {
	var s Syslog
	network := l.str(VarSyslogProtocol)
	t := transport.DefaultConfig(network)
	hosts := l.hosts()
	addrs := l.addresses(hosts, network)
	if len(addrs) > 0 {
		t.Address = addrs[0]
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
	s.Balance = receivers.Policy(l.str(VarSyslogBalance))
	s.FailbackProbes = l.integer(VarSyslogFailbackProbes)
	s.ProbeInterval = l.duration(VarSyslogProbeInterval)
	var first any
	if len(hosts) > 0 {
		first = hosts[0]
	}
	var serverNameSet bool
	t.TLS, s.TLSInsecure, serverNameSet = l.tlsConfig(network, first)
	if len(addrs) > 0 {
		l.validated(t.Validate(), transportFields)
		for i, addr := range addrs {
			r := t
			r.Address = addr
			if r.TLS != nil && !serverNameSet {
				r.TLS = r.TLS.Clone()
				r.TLS.ServerName = hosts[i]
			}
			s.Receivers = append(s.Receivers, r)
		}
	}
	s.Transport = t
	return s, l.format(t)
}

// hosts reads SYSLOG_HOST: the receivers' hosts, nil when it is missing
// or invalid (said already).
func (l *loader) hosts() []string {
	v, _ := l.required(VarSyslogHost, "the host name or IP address of the syslog receiver (or several, comma-separated)")
	hosts, _ := v.([]string)
	return hosts
}

// addresses joins the hosts with SYSLOG_PORT's ports (one for all, or
// one per host): host:port, each at most once. It returns nil on a
// problem (said).
func (l *loader) addresses(hosts []string, network string) []string {
	ports := []int{transport.DefaultPort(network)}
	if v, ok := l.get(VarSyslogPort); ok {
		ports = v.([]int)
	} else if l.set(VarSyslogPort) {
		return nil // invalid: said
	}
	if len(hosts) == 0 {
		return nil
	}
	if len(ports) != 1 && len(ports) != len(hosts) {
		l.fail(VarSyslogPort, "has %d ports but %s has %d hosts: give one port for all hosts, or one per host in the same order",
			len(ports), VarSyslogHost, len(hosts))
		return nil
	}
	addrs := make([]string, len(hosts))
	seen := map[string]int{}
	for i, h := range hosts {
		port := ports[0]
		if len(ports) > 1 {
			port = ports[i]
		}
		addrs[i] = net.JoinHostPort(h, strconv.Itoa(port))
		key := strings.ToLower(addrs[i])
		if j, dup := seen[key]; dup {
			l.fail(VarSyslogHost, "names the receiver %s twice (entries %d and %d, with %s): give each receiver once", addrs[i], j+1, i+1, VarSyslogPort)
			return nil
		}
		seen[key] = i
	}
	return addrs
}

// tlsConfig reads the TLS variables: refused unless the protocol runs
// over TLS (the logs would go out in plaintext while the operator believes
// them encrypted).
func (l *loader) tlsConfig(network string, host any) (cfg *tls.Config, insecure, serverNameSet bool) {
	if network != ProtocolTLS && network != ProtocolRELPTLS {
		for _, v := range tlsVars {
			if l.set(v) {
				l.fail(v, "is set but %s is %s: TLS settings apply only with %s=%s or %s; set it, or unset %s",
					VarSyslogProtocol, network, VarSyslogProtocol, ProtocolTLS, ProtocolRELPTLS, v)
			}
		}
		return nil, false, false
	}
	cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	if h, ok := host.(string); ok {
		cfg.ServerName = h
	}
	if v, ok := l.get(VarSyslogTLSServerName); ok {
		cfg.ServerName, serverNameSet = v.(string), true
	}
	if l.str(VarSyslogTLSMinVersion) == "1.3" {
		cfg.MinVersion = tls.VersionTLS13
	}
	insecure = l.boolean(VarSyslogTLSInsecureSkipVerify)
	cfg.InsecureSkipVerify = insecure
	if insecure {
		l.warn(VarSyslogTLSInsecureSkipVerify, "is true: the receiver's certificate and name are NOT verified; anyone on the path can read and forge the logs")
	}
	cfg.RootCAs = l.trustedCAs()
	cfg.Certificates = l.clientCertificate()
	return cfg, insecure, serverNameSet
}

// tlsVars are the variables that only mean something with TLS.
var tlsVars = []string{
	VarSyslogTLSCAFile, VarSyslogTLSCA, VarSyslogTLSServerName,
	VarSyslogTLSCertFile, VarSyslogTLSKeyFile, VarSyslogTLSCert, VarSyslogTLSKey,
	VarSyslogTLSMinVersion, VarSyslogTLSInsecureSkipVerify,
}
