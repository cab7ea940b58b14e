package config

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"sls2siem/internal/format"
	"sls2siem/internal/transport"
)

// formatFields names the variables of format.Options' fields.
var formatFields = map[string]string{
	"Syntax": VarSyslogFormat, "Body": VarSyslogBody, "Facility": VarSyslogFacility, "Severity": VarSyslogSeverity,
	"Hostname": VarSyslogHostname, "AppName": VarSyslogTag, "ProcID": VarSyslogProcID, "MsgID": VarSyslogMsgID,
	"SDID": VarSyslogSDID, "SDKeys": VarSyslogSDKeys, "Origin": VarSyslogOriginSD, "BOM": VarSyslogBOM,
	"MaxSize": VarSyslogMaxMessageSize, "Vendor": VarSyslogVendor, "Product": VarSyslogProduct, "Version": VarSyslogVersion,
	"EventID": VarSyslogEventID, "EventName": VarSyslogEventName, "LEEFDelimiter": VarSyslogLEEFDelim,
}

// format reads the variables of the messages onto format.Options, for
// the transport t.
func (l *loader) format(t transport.Config) format.Options {
	f := format.DefaultOptions()
	f.Syntax, f.Body = l.str(VarSyslogFormat), l.str(VarSyslogBody)
	f.Location, _ = l.value(VarSyslogTimezone).(*time.Location)
	f.Facility, _ = l.value(VarSyslogFacility).(int)
	f.Severity, _ = l.value(VarSyslogSeverity).(int)
	f.Hostname = format.SanitizeHeader(hostname(), format.MaxHostname)
	if v, ok := l.get(VarSyslogHostname); ok {
		f.Hostname = v.(string)
	}
	f.AppName, f.ProcID, f.MsgID = l.str(VarSyslogTag), l.str(VarSyslogProcID), l.str(VarSyslogMsgID)
	f.BOM, f.Origin = l.boolean(VarSyslogBOM), l.boolean(VarSyslogOriginSD)
	f.SeverityKeys, f.FacilityKeys = l.strs(VarSyslogSeverityKey), l.strs(VarSyslogFacilityKey)
	f.HostnameKeys, f.AppNameKeys = l.strs(VarSyslogHostnameKey), l.strs(VarSyslogAppNameKey)
	f.ProcIDKeys, f.MsgIDKeys = l.strs(VarSyslogProcIDKey), l.strs(VarSyslogMsgIDKey)
	f.SDKeys, f.SDID = l.strs(VarSyslogSDKeys), l.str(VarSyslogSDID)
	f.IncludeKeys, f.ExcludeKeys = l.strs(VarSyslogIncludeKeys), l.strs(VarSyslogExcludeKeys)
	f.DropOversize = l.str(VarSyslogOversize) == "drop"
	f.Vendor, f.Product, f.Version = l.str(VarSyslogVendor), l.str(VarSyslogProduct), l.str(VarSyslogVersion)
	f.EventIDKeys, f.EventID = l.strs(VarSyslogEventIDKey), l.str(VarSyslogEventID)
	f.EventNameKeys, f.EventName = l.strs(VarSyslogEventNameKey), l.str(VarSyslogEventName)
	f.LEEFDelimiter, _ = l.value(VarSyslogLEEFDelim).(byte)
	f.MaxSize = l.maxMessageSize(t.Network)
	// Line framing cannot carry a raw line break: escape them.
	f.EscapeBreaks = t.Network != transport.NetworkUDP && t.Framing == transport.FramingLF
	l.validated(f.Validate(), formatFields)
	return f
}

// value is get's value alone.
func (l *loader) value(name string) any {
	v, _ := l.get(name)
	return v
}

// maxMessageSize reads SYSLOG_MAX_MESSAGE_SIZE within the network's
// limits.
func (l *loader) maxMessageSize(network string) int {
	def, most := transport.MessageLimits(network)
	v, ok := l.get(VarSyslogMaxMessageSize)
	if !ok {
		return def
	}
	if n := v.(int); n <= most {
		return n
	}
	l.fail(VarSyslogMaxMessageSize, "is %q: want a whole number from %d to %d (%s)", l.raw(VarSyslogMaxMessageSize), format.MinMaxSize, most,
		"one UDP datagram")
	return def
}

// formatSummary describes the format settings for the start log line.
func formatSummary(f format.Options) slog.Value {
	attrs := []slog.Attr{
		slog.String("syntax", f.Syntax),
		slog.String("body", f.Body),
		slog.Int("facility", f.Facility),
		slog.Int("severity", f.Severity),
		slog.String("hostname", f.Hostname),
		slog.String("appName", f.AppName),
		slog.Int("maxMessageSize", f.MaxSize),
		slog.String("timezone", locationName(f.Location)),
		slog.Bool("bom", f.BOM),
		slog.String("procID", f.ProcID),
		slog.String("msgID", f.MsgID),
		slog.Bool("originSD", f.Origin),
		slog.String("oversize", map[bool]string{false: "truncate", true: "drop"}[f.DropOversize]),
	}
	for _, k := range []struct {
		name string
		keys []string
	}{
		{"severityKey", f.SeverityKeys}, {"facilityKey", f.FacilityKeys}, {"hostnameKey", f.HostnameKeys},
		{"appNameKey", f.AppNameKeys}, {"procIDKey", f.ProcIDKeys}, {"msgIDKey", f.MsgIDKeys},
		{"sdKeys", f.SDKeys}, {"includeKeys", f.IncludeKeys}, {"excludeKeys", f.ExcludeKeys},
	} {
		if len(k.keys) > 0 {
			attrs = append(attrs, slog.String(k.name, strings.Join(k.keys, ",")))
		}
	}
	if len(f.SDKeys) > 0 {
		attrs = append(attrs, slog.String("sdID", f.SDID))
	}
	return slog.GroupValue(append(attrs, bodySummary(f)...)...)
}

// bodySummary describes the CEF and LEEF settings.
func bodySummary(f format.Options) []slog.Attr {
	var attrs []slog.Attr
	if f.Body == format.BodyCEF || f.Body == format.BodyLEEF {
		attrs = append(attrs,
			slog.String("vendor", f.Vendor), slog.String("product", f.Product), slog.String("version", f.Version),
			slog.String("eventIDKey", strings.Join(f.EventIDKeys, ",")), slog.String("eventID", f.EventID))
	}
	if f.Body == format.BodyCEF {
		attrs = append(attrs, slog.String("eventNameKey", strings.Join(f.EventNameKeys, ",")), slog.String("eventName", f.EventName))
	}
	if f.Body == format.BodyLEEF {
		d := "tab (LEEF 1.0)"
		if f.LEEFDelimiter != 0 {
			d = fmt.Sprintf("%q (LEEF 2.0)", f.LEEFDelimiter)
		}
		attrs = append(attrs, slog.String("leefDelimiter", d))
	}
	return attrs
}

func locationName(l *time.Location) string {
	if l == nil {
		return "UTC"
	}
	return l.String()
}

// tlsSummary describes the TLS settings for the start log line; it says
// whether a key is configured, never what it is.
func tlsSummary(s Syslog) slog.Value {
	t := s.Transport.TLS
	if t == nil {
		return slog.StringValue("off")
	}
	return slog.GroupValue(
		slog.String("serverName", t.ServerName),
		slog.Bool("customCA", t.RootCAs != nil),
		slog.Bool("clientCertificate", len(t.Certificates) > 0),
		slog.Bool("insecureSkipVerify", s.TLSInsecure),
	)
}
