// Package config is sls2siem's one environment loader: every variable it
// reads is declared once in Vars (name, default, parser, the uses that
// read and require it, whether it is secret, what it is for), and Load
// reads the variables of one use into a validated Config.
//
// Load maps variables onto the structs that own their rules and defaults
// (format.Options, transport.Config, each with a Validate method) and
// reports every problem at once, each naming the variable, its value
// (quoted safely, a secret never shown) and what is accepted. The tables of
// docs/configuration.md and s.yaml's environment lists are checked against
// Vars by tests.
package config

import (
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"sls2siem/internal/deadletter"
	"sls2siem/internal/format"
	"sls2siem/internal/secret"
	"sls2siem/internal/slsapi"
	"sls2siem/internal/trust"
)

// Config is the configuration of one use: the parts it reads are set.
type Config struct {
	Syslog Syslog
	// Format is how logs become messages, handed to the encoder as is.
	Format format.Options
	// PullCount is the most log groups asked for per PullLogs call (the
	// memory budget may ask for fewer).
	PullCount int
	// Endpoints are the SLS endpoints requests may be signed for
	// (SLS_ALLOWED_ENDPOINTS), and whether they are upgraded to HTTPS
	// (SLS_HTTPS).
	Endpoints trust.Endpoints
	// Signing is how SLS requests are signed (SLS_SIGNATURE_VERSION,
	// SLS_REGION).
	Signing slsapi.Signing
	// FC is what the function reads about itself under Function Compute.
	FC FC
	// DeadlineMargin is how long before the invocation deadline shipping
	// stops and fails, so that FC never kills it mid-write.
	DeadlineMargin time.Duration
	// LogLevel is the minimum level of sls2siem's own log lines (debug,
	// info, warn, error), LogFormat their format: json, text, or "" for
	// the command to choose (text on a terminal).
	LogLevel, LogFormat string
	// DeadLetterLogstore is where failed ranges are recorded
	// (SHIP_DEADLETTER_LOGSTORE, in the source project); "" for none.
	DeadLetterLogstore string
	// DeadLetterKeys sign the records and verify them when read back
	// (SHIP_DEADLETTER_KEY, SHIP_DEADLETTER_KEY_PREVIOUS); set whenever
	// DeadLetterLogstore is. They print redacted.
	DeadLetterKeys deadletter.Keys
	// RedriveLogstores are the logstores of SLS.Project whose ranges
	// redrive may ship (SHIP_REDRIVE_LOGSTORES); never the dead-letter
	// logstore.
	RedriveLogstores []string
	// BatchMemory is the memory budget, in bytes, of the pulled batches
	// of all invocations in flight. It is not a variable: the runtime
	// derives it from the function's memory; 0 means a default.
	BatchMemory int64
	// SLS is where the commands that call SLS themselves read from.
	SLS SLS
	// Consume configures the consumer-group driver.
	Consume Consume
	// Credentials are the AccessKey pair of the commands run by hand
	// (ALIBABA_CLOUD_*); under FC, each invocation's are used instead.
	Credentials secret.Credentials
	// Warnings are settings that are valid but weaken security: logged
	// at every start, in every mode.
	Warnings []string
}

// SLS is the source: SLS_ENDPOINT (admitted by SLS_ALLOWED_ENDPOINTS),
// SLS_PROJECT, SLS_LOGSTORE and SLS_CONSUMER_GROUP; a name not read or not
// set is "".
type SLS struct {
	Endpoint                 string // scheme://host[:port]
	Project, Logstore, Group string
}

// Load reads the configuration of use (one or more uses: all the
// variables any of them reads) through getenv. Its error is Errors: every
// problem at once.
func Load(getenv func(string) string, use Use) (Config, error) {
	l := &loader{getenv: getenv, use: use}
	var c Config
	c.LogLevel = l.str(VarLogLevel)
	if use&UseCLI != 0 {
		c.LogFormat = l.str(VarLogFormat)
	}
	c.Endpoints = l.endpoints()
	c.Signing = l.signing()
	if use&UseFC != 0 {
		c.FC = l.fc()
	}
	if use&UseShipping != 0 {
		c.Syslog, c.Format = l.receiver()
		c.PullCount = l.integer(VarSLSPullCount)
		c.DeadlineMargin = l.duration(VarDeadlineMargin)
	}
	if use&deadLetter != 0 {
		c.DeadLetterLogstore, _ = l.logstore(VarShipDeadLetterLogstore, "the dead-letter logstore redrive reads")
		c.DeadLetterKeys = l.deadLetterKeys(c.DeadLetterLogstore != "")
	}
	if use&(UseRedrive|UseRedriveFC) != 0 {
		c.RedriveLogstores = l.redriveLogstores(c.DeadLetterLogstore)
	}
	if use&slsCoordinates != 0 {
		c.SLS = l.source(c.Endpoints)
		l.checkSigning(c.Signing, c.SLS.Endpoint)
	}
	if use&UseCLI != 0 {
		c.Credentials = l.credentials()
	}
	if use&consumer != 0 {
		c.Consume = l.consume(c.SLS, c.Credentials)
	}
	c.Warnings = l.warns
	return c, l.err()
}

// endpoints reads SLS_ALLOWED_ENDPOINTS and SLS_HTTPS.
func (l *loader) endpoints() trust.Endpoints {
	https := l.boolean(VarSLSHTTPS)
	e, err := trust.ParseEndpoints(l.str(VarSLSAllowedEndpoints), https)
	if err != nil { // the default never fails; a bad value was reported
		e, _ = trust.ParseEndpoints(trust.DefaultAllowed, https)
	}
	if !https {
		l.warn(VarSLSHTTPS, "is false: SLS requests (the logs and the STS token in a header) travel in plaintext unless the endpoint says https://")
	}
	return e
}

// source reads the SLS coordinates.
func (l *loader) source(allowed trust.Endpoints) SLS {
	var s SLS
	if v, ok := l.required(VarSLSEndpoint, "the SLS endpoint, e.g. cn-hangzhou-intranet.log.aliyuncs.com"); ok {
		ep, err := allowed.Admit(v.(string))
		if err != nil {
			l.fail(VarSLSEndpoint, "%v", err)
		}
		s.Endpoint = ep.URL
	}
	if v, ok := l.required(VarSLSProject, "the SLS project of the logstore"); ok {
		s.Project = v.(string)
	}
	if l.use&(consumer|UseStatus|UseBackfill) != 0 {
		s.Logstore, _ = l.logstore(VarSLSLogstore, "the logstore to consume")
	}
	if l.use&(consumer|UseStatus) != 0 {
		s.Group = l.str(VarSLSConsumerGroup)
	}
	return s
}

// deadLetterKeys reads the keys of the records' MACs, required when
// records are written or read (needed).
func (l *loader) deadLetterKeys(needed bool) deadletter.Keys {
	current, previous := l.str(VarShipDeadLetterKey), l.str(VarShipDeadLetterKeyPrevious)
	if needed && !l.set(VarShipDeadLetterKey) {
		l.missing(VarShipDeadLetterKey, fmt.Sprintf("the key that signs the dead-letter records of %s (at least %d bytes, such as the output of openssl rand -base64 32), the same in the trigger, consumer and redrive functions",
			VarShipDeadLetterLogstore, deadletter.MinKeyLen))
	}
	if current == "" {
		return deadletter.Keys{}
	}
	if previous == current {
		l.warn(VarShipDeadLetterKeyPrevious, "is the same as %s: remove it once every function has the new key", VarShipDeadLetterKey)
	}
	k, err := deadletter.NewKeys(current, previous)
	if err != nil { // the parsers reported it
		return deadletter.Keys{}
	}
	return k
}

// redriveLogstores reads SHIP_REDRIVE_LOGSTORES, which may not name the
// dead-letter logstore.
func (l *loader) redriveLogstores(deadLetter string) []string {
	v, ok := l.required(VarShipRedriveLogstores, "the logstores whose ranges redrive may ship: the ones the trigger reads (s.yaml sets the trigger's)")
	if !ok || v == nil {
		return nil
	}
	stores := v.([]string)
	if deadLetter != "" && slices.Contains(stores, deadLetter) {
		l.fail(VarShipRedriveLogstores, "names %s, the dead-letter logstore (%s): its records are never shipped to the SIEM", deadLetter, VarShipDeadLetterLogstore)
		return nil
	}
	return stores
}

// logstore reads a logstore name.
func (l *loader) logstore(name, what string) (string, bool) {
	v, ok := l.required(name, what)
	if !ok {
		return "", false
	}
	return v.(string), true
}

// credentials reads the ALIBABA_CLOUD_* AccessKey pair: the one way
// sls2siem builds credentials from the environment.
func (l *loader) credentials() secret.Credentials {
	c := secret.Credentials{
		AccessKeyID:     l.raw(VarAccessKeyID),
		AccessKeySecret: l.raw(VarAccessKeySecret),
		SecurityToken:   l.raw(VarSecurityToken),
	}
	for _, v := range []struct{ name, what string }{
		{VarAccessKeyID, "the AccessKey ID that signs SLS requests (and " + VarAccessKeySecret + ")"},
		{VarAccessKeySecret, "the secret of " + VarAccessKeyID},
	} {
		if !l.set(v.name) {
			l.missing(v.name, v.what)
		}
	}
	return c
}

func (l *loader) integer(name string) int {
	v, _ := l.get(name)
	n, _ := v.(int)
	return n
}

func (l *loader) duration(name string) time.Duration {
	v, _ := l.get(name)
	d, _ := v.(time.Duration)
	return d
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "-"
	}
	return h
}

// LogValue logs the effective configuration. The Config holds key
// material (the TLS client key) and may hold the AccessKey secret:
// nothing here may show them.
func (c Config) LogValue() slog.Value {
	s := c.Syslog
	t := s.Transport
	address := t.Address
	var several []slog.Attr
	if len(s.Receivers) > 1 {
		addrs := make([]string, len(s.Receivers))
		for i, r := range s.Receivers {
			addrs[i] = r.Address
		}
		address = strings.Join(addrs, ",")
		several = []slog.Attr{slog.String("balance", string(s.Balance)), slog.Int("failbackProbes", s.FailbackProbes),
			slog.String("probeInterval", s.ProbeInterval.String())}
	}
	attrs := append([]slog.Attr{slog.String("syslogAddress", address)}, several...)
	attrs = append(attrs,
		slog.String("protocol", t.Network),
		slog.String("framing", t.Framing),
		slog.Int("relpWindow", t.RELPWindow),
		slog.String("dialTimeout", t.DialTimeout.String()),
		slog.String("writeTimeout", t.WriteTimeout.String()),
		slog.String("idleTimeout", t.IdleTimeout.String()),
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
		slog.Any("deadLetterKeys", c.DeadLetterKeys),
	)
	if c.Signing.Version != "" {
		attrs = append(attrs, slog.Any("slsSignature", c.Signing))
	}
	if c.FC.Timeout > 0 {
		attrs = append(attrs, slog.String("functionTimeout", c.FC.Timeout.String()))
	}
	return slog.GroupValue(attrs...)
}
