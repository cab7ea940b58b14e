package format

import (
	"errors"
	"fmt"
	"time"

	"sls2siem/internal/field"
)

// Limits of the header constants (RFC 5424 §6) and of the message size.
const (
	MaxHostname = 255
	MaxAppName  = 48
	MaxProcID   = 128
	MaxMsgID    = 32
	// MinMaxSize is the smallest message size limit: every receiver must
	// accept messages of 480 octets (RFC 5424 §6.1).
	MinMaxSize = 480
	// maxConstant bounds a CEF or LEEF header constant.
	maxConstant = 255
)

// Names of the default constants.
const (
	DefaultSDID = "fields@32473"
	nilValue    = "-"
)

// DefaultOptions are the seed's format: RFC 5424, the kv body, facility
// user, severity info, UTC, no structured data; the CEF and LEEF headers
// say Alibaba Cloud SLS 1.0, their event id is the log's topic (else
// sls-log). The host name is left empty (the nil value).
func DefaultOptions() Options {
	return Options{
		Syntax: SyntaxRFC5424, Body: BodyKV, Facility: 1, Severity: 6,
		AppName: nilValue, ProcID: nilValue, MsgID: nilValue,
		Location: time.UTC, SDID: DefaultSDID,
		Vendor: "Alibaba Cloud", Product: "SLS", Version: "1.0",
		EventIDKeys: []string{KeyTopic}, EventID: "sls-log", EventName: "SLS log",
	}
}

// Validate reports every problem of the options at once, as *field.Error
// values joined.
func (o *Options) Validate() error {
	var errs []error
	add := func(name, format string, args ...any) { errs = append(errs, field.Errorf(name, format, args...)) }
	if o.Syntax != SyntaxRFC5424 && o.Syntax != SyntaxRFC3164 {
		add("Syntax", "is %q: want %s or %s", o.Syntax, SyntaxRFC5424, SyntaxRFC3164)
	}
	switch o.Body {
	case BodyKV, BodyJSON, BodyCEF, BodyLEEF:
	default:
		add("Body", "is %q: want kv, json, cef or leef", o.Body)
	}
	if o.Facility < 0 || o.Facility > 23 {
		add("Facility", "is %d: want 0 to 23", o.Facility)
	}
	if o.Severity < 0 || o.Severity > 7 {
		add("Severity", "is %d: want 0 to 7", o.Severity)
	}
	for _, h := range []struct {
		name, v string
		max     int
	}{{"Hostname", o.Hostname, MaxHostname}, {"AppName", o.AppName, MaxAppName}, {"ProcID", o.ProcID, MaxProcID}, {"MsgID", o.MsgID, MaxMsgID}} {
		if err := CheckHeaderField(h.v, h.max); err != nil {
			add(h.name, "is %q: %v", h.v, err)
		}
	}
	if err := CheckSDID(o.SDID); o.SDID != "" && err != nil {
		add("SDID", "is %q: %v", o.SDID, err)
	}
	if o.Syntax == SyntaxRFC3164 {
		for _, f := range []struct {
			name string
			set  bool
		}{{"SDKeys", len(o.SDKeys) > 0}, {"Origin", o.Origin}, {"BOM", o.BOM}} {
			if f.set {
				add(f.name, "needs {Syntax}=rfc5424: RFC 3164 has no structured data and no BOM")
			}
		}
	}
	if o.MaxSize != 0 && o.MaxSize < MinMaxSize {
		add("MaxSize", "is %d: want 0 (no limit) or at least %d", o.MaxSize, MinMaxSize)
	}
	for _, c := range []struct{ name, v string }{{"Vendor", o.Vendor}, {"Product", o.Product}, {"Version", o.Version}, {"EventID", o.EventID}, {"EventName", o.EventName}} {
		if err := CheckConstant(c.v); err != nil {
			add(c.name, "is %q: %v", c.v, err)
		}
	}
	if o.LEEFDelimiter != 0 {
		if _, err := ParseLEEFDelimiter(string(o.LEEFDelimiter)); err != nil {
			add("LEEFDelimiter", "is %q: %v", o.LEEFDelimiter, err)
		}
	}
	return errors.Join(errs...)
}

// CheckHeaderField checks an RFC 5424 header constant: printable US-ASCII
// without spaces, at most max characters ("" is the nil value).
func CheckHeaderField(v string, max int) error {
	for i := 0; i < len(v); i++ {
		if v[i] < 33 || v[i] > 126 {
			return errors.New("want printable US-ASCII without spaces (RFC 5424)")
		}
	}
	if len(v) > max {
		return fmt.Errorf("want at most %d characters (RFC 5424), not %d", max, len(v))
	}
	return nil
}

// CheckSDID checks the SD-ID of the element of SDKeys.
func CheckSDID(v string) error {
	switch {
	case !ValidSDName(v):
		return fmt.Errorf("want 1 to %d printable US-ASCII characters without '=', ']', '\"' or spaces, such as %s (name@<your IANA enterprise number>)", maxSDName, DefaultSDID)
	case v == OriginSDID:
		return fmt.Errorf("want another SD-ID than %s, the origin element's", OriginSDID)
	}
	return nil
}

// CheckConstant checks a CEF or LEEF header constant: no '|' and no
// control characters, at most 255 bytes.
func CheckConstant(v string) error {
	for _, r := range v {
		if r == '|' || r < 0x20 || r == 0x7f {
			return errors.New("want text without '|' or control characters")
		}
	}
	if len(v) > maxConstant {
		return fmt.Errorf("want at most %d bytes, not %d", maxConstant, len(v))
	}
	return nil
}

// SeverityNames are the RFC 5424 keywords of the severities, by code.
// ParseSeverity accepts them, the codes and common level words.
var SeverityNames = []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// FacilityNames are the names of the facilities, by code. ParseFacility
// accepts them and the codes.
func FacilityNames() []string { return facilityNames[:] }
