package config

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

// load is Load for the trigger function.
func load(kv map[string]string) (Config, error) { return Load(env(kv), UseTrigger) }

func TestDefaults(t *testing.T) {
	c, err := load(map[string]string{"SYSLOG_HOST": "siem.example"})
	if err != nil {
		t.Fatal(err)
	}
	tr := c.Syslog.Transport
	if tr.Address != "siem.example:514" || tr.Network != "tcp" || tr.Framing != "lf" || tr.DialTimeout != 5*time.Second ||
		c.Format.Facility != 1 || c.Format.Severity != 6 || c.Format.AppName != "-" || c.Format.Hostname == "" ||
		c.Format.MaxSize != 65536 || !c.Format.EscapeBreaks || c.PullCount != 100 || c.DeadlineMargin != 3*time.Second ||
		c.Syslog.MaxRetries != 3 || c.Syslog.RetryBackoff != 200*time.Millisecond || c.LogLevel != "info" {
		t.Errorf("defaults = %+v", c)
	}
	if err := tr.Validate(); err != nil {
		t.Errorf("the default transport does not validate: %v", err)
	}
}

func TestValuesAndNames(t *testing.T) {
	c, err := load(map[string]string{
		"SYSLOG_HOST": "10.0.0.9", "SYSLOG_PORT": "6514", "SYSLOG_PROTOCOL": "TLS",
		"SYSLOG_FACILITY": "local3", "SYSLOG_SEVERITY": "3", "SYSLOG_HOSTNAME": "aliyun.example.com",
		"SYSLOG_TAG": "sls", "SLS_PULL_COUNT": "1000", "SHIP_DEADLINE_MARGIN": "500ms",
	})
	if err != nil {
		t.Fatal(err)
	}
	tr := c.Syslog.Transport
	if tr.Address != "10.0.0.9:6514" || tr.Network != "tls" || tr.Framing != "octet-counting" || tr.TLS == nil ||
		c.Format.Facility != 19 || c.Format.Severity != 3 || c.Format.Hostname != "aliyun.example.com" || c.Format.AppName != "sls" ||
		c.PullCount != 1000 || c.DeadlineMargin != 500*time.Millisecond {
		t.Errorf("config = %+v", c)
	}
}

// TestSeverityWordsMeanTheSameEverywhere: SYSLOG_SEVERITY takes the level
// words SYSLOG_SEVERITY_KEY takes (one table, in format).
func TestSeverityWordsMeanTheSameEverywhere(t *testing.T) {
	for word, want := range map[string]int{"warn": 4, "WARNING": 4, "error": 3, "fatal": 2, "trace": 7, "emerg": 0, "5": 5} {
		c, err := load(map[string]string{"SYSLOG_HOST": "h", "SYSLOG_SEVERITY": word})
		if err != nil || c.Format.Severity != want {
			t.Errorf("SYSLOG_SEVERITY=%s: severity %d, %v; want %d", word, c.Format.Severity, err, want)
		}
	}
	_, err := load(map[string]string{"SYSLOG_HOST": "h", "SYSLOG_SEVERITY": "loud"})
	if err == nil || !strings.Contains(err.Error(), `SYSLOG_SEVERITY is "loud": want 0 to 7, a name (emerg, alert, crit, err, warning, notice, info, debug) or a level word`) {
		t.Errorf("SYSLOG_SEVERITY=loud: %v", err)
	}
}

func TestErrorsNameTheVariable(t *testing.T) {
	_, err := load(map[string]string{
		"SYSLOG_PORT": "70000", "SYSLOG_PROTOCOL": "http", "SYSLOG_FRAMING": "crlf",
		"SYSLOG_FACILITY": "nope", "SYSLOG_SEVERITY": "9", "SYSLOG_HOSTNAME": "has space",
		"SLS_PULL_COUNT": "0", "SHIP_DEADLINE_MARGIN": "soon",
	})
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, want := range []string{
		"SYSLOG_HOST is not set", `SYSLOG_PORT is "70000"`, `SYSLOG_PROTOCOL is "http": accepted values are tcp, udp, tls`,
		`SYSLOG_FRAMING is "crlf"`, `SYSLOG_FACILITY is "nope"`, `SYSLOG_SEVERITY is "9"`,
		`SYSLOG_HOSTNAME is "has space"`, `SLS_PULL_COUNT is "0"`, `SHIP_DEADLINE_MARGIN is "soon"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	errs := Problems(err)
	if len(errs) != 9 {
		t.Errorf("%d problems, want 9 (each once):\n%v", len(errs), err)
	}
	for _, e := range errs {
		if !strings.HasPrefix(e.Msg, e.Var+" ") {
			t.Errorf("problem %q does not start with its variable %s", e.Msg, e.Var)
		}
	}
}

func TestBackoffIsBounded(t *testing.T) {
	s := Syslog{RetryBackoff: 200e6}
	if s.Backoff(1) != 200e6 || s.Backoff(2) != 400e6 || s.Backoff(100) != MaxBackoff || s.Backoff(1<<30) != MaxBackoff {
		t.Errorf("backoff 1, 2, 100: %s %s %s", s.Backoff(1), s.Backoff(2), s.Backoff(100))
	}
}

// TestDeadLetterKeys: SHIP_DEADLETTER_KEY is required whenever
// SHIP_DEADLETTER_LOGSTORE is set, at least 32 bytes, and never shown;
// SHIP_REDRIVE_LOGSTORES is required by redrive and may not name the
// dead-letter logstore.
func TestDeadLetterKeys(t *testing.T) {
	const marker = "KEYMARKERshort"
	load := func(use Use, kv ...string) (Config, error) {
		m := map[string]string{"SYSLOG_HOST": "h", "SLS_ENDPOINT": "cn-hangzhou.log.aliyuncs.com", "SLS_PROJECT": "proj",
			"ALIBABA_CLOUD_ACCESS_KEY_ID": "id", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return Load(func(k string) string { return m[k] }, use)
	}
	long := "KEYMARKER-" + strings.Repeat("x", 32)
	for _, use := range []Use{UseTrigger, UseShip, UseRedriveFC} {
		_, err := load(use, "SHIP_DEADLETTER_LOGSTORE", "dl", "SHIP_REDRIVE_LOGSTORES", "audit")
		if err == nil || !strings.Contains(err.Error(), "SHIP_DEADLETTER_KEY is not set") {
			t.Errorf("%s: a dead-letter logstore without a key: %v", use, err)
		}
		_, err = load(use, "SHIP_DEADLETTER_LOGSTORE", "dl", "SHIP_DEADLETTER_KEY", marker, "SHIP_REDRIVE_LOGSTORES", "audit")
		if err == nil || !strings.Contains(err.Error(), "SHIP_DEADLETTER_KEY is <14 bytes, not shown>: want at least 32 bytes") || strings.Contains(err.Error(), "MARKER") {
			t.Errorf("%s: a short key: %v", use, err)
		}
		c, err := load(use, "SHIP_DEADLETTER_LOGSTORE", "dl", "SHIP_DEADLETTER_KEY", long, "SHIP_DEADLETTER_KEY_PREVIOUS", long+"p", "SHIP_REDRIVE_LOGSTORES", "audit")
		if err != nil || !c.DeadLetterKeys.Set() {
			t.Errorf("%s: a valid key: %v", use, err)
		}
		if shown := fmt.Sprintf("%v %+v %#v", c, c, c.LogValue()); strings.Contains(shown, "MARKER") {
			t.Errorf("%s: the key is shown: %s", use, shown)
		}
	}
	// No dead-letter logstore: no key needed.
	if _, err := load(UseTrigger); err != nil {
		t.Errorf("the trigger without dead-letter records: %v", err)
	}
	_, err := load(UseRedrive, "SHIP_DEADLETTER_LOGSTORE", "dl", "SHIP_DEADLETTER_KEY", long, "ALIBABA_CLOUD_ACCESS_KEY_ID", "id",
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s")
	if err == nil || !strings.Contains(err.Error(), "SHIP_REDRIVE_LOGSTORES is not set") {
		t.Errorf("redrive without its sources: %v", err)
	}
	_, err = load(UseRedriveFC, "SHIP_DEADLETTER_LOGSTORE", "dl", "SHIP_DEADLETTER_KEY", long, "SHIP_REDRIVE_LOGSTORES", "audit, dl")
	if err == nil || !strings.Contains(err.Error(), "SHIP_REDRIVE_LOGSTORES names dl, the dead-letter logstore") {
		t.Errorf("the dead-letter logstore as a source: %v", err)
	}
	c, err := load(UseRedriveFC, "SHIP_DEADLETTER_LOGSTORE", "dl", "SHIP_DEADLETTER_KEY", long, "SHIP_REDRIVE_LOGSTORES", "audit, app,audit")
	if err != nil || strings.Join(c.RedriveLogstores, ",") != "audit,app" {
		t.Errorf("sources %v, %v", c.RedriveLogstores, err)
	}
	_, err = load(UseRedriveFC, "SHIP_DEADLETTER_LOGSTORE", "dl", "SHIP_DEADLETTER_KEY", long, "SHIP_REDRIVE_LOGSTORES", "Audit")
	if err == nil || !strings.Contains(err.Error(), `SHIP_REDRIVE_LOGSTORES is "Audit": "Audit" want an SLS logstore name`) {
		t.Errorf("a bad source name: %v", err)
	}
}
