// Package config turns the function's environment variables into a
// validated Config.
//
// Every variable the shipper reads is declared in this package (see Vars),
// so the README table and s.yaml can be checked against one list. Parsing
// collects every problem and reports them together; each message names the
// variable and the values it accepts.
package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"sls2siem/internal/format"
	"sls2siem/internal/transport"
	"sls2siem/internal/trust"
)

// Config is the complete, validated configuration of one function instance.
type Config struct {
	Syslog Syslog
	// Format is how logs become messages (see format.go), handed to the
	// encoder as it is.
	Format format.Options
	// PullCount is the most log groups asked for per PullLogs call (the
	// memory budget may ask for fewer).
	PullCount int
	// Endpoints are the SLS endpoints the function may send signed
	// requests to (SLS_ALLOWED_ENDPOINTS), and whether they are upgraded
	// to HTTPS (SLS_HTTPS).
	Endpoints trust.Endpoints
	// DeadlineMargin is how long before the invocation deadline the shipper
	// stops and fails the invocation, so that FC never kills it mid-write.
	DeadlineMargin time.Duration
	// LogLevel is the minimum level of the function's own structured logs.
	LogLevel string
	// DeadLetterLogstore is where failed ranges are recorded
	// (SHIP_DEADLETTER_LOGSTORE, in the source project); "" for none.
	DeadLetterLogstore string
	// BatchMemory is the memory budget, in bytes, that pulled batches of
	// all invocations in flight share. It is not an environment variable:
	// the runtime derives it from the function's memory (see
	// fcruntime.BatchMemory); 0 means a default.
	BatchMemory int64
	// Warnings are settings that are valid but weaken security: logged
	// at every start, in every mode.
	Warnings []string
}

// Syslog describes the receiver and the messages sent to it.
type Syslog struct {
	Host     string
	Port     int
	Protocol string // "tcp", "udp", "tls", "relp" or "relp-tls"
	Framing  string // "lf" or "octet-counting" ("" for relp: RELP frames itself)
	// RELPWindow is how many RELP frames may be unacknowledged at once.
	RELPWindow int

	MaxMessageSize int // bytes, frame excluded; longer bodies are truncated (Format.MaxSize)
	DialTimeout    time.Duration
	WriteTimeout   time.Duration
	IdleTimeout    time.Duration

	// MaxRetries is how many times a failed send redials and resends,
	// without any log confirmed in between, before the invocation fails;
	// RetryBackoff is the first pause (it doubles, up to MaxBackoff).
	MaxRetries   int
	RetryBackoff time.Duration

	// TLS is the client configuration for protocols tls and relp-tls
	// (nil otherwise).
	TLS *tls.Config
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

// Address returns host:port of the receiver.
func (s Syslog) Address() string {
	return joinHostPort(s.Host, s.Port)
}

// Protocols and framings.
const (
	ProtocolTCP     = transport.NetworkTCP
	ProtocolUDP     = transport.NetworkUDP
	ProtocolTLS     = transport.NetworkTLS
	ProtocolRELP    = transport.NetworkRELP
	ProtocolRELPTLS = transport.NetworkRELPTLS
)

// FromEnv reads the configuration from the process environment.
func FromEnv() (Config, error) {
	return Parse(os.Getenv)
}

// Parse reads the configuration through getenv. It returns every problem
// found, joined, each naming its variable.
func Parse(getenv func(string) string) (Config, error) {
	p := parser{getenv: getenv}
	var c Config
	s := &c.Syslog

	s.Host = p.host(VarSyslogHost, VarSyslogPort)
	s.Protocol = p.oneOf(VarSyslogProtocol, ProtocolTCP, ProtocolTCP, ProtocolUDP, ProtocolTLS, ProtocolRELP, ProtocolRELPTLS)
	relp := s.Protocol == ProtocolRELP || s.Protocol == ProtocolRELPTLS
	defaultPort := 514
	if relp {
		defaultPort = 20514
	}
	s.Port = p.intRange(VarSyslogPort, defaultPort, 1, 65535)
	switch {
	case relp:
		if v := p.str(VarSyslogFraming); v != "" {
			p.fail(VarSyslogFraming, "is %s but %s is %s: RELP frames every message itself; unset %s", q(v), VarSyslogProtocol, s.Protocol, VarSyslogFraming)
		}
		s.RELPWindow = p.intRange(VarSyslogRELPWindow, 128, 1, 65536)
	default:
		defaultFraming := transport.FramingLF
		if s.Protocol == ProtocolTLS {
			defaultFraming = transport.FramingOctetCounting
		}
		s.Framing = p.oneOf(VarSyslogFraming, defaultFraming, transport.FramingLF, transport.FramingOctetCounting)
		if v := p.str(VarSyslogRELPWindow); v != "" {
			p.fail(VarSyslogRELPWindow, "is set but %s is %s: it applies only to relp and relp-tls", VarSyslogProtocol, s.Protocol)
		}
	}
	f := &c.Format
	f.Facility = p.code(VarSyslogFacility, facilityUser, facilities)
	f.Severity = p.code(VarSyslogSeverity, severityInfo, severities)
	f.Hostname = p.headerField(VarSyslogHostname, defaultHostname(), 255)
	f.AppName = p.headerField(VarSyslogTag, "-", 48)
	defaultMax := 64 * 1024
	switch {
	case s.Protocol == ProtocolUDP:
		defaultMax = 2048
	case relp:
		// rsyslog's default maxMessageSize: imrelp acknowledges a longer
		// message and stores it cut, so the shipper cuts it first.
		defaultMax = 8 * 1024
	}
	maxSize := 16 * 1024 * 1024
	if s.Protocol == ProtocolUDP {
		maxSize = MaxUDPMessage
	}
	s.MaxMessageSize = p.intRange(VarSyslogMaxMessageSize, defaultMax, 480, maxSize)
	s.DialTimeout = p.timeout(VarSyslogDialTimeout, 5*time.Second, 5*time.Minute)
	s.WriteTimeout = p.timeout(VarSyslogWriteTimeout, 10*time.Second, 10*time.Minute)
	s.IdleTimeout = p.timeout(VarSyslogIdleTimeout, 5*time.Minute, 24*time.Hour)
	p.parseTransport(s)
	p.parseFormat(&c)
	f.MaxSize = s.MaxMessageSize
	// Line framing cannot carry a raw line break: escape them.
	f.EscapeBreaks = s.Protocol != ProtocolUDP && s.Framing == transport.FramingLF

	c.PullCount = p.intRange(VarSLSPullCount, 100, 1, 1000)
	c.Endpoints = p.endpoints()
	c.DeadlineMargin = p.timeout(VarDeadlineMargin, 3*time.Second, time.Hour)
	c.LogLevel = p.oneOf(VarLogLevel, "info", "debug", "info", "warn", "error")
	c.DeadLetterLogstore = p.deadLetterLogstore()

	if len(p.errs) > 0 {
		return Config{}, fmt.Errorf("invalid configuration: %w", errors.Join(p.errs...))
	}
	c.Warnings = p.warns
	return c, nil
}

// MaxUDPMessage is the largest syslog message one UDP datagram carries
// (65 535 less the IP and UDP headers).
const MaxUDPMessage = 65507

// endpoints reads SLS_ALLOWED_ENDPOINTS and SLS_HTTPS.
func (p *parser) endpoints() trust.Endpoints {
	list := p.str(VarSLSAllowedEndpoints)
	if list == "" {
		list = trust.DefaultAllowed
	}
	https := p.oneOf(VarSLSHTTPS, "true", "true", "false") == "true"
	e, err := trust.ParseEndpoints(list, https)
	if err != nil {
		p.fail(VarSLSAllowedEndpoints, "%v", err)
	}
	if !https {
		p.warn(VarSLSHTTPS, "is false: SLS requests (the logs and the STS token in a header) travel in plaintext unless the endpoint says https://")
	}
	return e
}

func defaultHostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "-"
	}
	return h
}

// LogValue logs the effective configuration. The Config holds key
// material (the TLS client key): nothing here may show it.
func (c Config) LogValue() slog.Value {
	s := c.Syslog
	return slog.GroupValue(
		slog.String("syslogAddress", s.Address()),
		slog.String("protocol", s.Protocol),
		slog.String("framing", s.Framing),
		slog.Int("relpWindow", s.RELPWindow),
		slog.String("dialTimeout", s.DialTimeout.String()),
		slog.String("writeTimeout", s.WriteTimeout.String()),
		slog.String("idleTimeout", s.IdleTimeout.String()),
		slog.Int("maxRetries", s.MaxRetries),
		slog.String("retryBackoff", s.RetryBackoff.String()),
		slog.Any("tls", tlsSummary(s)),
		slog.Any("format", formatSummary(c.Format)),
		slog.Int("pullCount", c.PullCount),
		slog.Any("allowedEndpoints", c.Endpoints.Patterns()),
		slog.Bool("slsHTTPS", c.Endpoints.HTTPS()),
		slog.String("deadlineMargin", c.DeadlineMargin.String()),
		slog.String("logLevel", c.LogLevel),
		slog.String("deadLetterLogstore", c.DeadLetterLogstore),
	)
}
