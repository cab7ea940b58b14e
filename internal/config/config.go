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
)

// Config is the complete, validated configuration of one function instance.
type Config struct {
	Syslog Syslog
	// Format is how logs become messages (see format.go).
	Format Format
	// PullCount is the number of log groups asked for per PullLogs call.
	PullCount int
	// DeadlineMargin is how long before the invocation deadline the shipper
	// stops and fails the invocation, so that FC never kills it mid-write.
	DeadlineMargin time.Duration
	// LogLevel is the minimum level of the function's own structured logs.
	LogLevel string
}

// Syslog describes the receiver and the messages sent to it.
type Syslog struct {
	Host     string
	Port     int
	Protocol string // "tcp", "udp" or "tls"
	Framing  string // "lf" or "octet-counting"

	Facility int    // 0..23
	Severity int    // 0..7
	Hostname string // RFC 5424 HOSTNAME, already sanitised
	AppName  string // RFC 5424 APP-NAME, already sanitised

	MaxMessageSize int // bytes, frame excluded; longer bodies are truncated
	DialTimeout    time.Duration
	WriteTimeout   time.Duration
	IdleTimeout    time.Duration

	// MaxRetries is how many times a failed send redials and resends before
	// the invocation fails; RetryBackoff is the first pause (it doubles).
	MaxRetries   int
	RetryBackoff time.Duration

	// TLS is the client configuration for protocol tls (nil otherwise).
	TLS *tls.Config
	// TLSInsecure records SYSLOG_TLS_INSECURE_SKIP_VERIFY=true.
	TLSInsecure bool
}

// Address returns host:port of the receiver.
func (s Syslog) Address() string {
	return joinHostPort(s.Host, s.Port)
}

// Protocols and framings.
const (
	ProtocolTCP = "tcp"
	ProtocolUDP = "udp"
	ProtocolTLS = "tls"

	FramingLF            = "lf"
	FramingOctetCounting = "octet-counting"
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

	s.Host = p.str(VarSyslogHost)
	if s.Host == "" {
		p.fail(VarSyslogHost, "is not set: give the host name or IP address of the syslog receiver")
	}
	s.Protocol = p.oneOf(VarSyslogProtocol, ProtocolTCP, ProtocolTCP, ProtocolUDP, ProtocolTLS)
	s.Port = p.intRange(VarSyslogPort, 514, 1, 65535)
	defaultFraming := FramingLF
	if s.Protocol == ProtocolTLS {
		defaultFraming = FramingOctetCounting
	}
	s.Framing = p.oneOf(VarSyslogFraming, defaultFraming, FramingLF, FramingOctetCounting)
	s.Facility = p.code(VarSyslogFacility, facilityUser, facilities)
	s.Severity = p.code(VarSyslogSeverity, severityInfo, severities)
	s.Hostname = p.headerField(VarSyslogHostname, defaultHostname(), 255)
	s.AppName = p.headerField(VarSyslogTag, "-", 48)
	defaultMax := 64 * 1024
	if s.Protocol == ProtocolUDP {
		defaultMax = 2048
	}
	s.MaxMessageSize = p.intRange(VarSyslogMaxMessageSize, defaultMax, 480, 16*1024*1024)
	s.DialTimeout = p.duration(VarSyslogDialTimeout, 5*time.Second)
	s.WriteTimeout = p.duration(VarSyslogWriteTimeout, 10*time.Second)
	s.IdleTimeout = p.duration(VarSyslogIdleTimeout, 5*time.Minute)
	p.parseTransport(s)
	p.parseFormat(&c)

	c.PullCount = p.intRange(VarSLSPullCount, 100, 1, 1000)
	c.DeadlineMargin = p.duration(VarDeadlineMargin, 3*time.Second)
	c.LogLevel = p.oneOf(VarLogLevel, "info", "debug", "info", "warn", "error")

	if len(p.errs) > 0 {
		return Config{}, fmt.Errorf("invalid configuration: %w", errors.Join(p.errs...))
	}
	return c, nil
}

func defaultHostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "-"
	}
	return h
}

// LogValue logs the effective configuration. It holds no secret today;
// anything secret added later must be redacted here.
func (c Config) LogValue() slog.Value {
	s := c.Syslog
	return slog.GroupValue(
		slog.String("syslogAddress", s.Address()),
		slog.String("protocol", s.Protocol),
		slog.String("framing", s.Framing),
		slog.Int("facility", s.Facility),
		slog.Int("severity", s.Severity),
		slog.String("hostname", s.Hostname),
		slog.String("appName", s.AppName),
		slog.Int("maxMessageSize", s.MaxMessageSize),
		slog.String("dialTimeout", s.DialTimeout.String()),
		slog.String("writeTimeout", s.WriteTimeout.String()),
		slog.String("idleTimeout", s.IdleTimeout.String()),
		slog.Int("maxRetries", s.MaxRetries),
		slog.String("retryBackoff", s.RetryBackoff.String()),
		slog.Any("tls", tlsSummary(s)),
		slog.Any("format", formatSummary(c.Format)),
		slog.Int("pullCount", c.PullCount),
		slog.String("deadlineMargin", c.DeadlineMargin.String()),
		slog.String("logLevel", c.LogLevel),
	)
}
