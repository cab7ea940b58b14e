package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"sls2siem/internal/secret"
	"sls2siem/internal/trust"
)

// Consumer-group mode variables (sls2siem consume, and the FC timer
// variant). The SYSLOG_* variables and SLS_PULL_COUNT apply as well.
const (
	VarSLSEndpoint            = "SLS_ENDPOINT"
	VarSLSProject             = "SLS_PROJECT"
	VarSLSLogstore            = "SLS_LOGSTORE"
	VarSLSConsumerGroup       = "SLS_CONSUMER_GROUP"
	VarSLSConsumerName        = "SLS_CONSUMER_NAME"
	VarSLSCursorPosition      = "SLS_CURSOR_POSITION"
	VarSLSHeartbeatInterval   = "SLS_HEARTBEAT_INTERVAL"
	VarSLSHeartbeatTimeout    = "SLS_HEARTBEAT_TIMEOUT"
	VarSLSCheckpointInterval  = "SLS_CHECKPOINT_INTERVAL"
	VarSLSFetchInterval       = "SLS_FETCH_INTERVAL"
	VarSLSConsumerStopTimeout = "SLS_CONSUMER_STOP_TIMEOUT"
	VarAccessKeyID            = "ALIBABA_CLOUD_ACCESS_KEY_ID"
	VarAccessKeySecret        = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
	VarSecurityToken          = "ALIBABA_CLOUD_SECURITY_TOKEN"
	// The daemon's metrics and health endpoints (sls2siem consume only).
	VarShipMetricsAddr = "SHIP_METRICS_ADDR"
	VarShipStuckAfter  = "SHIP_STUCK_AFTER"
)

var consumeVars = []string{
	VarSLSEndpoint, VarSLSProject, VarSLSLogstore, VarSLSConsumerGroup, VarSLSConsumerName,
	VarSLSCursorPosition, VarSLSHeartbeatInterval, VarSLSHeartbeatTimeout,
	VarSLSCheckpointInterval, VarSLSFetchInterval, VarSLSConsumerStopTimeout,
	VarShipMetricsAddr, VarShipStuckAfter,
	VarAccessKeyID, VarAccessKeySecret, VarSecurityToken,
}

// Cursor positions of a consumer group with no checkpoint yet.
const (
	CursorBegin = "begin"
	CursorEnd   = "end"
)

// Consume is the configuration of the consumer-group driver.
type Consume struct {
	Endpoint string // SLS endpoint, e.g. cn-hangzhou-intranet.log.aliyuncs.com
	Project  string
	Logstore string
	Group    string // consumer group
	Name     string // consumer name, unique in the group

	// CursorPosition is CursorBegin, CursorEnd, or "" with CursorTime set
	// (unix seconds): where shards without a checkpoint start.
	CursorPosition string
	CursorTime     int64

	HeartbeatInterval  time.Duration // whole seconds
	HeartbeatTimeout   time.Duration // whole seconds: the group's timeout
	CheckpointInterval time.Duration // 0: save after every delivered batch
	FetchInterval      time.Duration // pause between pulls of a shard that is not busy
	StopTimeout        time.Duration // bound on a clean stop

	// MetricsAddr is where the daemon serves /metrics, /healthz and
	// /readyz (host:port); "" serves nothing. The FC variant ignores it.
	MetricsAddr string
	// StuckAfter is how long a shard may go without delivering a batch
	// while data waits before /healthz reports it stuck.
	StuckAfter time.Duration

	// Credentials of the daemon (the FC variant uses the invocation's);
	// they print redacted.
	Credentials secret.Credentials
}

// ConsumeFromEnv reads the consumer-group configuration from the process
// environment.
func ConsumeFromEnv() (Consume, error) {
	return ParseConsume(os.Getenv)
}

// ParseConsume reads the consumer-group configuration through getenv. It
// returns every problem found, joined, each naming its variable.
// Credentials are optional here: see RequireCredentials.
func ParseConsume(getenv func(string) string) (Consume, error) {
	p := parser{getenv: getenv}
	var c Consume
	c.Endpoint, _ = p.endpoint(VarSLSEndpoint)
	c.Project = p.name(VarSLSProject, "the SLS project to consume", trust.Project)
	c.Logstore = p.name(VarSLSLogstore, "the logstore to consume", trust.Logstore)
	c.Group = p.str(VarSLSConsumerGroup)
	if c.Group == "" {
		c.Group = "sls2siem"
	}
	c.Name = p.str(VarSLSConsumerName)
	if c.Name == "" {
		c.Name = defaultConsumerName()
	}
	c.CursorPosition, c.CursorTime = p.cursorPosition(VarSLSCursorPosition)
	c.HeartbeatInterval = p.seconds(VarSLSHeartbeatInterval, 20*time.Second)
	c.HeartbeatTimeout = p.seconds(VarSLSHeartbeatTimeout, 3*c.HeartbeatInterval)
	if c.HeartbeatTimeout < c.HeartbeatInterval {
		p.fail(VarSLSHeartbeatTimeout, "is %s, shorter than %s (%s): consumers would time out between heartbeats",
			c.HeartbeatTimeout, VarSLSHeartbeatInterval, c.HeartbeatInterval)
	}
	c.CheckpointInterval = p.duration(VarSLSCheckpointInterval, 10*time.Second)
	c.FetchInterval = p.duration(VarSLSFetchInterval, 200*time.Millisecond)
	c.StopTimeout = p.duration(VarSLSConsumerStopTimeout, 8*time.Second)
	if c.StopTimeout < time.Second {
		p.fail(VarSLSConsumerStopTimeout, "is %s: want at least 1s for the last batch, the checkpoints and the release of the shards", c.StopTimeout)
	}
	c.MetricsAddr = p.listenAddr(VarShipMetricsAddr)
	c.StuckAfter = p.durationRange(VarShipStuckAfter, 5*time.Minute, time.Second, 24*time.Hour)
	c.Credentials = secret.Credentials{
		AccessKeyID:     p.str(VarAccessKeyID),
		AccessKeySecret: p.getenv(VarAccessKeySecret),
		SecurityToken:   p.getenv(VarSecurityToken),
	}
	if len(p.errs) > 0 {
		return Consume{}, fmt.Errorf("invalid consumer-group configuration: %w", errors.Join(p.errs...))
	}
	return c, nil
}

// RequireCredentials fails unless an AccessKey pair is set, as the daemon
// needs one (the FC variant takes the invocation's STS credentials).
func (c Consume) RequireCredentials() error { return requireCredentials(c.Credentials, "the consumer") }

func requireCredentials(c secret.Credentials, who string) error {
	var missing []string
	if c.AccessKeyID == "" {
		missing = append(missing, VarAccessKeyID)
	}
	if c.AccessKeySecret == "" {
		missing = append(missing, VarAccessKeySecret)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s not set: %s needs an AccessKey pair (and %s for STS credentials)",
			strings.Join(missing, " and "), who, VarSecurityToken)
	}
	return nil
}

// Status is the configuration of `sls2siem status`: where to read a
// consumer group's progress, and with which AccessKey pair.
type Status struct {
	Endpoint string // SLS_ENDPOINT, admitted by Endpoints
	// Endpoints are SLS_ALLOWED_ENDPOINTS and SLS_HTTPS: the SLS
	// transport's guard.
	Endpoints trust.Endpoints
	// Project, Logstore and Group are SLS_PROJECT, SLS_LOGSTORE and
	// SLS_CONSUMER_GROUP (default sls2siem): the defaults of the command's
	// flags. Project and Logstore may be empty.
	Project, Logstore, Group string
	// Credentials print redacted.
	Credentials secret.Credentials
	// Warnings are settings that weaken security (SLS_HTTPS=false).
	Warnings []string
}

// ParseStatus reads the status command's configuration through getenv:
// the SLS endpoint (required), the allowed endpoints, the AccessKey pair
// (required) and the optional project, logstore and group.
func ParseStatus(getenv func(string) string) (Status, error) {
	p := parser{getenv: getenv}
	var s Status
	s.Endpoint, s.Endpoints = p.endpoint(VarSLSEndpoint)
	s.Project = p.optionalName(VarSLSProject, trust.Project)
	s.Logstore = p.optionalName(VarSLSLogstore, trust.Logstore)
	if s.Group = p.str(VarSLSConsumerGroup); s.Group == "" {
		s.Group = "sls2siem"
	}
	s.Credentials = secret.Credentials{
		AccessKeyID:     p.str(VarAccessKeyID),
		AccessKeySecret: p.getenv(VarAccessKeySecret),
		SecurityToken:   p.getenv(VarSecurityToken),
	}
	if err := requireCredentials(s.Credentials, "sls2siem status"); err != nil {
		p.errs = append(p.errs, err)
	}
	s.Warnings = p.warns
	if len(p.errs) > 0 {
		// The names still give the command's flags their defaults.
		s.Credentials = secret.Credentials{}
		return s, fmt.Errorf("invalid status configuration: %w", errors.Join(p.errs...))
	}
	return s, nil
}

// LogValue logs the consumer configuration without the secret and token.
func (c Consume) LogValue() slog.Value {
	cursor := c.CursorPosition
	if cursor == "" {
		cursor = strconv.FormatInt(c.CursorTime, 10)
	}
	return slog.GroupValue(
		slog.String("endpoint", c.Endpoint),
		slog.String("project", c.Project),
		slog.String("logstore", c.Logstore),
		slog.String("consumerGroup", c.Group),
		slog.String("consumer", c.Name),
		slog.String("cursorPosition", cursor),
		slog.String("heartbeatInterval", c.HeartbeatInterval.String()),
		slog.String("heartbeatTimeout", c.HeartbeatTimeout.String()),
		slog.String("checkpointInterval", c.CheckpointInterval.String()),
		slog.String("fetchInterval", c.FetchInterval.String()),
		slog.String("stopTimeout", c.StopTimeout.String()),
		slog.String("metricsAddr", c.MetricsAddr),
		slog.String("stuckAfter", c.StuckAfter.String()),
		slog.Any("credentials", c.Credentials),
	)
}

// String redacts like LogValue, so that printing a Consume never shows the
// secret.
func (c Consume) String() string { return c.LogValue().String() }

// GoString redacts like String.
func (c Consume) GoString() string { return c.String() }

func defaultConsumerName() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "sls2siem"
	}
	return h + "-" + strconv.Itoa(os.Getpid())
}

func (p *parser) required(name, what string) string {
	v := p.str(name)
	if v == "" {
		p.fail(name, "is not set: give %s", what)
	}
	return v
}

// endpoint reads an SLS endpoint and admits it by SLS_ALLOWED_ENDPOINTS
// and SLS_HTTPS, as the trigger path admits an event's endpoint; it
// returns the admitted endpoint's URL and the allowed endpoints.
func (p *parser) endpoint(name string) (string, trust.Endpoints) {
	v := p.required(name, "the SLS endpoint, e.g. cn-hangzhou-intranet.log.aliyuncs.com")
	errs := len(p.errs)
	allowed := p.endpoints()
	if v == "" || len(p.errs) > errs {
		return "", allowed
	}
	ep, err := allowed.Admit(v)
	if err != nil {
		p.fail(name, "%v", err)
		return "", allowed
	}
	return ep.URL, allowed
}

// name reads a required SLS project or logstore name and checks it.
func (p *parser) name(name, what string, check func(string) error) string {
	v := p.required(name, what)
	if v == "" {
		return ""
	}
	if err := check(v); err != nil {
		p.fail(name, "%v", err)
		return ""
	}
	return v
}

// optionalName reads an SLS project or logstore name that may be unset.
func (p *parser) optionalName(name string, check func(string) error) string {
	v := p.str(name)
	if v == "" {
		return ""
	}
	if err := check(v); err != nil {
		p.fail(name, "%v", err)
		return ""
	}
	return v
}

// cursorPosition reads begin, end or a unix time in seconds.
func (p *parser) cursorPosition(name string) (string, int64) {
	v := strings.ToLower(p.str(name))
	switch v {
	case "", CursorEnd:
		return CursorEnd, 0
	case CursorBegin:
		return CursorBegin, 0
	}
	t, err := strconv.ParseInt(v, 10, 64)
	if err != nil || t <= 0 {
		p.fail(name, "is %s: accepted values are begin, end or a unix time in seconds", q(v))
		return CursorEnd, 0
	}
	return "", t
}

// seconds reads a duration of whole seconds, at least one.
func (p *parser) seconds(name string, def time.Duration) time.Duration {
	d := p.duration(name, def)
	if d < time.Second || d%time.Second != 0 {
		p.fail(name, "is %s: want whole seconds, at least 1s (e.g. 20s)", q(p.str(name)))
		return def
	}
	return d
}

// listenAddr reads an optional TCP listen address: host:port, the host
// empty (every interface), an IP address or a host name, the port 1–65535.
func (p *parser) listenAddr(name string) string {
	v := p.str(name)
	if v == "" {
		return ""
	}
	bad := func(why string) string {
		p.fail(name, "is %s: %s; want host:port, such as 127.0.0.1:9464 or :9464", q(v), why)
		return ""
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return bad("not host:port")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return bad("the port must be a number from 1 to 65535")
	}
	if host != "" && net.ParseIP(host) == nil && !validHost(host) {
		return bad("the host must be empty, an IP address or a host name")
	}
	return v
}
