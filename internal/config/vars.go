package config

import "strings"

// Names of the environment variables sls2siem reads. Each is declared
// once, with what it means, in Vars.
const (
	VarSyslogHost           = "SYSLOG_HOST"
	VarSyslogPort           = "SYSLOG_PORT"
	VarSyslogBalance        = "SYSLOG_BALANCE"
	VarSyslogFailbackProbes = "SYSLOG_FAILBACK_PROBES"
	VarSyslogProbeInterval  = "SYSLOG_PROBE_INTERVAL"
	VarSyslogProtocol       = "SYSLOG_PROTOCOL"
	VarSyslogFraming        = "SYSLOG_FRAMING"
	VarSyslogRELPWindow     = "SYSLOG_RELP_WINDOW"
	VarSyslogFacility       = "SYSLOG_FACILITY"
	VarSyslogSeverity       = "SYSLOG_SEVERITY"
	VarSyslogHostname       = "SYSLOG_HOSTNAME"
	VarSyslogTag            = "SYSLOG_TAG"
	VarSyslogMaxMessageSize = "SYSLOG_MAX_MESSAGE_SIZE"
	VarSyslogDialTimeout    = "SYSLOG_DIAL_TIMEOUT"
	VarSyslogWriteTimeout   = "SYSLOG_WRITE_TIMEOUT"
	VarSyslogIdleTimeout    = "SYSLOG_IDLE_TIMEOUT"
	VarSyslogMaxRetries     = "SYSLOG_MAX_RETRIES"
	VarSyslogRetryBackoff   = "SYSLOG_RETRY_BACKOFF"

	VarSyslogTLSCAFile             = "SYSLOG_TLS_CA_FILE"
	VarSyslogTLSCA                 = "SYSLOG_TLS_CA"
	VarSyslogTLSServerName         = "SYSLOG_TLS_SERVER_NAME"
	VarSyslogTLSCertFile           = "SYSLOG_TLS_CERT_FILE"
	VarSyslogTLSKeyFile            = "SYSLOG_TLS_KEY_FILE"
	VarSyslogTLSCert               = "SYSLOG_TLS_CERT"
	VarSyslogTLSKey                = "SYSLOG_TLS_KEY"
	VarSyslogTLSMinVersion         = "SYSLOG_TLS_MIN_VERSION"
	VarSyslogTLSInsecureSkipVerify = "SYSLOG_TLS_INSECURE_SKIP_VERIFY"

	VarSyslogFormat       = "SYSLOG_FORMAT"
	VarSyslogBody         = "SYSLOG_BODY"
	VarSyslogTimezone     = "SYSLOG_TIMEZONE"
	VarSyslogBOM          = "SYSLOG_BOM"
	VarSyslogProcID       = "SYSLOG_PROCID"
	VarSyslogMsgID        = "SYSLOG_MSGID"
	VarSyslogSeverityKey  = "SYSLOG_SEVERITY_KEY"
	VarSyslogFacilityKey  = "SYSLOG_FACILITY_KEY"
	VarSyslogHostnameKey  = "SYSLOG_HOSTNAME_KEY"
	VarSyslogAppNameKey   = "SYSLOG_APPNAME_KEY"
	VarSyslogProcIDKey    = "SYSLOG_PROCID_KEY"
	VarSyslogMsgIDKey     = "SYSLOG_MSGID_KEY"
	VarSyslogSDKeys       = "SYSLOG_SD_KEYS"
	VarSyslogSDID         = "SYSLOG_SD_ID"
	VarSyslogOriginSD     = "SYSLOG_ORIGIN_SD"
	VarSyslogIncludeKeys  = "SYSLOG_INCLUDE_KEYS"
	VarSyslogExcludeKeys  = "SYSLOG_EXCLUDE_KEYS"
	VarSyslogOversize     = "SYSLOG_OVERSIZE"
	VarSyslogVendor       = "SYSLOG_DEVICE_VENDOR"
	VarSyslogProduct      = "SYSLOG_DEVICE_PRODUCT"
	VarSyslogVersion      = "SYSLOG_DEVICE_VERSION"
	VarSyslogEventIDKey   = "SYSLOG_EVENT_ID_KEY"
	VarSyslogEventID      = "SYSLOG_EVENT_ID"
	VarSyslogEventNameKey = "SYSLOG_EVENT_NAME_KEY"
	VarSyslogEventName    = "SYSLOG_EVENT_NAME"
	VarSyslogLEEFDelim    = "SYSLOG_LEEF_DELIMITER"

	VarSLSPullCount           = "SLS_PULL_COUNT"
	VarSLSAllowedEndpoints    = "SLS_ALLOWED_ENDPOINTS"
	VarSLSHTTPS               = "SLS_HTTPS"
	VarSLSSignatureVersion    = "SLS_SIGNATURE_VERSION"
	VarSLSRegion              = "SLS_REGION"
	VarShipFunctionTimeout    = "SHIP_FUNCTION_TIMEOUT"
	VarShipFunction           = "SHIP_FUNCTION"
	VarDeadlineMargin         = "SHIP_DEADLINE_MARGIN"
	VarShipDeadLetterLogstore = "SHIP_DEADLETTER_LOGSTORE"
	// The dead-letter records' MAC keys and redrive's sources (issue 18).
	VarShipDeadLetterKey         = "SHIP_DEADLETTER_KEY"
	VarShipDeadLetterKeyPrevious = "SHIP_DEADLETTER_KEY_PREVIOUS"
	VarShipRedriveLogstores      = "SHIP_REDRIVE_LOGSTORES"
	VarLogLevel                  = "LOG_LEVEL"
	VarLogFormat                 = "LOG_FORMAT"

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
	VarShipMetricsAddr        = "SHIP_METRICS_ADDR"
	VarShipStuckAfter         = "SHIP_STUCK_AFTER"
	// The metrics server's Host check (issue 18).
	VarShipMetricsAllowedHosts = "SHIP_METRICS_ALLOWED_HOSTS"

	VarAccessKeyID     = "ALIBABA_CLOUD_ACCESS_KEY_ID"
	VarAccessKeySecret = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
	VarSecurityToken   = "ALIBABA_CLOUD_SECURITY_TOKEN"

	VarFCRuntimeAPI   = "FC_RUNTIME_API"
	VarFCServerPort   = "FC_SERVER_PORT"
	VarFCListenPort   = "FC_CUSTOM_LISTEN_PORT"
	VarFCFunctionName = "FC_FUNCTION_NAME"
	VarFCMemorySize   = "FC_FUNCTION_MEMORY_SIZE"
)

// Use is a set of the ways sls2siem runs (its commands and FC functions):
// what reads a variable, what a configuration is loaded for.
type Use uint16

// The uses.
const (
	// UseTrigger is the SLS trigger's function: sls2siem serve (or no
	// command) under FC, for SLS trigger events.
	UseTrigger Use = 1 << iota
	// UseTimer is the consumer-group function's timer events (the same
	// server: s.yaml's sls2siem-consumer).
	UseTimer
	// UseShip is sls2siem ship: one trigger event by hand.
	UseShip
	// UseConsume is the sls2siem consume daemon.
	UseConsume
	// UseStatus is sls2siem status.
	UseStatus
	// UseRedrive is one sls2siem redrive pass by hand.
	UseRedrive
	// UseRedriveFC is the redrive function: sls2siem redrive -serve.
	UseRedriveFC
	// UseBackfill is sls2siem backfill.
	UseBackfill
)

// Groups of uses.
const (
	// UseShipping are the uses that send logs to the receiver.
	UseShipping = UseTrigger | UseTimer | UseShip | UseConsume | UseRedrive | UseRedriveFC | UseBackfill
	// UseCLI are the commands run by hand (outside FC), with the
	// ALIBABA_CLOUD_* AccessKey pair.
	UseCLI = UseShip | UseConsume | UseStatus | UseRedrive | UseBackfill
	// UseFC are the uses under Function Compute, with the invocation's
	// credentials.
	UseFC = UseTrigger | UseTimer | UseRedriveFC
	// UseAll is every use.
	UseAll = UseShipping | UseStatus
)

// useNames name the uses, in order.
var useNames = []struct {
	u    Use
	name string
}{
	{UseTrigger, "the trigger function"}, {UseTimer, "the consumer-group function"}, {UseShip, "ship"}, {UseConsume, "consume"},
	{UseStatus, "status"}, {UseRedrive, "redrive"}, {UseRedriveFC, "the redrive function"}, {UseBackfill, "backfill"},
}

// String names the uses of u, e.g. "ship, consume".
func (u Use) String() string {
	var out []string
	for _, n := range useNames {
		if u&n.u != 0 {
			out = append(out, n.name)
		}
	}
	return strings.Join(out, ", ")
}

// Var declares one environment variable: its name, its default, its
// parser, the uses that read it and the ones that require it, whether it
// is secret, and what it is for.
type Var struct {
	Name string
	// Default is the value that applies when the variable is unset (""
	// for none, or when it is computed: then Shown says what it is).
	Default string
	// Shown is the default as docs/configuration.md's table gives it,
	// when it is not Default itself.
	Shown string
	// Uses read the variable; Required must set it.
	Uses, Required Use
	// Secret values are never shown, not even in part.
	Secret bool
	// ByFC is set by Function Compute, not by the user.
	ByFC bool
	// Doc says in one line what it is for.
	Doc string

	parse parser
}

// Lookup returns the declaration of the variable name.
func Lookup(name string) (Var, bool) {
	v, ok := byName[name]
	return v, ok
}

var byName = func() map[string]Var {
	m := make(map[string]Var, len(Vars))
	for _, v := range Vars {
		if _, dup := m[v.Name]; dup {
			panic("config: " + v.Name + " is declared twice")
		}
		m[v.Name] = v
	}
	return m
}()

// Names returns the names of the variables read by any of uses, in the
// order of Vars.
func Names(uses Use) []string {
	var out []string
	for _, v := range Vars {
		if v.Uses&uses != 0 {
			out = append(out, v.Name)
		}
	}
	return out
}
