package config

import (
	"strings"
	"testing"
	"time"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestDefaults(t *testing.T) {
	c, err := Parse(env(map[string]string{"SYSLOG_HOST": "siem.example"}))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Syslog
	if s.Address() != "siem.example:514" || s.Protocol != "tcp" || s.Framing != "lf" ||
		c.Format.Facility != 1 || c.Format.Severity != 6 || c.Format.AppName != "-" || c.Format.Hostname == "" ||
		s.MaxMessageSize != 65536 || c.PullCount != 100 || c.DeadlineMargin != 3*time.Second {
		t.Errorf("defaults = %+v", c)
	}
}

func TestValuesAndNames(t *testing.T) {
	c, err := Parse(env(map[string]string{
		"SYSLOG_HOST": "10.0.0.9", "SYSLOG_PORT": "6514", "SYSLOG_PROTOCOL": "TLS",
		"SYSLOG_FACILITY": "local3", "SYSLOG_SEVERITY": "3", "SYSLOG_HOSTNAME": "aliyun.example.com",
		"SYSLOG_TAG": "sls", "SLS_PULL_COUNT": "1000", "SHIP_DEADLINE_MARGIN": "500ms",
	}))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Syslog
	if s.Address() != "10.0.0.9:6514" || s.Protocol != "tls" || s.Framing != "octet-counting" ||
		c.Format.Facility != 19 || c.Format.Severity != 3 || c.Format.Hostname != "aliyun.example.com" || c.Format.AppName != "sls" ||
		c.PullCount != 1000 || c.DeadlineMargin != 500*time.Millisecond {
		t.Errorf("config = %+v", c)
	}
}

func TestErrorsNameTheVariable(t *testing.T) {
	_, err := Parse(env(map[string]string{
		"SYSLOG_PORT": "70000", "SYSLOG_PROTOCOL": "http", "SYSLOG_FRAMING": "crlf",
		"SYSLOG_FACILITY": "nope", "SYSLOG_SEVERITY": "9", "SYSLOG_HOSTNAME": "has space",
		"SLS_PULL_COUNT": "0", "SHIP_DEADLINE_MARGIN": "soon",
	}))
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, want := range []string{
		"SYSLOG_HOST is not set", "SYSLOG_PORT is \"70000\"", "SYSLOG_PROTOCOL is \"http\": accepted values are tcp, udp, tls",
		"SYSLOG_FRAMING is \"crlf\"", "SYSLOG_FACILITY is \"nope\"", "SYSLOG_SEVERITY is \"9\"",
		"SYSLOG_HOSTNAME is \"has space\"", "SLS_PULL_COUNT is \"0\"", "SHIP_DEADLINE_MARGIN is \"soon\"",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
