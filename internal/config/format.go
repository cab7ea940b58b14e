package config

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // SYSLOG_TIMEZONE works on runtimes without a zoneinfo database

	"sls2siem/internal/format"
)

// Format variables: message syntax, body, field mapping, structured data
// and size rules.
const (
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
	VarSyslogSDID         = "SYSLOG_SD_ID"
	VarSyslogSDKeys       = "SYSLOG_SD_KEYS"
	VarSyslogIncludeKeys  = "SYSLOG_INCLUDE_KEYS"
	VarSyslogExcludeKeys  = "SYSLOG_EXCLUDE_KEYS"
	VarSyslogOriginSD     = "SYSLOG_ORIGIN_SD"
	VarSyslogOversize     = "SYSLOG_OVERSIZE"
	VarSyslogVendor       = "SYSLOG_DEVICE_VENDOR"
	VarSyslogProduct      = "SYSLOG_DEVICE_PRODUCT"
	VarSyslogVersion      = "SYSLOG_DEVICE_VERSION"
	VarSyslogEventIDKey   = "SYSLOG_EVENT_ID_KEY"
	VarSyslogEventID      = "SYSLOG_EVENT_ID"
	VarSyslogEventNameKey = "SYSLOG_EVENT_NAME_KEY"
	VarSyslogEventName    = "SYSLOG_EVENT_NAME"
	VarSyslogLEEFDelim    = "SYSLOG_LEEF_DELIMITER"
)

var formatVars = []string{
	VarSyslogFormat, VarSyslogBody, VarSyslogTimezone, VarSyslogBOM,
	VarSyslogProcID, VarSyslogMsgID,
	VarSyslogSeverityKey, VarSyslogFacilityKey, VarSyslogHostnameKey,
	VarSyslogAppNameKey, VarSyslogProcIDKey, VarSyslogMsgIDKey,
	VarSyslogSDID, VarSyslogSDKeys, VarSyslogIncludeKeys, VarSyslogExcludeKeys,
	VarSyslogOriginSD, VarSyslogOversize,
	VarSyslogVendor, VarSyslogProduct, VarSyslogVersion,
	VarSyslogEventIDKey, VarSyslogEventID, VarSyslogEventNameKey, VarSyslogEventName,
	VarSyslogLEEFDelim,
}

func (p *parser) parseFormat(c *Config) {
	f := &c.Format
	f.Syntax = p.oneOf(VarSyslogFormat, format.SyntaxRFC5424, format.SyntaxRFC5424, format.SyntaxRFC3164)
	f.Body = p.oneOf(VarSyslogBody, format.BodyKV, format.BodyKV, format.BodyJSON, format.BodyCEF, format.BodyLEEF)
	f.Location = p.timezone(VarSyslogTimezone)
	f.BOM = p.boolean(VarSyslogBOM)
	f.ProcID = p.headerField(VarSyslogProcID, "-", 128)
	f.MsgID = p.headerField(VarSyslogMsgID, "-", 32)

	f.SeverityKeys = p.list(VarSyslogSeverityKey)
	f.FacilityKeys = p.list(VarSyslogFacilityKey)
	f.HostnameKeys = p.list(VarSyslogHostnameKey)
	f.AppNameKeys = p.list(VarSyslogAppNameKey)
	f.ProcIDKeys = p.list(VarSyslogProcIDKey)
	f.MsgIDKeys = p.list(VarSyslogMsgIDKey)

	f.SDKeys = p.list(VarSyslogSDKeys)
	f.SDID = p.str(VarSyslogSDID)
	switch {
	case f.SDID == "":
		f.SDID = "fields@32473"
	case !format.ValidSDName(f.SDID):
		p.fail(VarSyslogSDID, "is %s: want 1 to 32 printable US-ASCII characters without '=', ']', '\"' or spaces, such as fields@32473 (name@<your IANA enterprise number>)", q(f.SDID))
	case f.SDID == format.OriginSDID:
		p.fail(VarSyslogSDID, "is %s, the SD-ID of the origin element: choose another", q(f.SDID))
	}
	f.Origin = p.boolean(VarSyslogOriginSD)
	f.IncludeKeys = p.list(VarSyslogIncludeKeys)
	f.ExcludeKeys = p.list(VarSyslogExcludeKeys)
	f.DropOversize = p.oneOf(VarSyslogOversize, "truncate", "truncate", "drop") == "drop"

	if f.Syntax == format.SyntaxRFC3164 {
		for _, v := range []struct {
			name string
			set  bool
		}{{VarSyslogSDKeys, len(f.SDKeys) > 0}, {VarSyslogOriginSD, f.Origin}, {VarSyslogBOM, f.BOM}} {
			if v.set {
				p.fail(v.name, "needs %s=rfc5424: RFC 3164 has no structured data and no BOM", VarSyslogFormat)
			}
		}
	}

	f.Vendor = p.leefSafe(VarSyslogVendor, "Alibaba Cloud")
	f.Product = p.leefSafe(VarSyslogProduct, "SLS")
	f.Version = p.leefSafe(VarSyslogVersion, "1.0")
	f.EventIDKeys = p.listDefault(VarSyslogEventIDKey, format.KeyTopic)
	f.EventID = p.leefSafe(VarSyslogEventID, "sls-log")
	f.EventNameKeys = p.list(VarSyslogEventNameKey)
	f.EventName = p.leefSafe(VarSyslogEventName, "SLS log")
	if v := p.getenv(VarSyslogLEEFDelim); v != "" {
		d, err := format.ParseLEEFDelimiter(v)
		if err != nil {
			p.fail(VarSyslogLEEFDelim, "is %s: %v", q(v), err)
		}
		f.LEEFDelimiter = d
	}
}

// boolean reads true or false.
func (p *parser) boolean(name string) bool {
	return p.oneOf(name, "false", "true", "false") == "true"
}

// list reads a comma-separated list of field names.
func (p *parser) list(name string) []string {
	var out []string
	for _, s := range strings.Split(p.str(name), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) listDefault(name string, def ...string) []string {
	if l := p.list(name); len(l) > 0 {
		return l
	}
	return def
}

// leefSafe reads a CEF/LEEF header constant: no '|' and no control
// characters.
func (p *parser) leefSafe(name, def string) string {
	v := p.str(name)
	if v == "" {
		return def
	}
	for _, r := range v {
		if r == '|' || r < 0x20 || r == 0x7f {
			p.fail(name, "is %s: want text without '|' or control characters", q(v))
			return def
		}
	}
	if len(v) > 255 {
		p.fail(name, "is %d bytes long: at most 255", len(v))
		return def
	}
	return v
}

// timezone reads an IANA zone name (Asia/Shanghai), UTC, or a fixed offset
// (+08:00, -0530).
func (p *parser) timezone(name string) *time.Location {
	v := p.str(name)
	if v == "" || strings.EqualFold(v, "UTC") || v == "Z" {
		return time.UTC
	}
	if loc, ok := fixedZone(v); ok {
		return loc
	}
	loc, err := time.LoadLocation(v)
	if err != nil || v == "Local" {
		p.fail(name, "is %s: want an IANA time zone such as Asia/Shanghai, UTC, or an offset such as +08:00", q(v))
		return time.UTC
	}
	return loc
}

// fixedZone parses ±hh:mm or ±hhmm.
func fixedZone(v string) (*time.Location, bool) {
	if len(v) < 5 || (v[0] != '+' && v[0] != '-') {
		return nil, false
	}
	digits := strings.Replace(v[1:], ":", "", 1)
	if len(digits) != 4 {
		return nil, false
	}
	h, err1 := strconv.Atoi(digits[:2])
	m, err2 := strconv.Atoi(digits[2:])
	if err1 != nil || err2 != nil || h > 14 || m > 59 {
		return nil, false
	}
	off := h*3600 + m*60
	if v[0] == '-' {
		off = -off
	}
	return time.FixedZone(v, off), true
}

// formatSummary describes the format settings for the cold-start log line.
func formatSummary(f format.Options) slog.Value {
	attrs := []slog.Attr{
		slog.String("syntax", f.Syntax),
		slog.String("body", f.Body),
		slog.Int("facility", f.Facility),
		slog.Int("severity", f.Severity),
		slog.String("hostname", f.Hostname),
		slog.String("appName", f.AppName),
		slog.Int("maxMessageSize", f.MaxSize),
		slog.String("timezone", f.Location.String()),
		slog.Bool("bom", f.BOM),
		slog.String("procID", f.ProcID),
		slog.String("msgID", f.MsgID),
		slog.Bool("originSD", f.Origin),
		slog.String("oversize", map[bool]string{false: "truncate", true: "drop"}[f.DropOversize]),
	}
	for _, l := range []struct {
		name string
		keys []string
	}{
		{"severityKey", f.SeverityKeys}, {"facilityKey", f.FacilityKeys}, {"hostnameKey", f.HostnameKeys},
		{"appNameKey", f.AppNameKeys}, {"procIDKey", f.ProcIDKeys}, {"msgIDKey", f.MsgIDKeys},
		{"sdKeys", f.SDKeys}, {"includeKeys", f.IncludeKeys}, {"excludeKeys", f.ExcludeKeys},
	} {
		if len(l.keys) > 0 {
			attrs = append(attrs, slog.String(l.name, strings.Join(l.keys, ",")))
		}
	}
	if len(f.SDKeys) > 0 {
		attrs = append(attrs, slog.String("sdID", f.SDID))
	}
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
	return slog.GroupValue(attrs...)
}
