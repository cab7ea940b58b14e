package config

import "slices"

// Names of the environment variables the shipper reads.
const (
	VarSyslogHost           = "SYSLOG_HOST"
	VarSyslogPort           = "SYSLOG_PORT"
	VarSyslogProtocol       = "SYSLOG_PROTOCOL"
	VarSyslogFraming        = "SYSLOG_FRAMING"
	VarSyslogFacility       = "SYSLOG_FACILITY"
	VarSyslogSeverity       = "SYSLOG_SEVERITY"
	VarSyslogHostname       = "SYSLOG_HOSTNAME"
	VarSyslogTag            = "SYSLOG_TAG"
	VarSyslogMaxMessageSize = "SYSLOG_MAX_MESSAGE_SIZE"
	VarSyslogDialTimeout    = "SYSLOG_DIAL_TIMEOUT"
	VarSyslogWriteTimeout   = "SYSLOG_WRITE_TIMEOUT"
	VarSyslogIdleTimeout    = "SYSLOG_IDLE_TIMEOUT"
	VarSLSPullCount         = "SLS_PULL_COUNT"
	VarSLSAllowedEndpoints  = "SLS_ALLOWED_ENDPOINTS"
	VarSLSHTTPS             = "SLS_HTTPS"
	VarDeadlineMargin       = "SHIP_DEADLINE_MARGIN"
	VarLogLevel             = "LOG_LEVEL"
)

// Vars lists every variable Parse reads, in the order of the README table.
var Vars = slices.Concat(coreVars, transportVars, formatVars, consumeVars, deadLetterVars)

var coreVars = []string{
	VarSyslogHost, VarSyslogPort, VarSyslogProtocol, VarSyslogFraming,
	VarSyslogFacility, VarSyslogSeverity, VarSyslogHostname, VarSyslogTag,
	VarSyslogMaxMessageSize, VarSyslogDialTimeout, VarSyslogWriteTimeout,
	VarSyslogIdleTimeout, VarSLSPullCount, VarSLSAllowedEndpoints, VarSLSHTTPS,
	VarDeadlineMargin, VarLogLevel,
}
