package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFormatDefaultsAreTheSeed(t *testing.T) {
	c, err := load(map[string]string{"SYSLOG_HOST": "h"})
	if err != nil {
		t.Fatal(err)
	}
	f := c.Format
	if f.Syntax != "rfc5424" || f.Body != "kv" || f.Location != time.UTC || f.BOM || f.Origin || f.DropOversize ||
		f.ProcID != "-" || f.MsgID != "-" || len(f.SDKeys) > 0 || len(f.IncludeKeys) > 0 || f.LEEFDelimiter != 0 ||
		f.Vendor != "Alibaba Cloud" || !slices.Equal(f.EventIDKeys, []string{"__topic__"}) {
		t.Errorf("format defaults = %+v", f)
	}
}

func TestFormatValues(t *testing.T) {
	c, err := load(map[string]string{
		"SYSLOG_HOST": "h", "SYSLOG_FORMAT": "RFC5424", "SYSLOG_BODY": "leef", "SYSLOG_TIMEZONE": "Asia/Shanghai",
		"SYSLOG_BOM": "true", "SYSLOG_SEVERITY_KEY": " level , severity ", "SYSLOG_HOSTNAME_KEY": "__tag__:__hostname__,__source__",
		"SYSLOG_SD_KEYS": "user,ip", "SYSLOG_SD_ID": "sls@41058", "SYSLOG_ORIGIN_SD": "true", "SYSLOG_OVERSIZE": "drop",
		"SYSLOG_INCLUDE_KEYS": "__tag__:*,user", "SYSLOG_LEEF_DELIMITER": "x5E", "SYSLOG_DEVICE_VENDOR": "Acme SIEM",
		"SYSLOG_PROCID": "1234", "SYSLOG_MSGID": "AUDIT",
	})
	if err != nil {
		t.Fatal(err)
	}
	f := c.Format
	_, off := time.Unix(0, 0).In(f.Location).Zone()
	if f.Body != "leef" || off != 8*3600 || !f.BOM || !slices.Equal(f.SeverityKeys, []string{"level", "severity"}) ||
		!slices.Equal(f.HostnameKeys, []string{"__tag__:__hostname__", "__source__"}) || f.SDID != "sls@41058" ||
		!f.Origin || !f.DropOversize || f.LEEFDelimiter != '^' || f.Vendor != "Acme SIEM" || f.ProcID != "1234" || f.MsgID != "AUDIT" {
		t.Errorf("format = %+v", f)
	}
	for _, tz := range []string{"+05:45", "-0800", "UTC"} {
		c, err := load(map[string]string{"SYSLOG_HOST": "h", "SYSLOG_TIMEZONE": tz})
		if err != nil {
			t.Errorf("SYSLOG_TIMEZONE=%s: %v", tz, err)
			continue
		}
		_, off := time.Unix(0, 0).In(c.Format.Location).Zone()
		if want := map[string]int{"+05:45": 5*3600 + 45*60, "-0800": -8 * 3600, "UTC": 0}[tz]; off != want {
			t.Errorf("SYSLOG_TIMEZONE=%s: offset %d, want %d", tz, off, want)
		}
	}
	if !strings.Contains(c.LogValue().String(), "LEEF 2.0") {
		t.Errorf("LogValue lacks the format: %s", c.LogValue())
	}
}

func TestFormatErrorsNameTheVariable(t *testing.T) {
	_, err := load(map[string]string{
		"SYSLOG_HOST": "h", "SYSLOG_BODY": "xml", "SYSLOG_TIMEZONE": "Mars/Olympus", "SYSLOG_BOM": "yes",
		"SYSLOG_SD_ID": "has space", "SYSLOG_OVERSIZE": "split", "SYSLOG_LEEF_DELIMITER": "|",
		"SYSLOG_DEVICE_VENDOR": "a|b", "SYSLOG_MSGID": strings.Repeat("m", 33), "SYSLOG_ORIGIN_SD": "1",
	})
	if err == nil {
		t.Fatal("bad format configuration accepted")
	}
	for _, want := range []string{
		`SYSLOG_BODY is "xml": accepted values are kv, json, cef, leef`,
		`SYSLOG_TIMEZONE is "Mars/Olympus": want an IANA time zone`,
		`SYSLOG_BOM is "yes": accepted values are true, false`,
		`SYSLOG_SD_ID is "has space"`,
		`SYSLOG_OVERSIZE is "split": accepted values are truncate, drop`,
		`SYSLOG_LEEF_DELIMITER is "|"`,
		`SYSLOG_DEVICE_VENDOR is "a|b"`,
		`SYSLOG_MSGID is "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm": want at most 32 characters (RFC 5424), not 33`,
		`SYSLOG_ORIGIN_SD is "1"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	_, err = load(map[string]string{"SYSLOG_HOST": "h", "SYSLOG_FORMAT": "rfc3164", "SYSLOG_SD_KEYS": "a", "SYSLOG_ORIGIN_SD": "true", "SYSLOG_BOM": "true"})
	for _, v := range []string{"SYSLOG_SD_KEYS", "SYSLOG_ORIGIN_SD", "SYSLOG_BOM"} {
		if err == nil || !strings.Contains(err.Error(), v+" needs SYSLOG_FORMAT=rfc5424") {
			t.Errorf("rfc3164 with %s: %v", v, err)
		}
	}
}
