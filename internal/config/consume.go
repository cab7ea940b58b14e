package config

import (
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"sls2siem/internal/secret"
)

// Consume is the configuration of the consumer-group driver.
type Consume struct {
	Endpoint string // SLS endpoint, admitted: scheme://host[:port]
	Project  string
	Logstore string
	Group    string // consumer group
	Name     string // consumer name, unique in the group

	// Start is where shards without a checkpoint start.
	Start CursorStart

	HeartbeatInterval  time.Duration // whole seconds
	HeartbeatTimeout   time.Duration // whole seconds: the group's timeout
	CheckpointInterval time.Duration // 0: save after every delivered batch
	FetchInterval      time.Duration // pause between pulls of a shard that is not busy
	StopTimeout        time.Duration // bound on a clean stop

	// MetricsAddr is where the daemon serves /metrics, /healthz and
	// /readyz (host:port); "" serves nothing. The FC variant has none.
	MetricsAddr string
	// MetricsHosts, when set, are the only names the Host header of a
	// request to MetricsAddr may give.
	MetricsHosts []string
	// StuckAfter is how long a shard may go without delivering a batch
	// while data waits before /healthz reports it stuck.
	StuckAfter time.Duration

	// Credentials of the daemon (the FC variant uses the invocation's);
	// they print redacted.
	Credentials secret.Credentials
}

// consume reads the consumer-group settings.
func (l *loader) consume(src SLS, creds secret.Credentials) Consume {
	c := Consume{Endpoint: src.Endpoint, Project: src.Project, Logstore: src.Logstore, Group: src.Group, Credentials: creds}
	c.Name = l.str(VarSLSConsumerName)
	if c.Name == "" {
		c.Name = defaultConsumerName()
	}
	c.Start, _ = l.value(VarSLSCursorPosition).(CursorStart)
	c.HeartbeatInterval = l.duration(VarSLSHeartbeatInterval)
	c.HeartbeatTimeout = 3 * c.HeartbeatInterval
	if v, ok := l.get(VarSLSHeartbeatTimeout); ok {
		c.HeartbeatTimeout = v.(time.Duration)
		if c.HeartbeatTimeout < c.HeartbeatInterval {
			l.fail(VarSLSHeartbeatTimeout, "is %s, shorter than %s (%s): consumers would time out between heartbeats",
				c.HeartbeatTimeout, VarSLSHeartbeatInterval, c.HeartbeatInterval)
		}
	}
	c.CheckpointInterval = l.duration(VarSLSCheckpointInterval)
	c.FetchInterval = l.duration(VarSLSFetchInterval)
	c.StopTimeout = l.duration(VarSLSConsumerStopTimeout)
	if l.use&UseConsume != 0 {
		c.MetricsAddr = l.str(VarShipMetricsAddr)
		c.MetricsHosts = l.strs(VarShipMetricsAllowedHosts)
		c.StuckAfter = l.duration(VarShipStuckAfter)
		if host, _, err := net.SplitHostPort(c.MetricsAddr); err == nil && everyInterface(host) && len(c.MetricsHosts) == 0 {
			l.warn(VarShipMetricsAddr, "is %s: the metrics and health endpoints (no authentication) answer on every interface; bind 127.0.0.1 or an address only the scraper reaches, and set %s",
				c.MetricsAddr, VarShipMetricsAllowedHosts)
		}
	}
	return c
}

// LogValue logs the consumer configuration without the secret and token.
func (c Consume) LogValue() slog.Value {
	cursor := c.Start.Position
	if cursor == "" {
		cursor = strconv.FormatInt(c.Start.Time, 10)
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
		slog.Any("metricsAllowedHosts", c.MetricsHosts),
		slog.String("stuckAfter", c.StuckAfter.String()),
		slog.Any("credentials", c.Credentials),
	)
}

// String redacts like LogValue, so that printing a Consume never shows the
// secret.
func (c Consume) String() string { return c.LogValue().String() }

// GoString redacts like String.
func (c Consume) GoString() string { return c.String() }

// everyInterface reports whether a listen host is the wildcard.
func everyInterface(host string) bool {
	ip := net.ParseIP(host)
	return host == "" || ip != nil && ip.IsUnspecified()
}

func defaultConsumerName() string {
	return hostnameOr("sls2siem") + "-" + strconv.Itoa(os.Getpid())
}

func hostnameOr(def string) string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return def
	}
	return h
}
