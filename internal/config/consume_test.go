package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// loadConsume is Load for the consume daemon, with a receiver and an
// AccessKey pair unless kv sets them.
func loadConsume(kv map[string]string) (Consume, error) {
	kv = maps.Clone(kv)
	for k, v := range map[string]string{"SYSLOG_HOST": "siem", "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIid", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s"} {
		if _, ok := kv[k]; !ok {
			kv[k] = v
		}
	}
	c, err := Load(env(kv), UseConsume)
	return c.Consume, err
}

func TestConsumeDefaults(t *testing.T) {
	c, err := loadConsume(map[string]string{
		"SLS_ENDPOINT": "cn-hangzhou-intranet.log.aliyuncs.com", "SLS_PROJECT": "proj", "SLS_LOGSTORE": "audit",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Group != "sls2siem" || c.Name == "" || c.Start.Position != CursorEnd ||
		c.HeartbeatInterval != 20*time.Second || c.HeartbeatTimeout != 60*time.Second ||
		c.CheckpointInterval != 10*time.Second || c.FetchInterval != 200*time.Millisecond || c.StopTimeout != 8*time.Second {
		t.Errorf("defaults = %v", c)
	}
}

func TestConsumeValues(t *testing.T) {
	c, err := loadConsume(map[string]string{
		"SLS_ENDPOINT": "https://cn-shanghai.log.aliyuncs.com", "SLS_PROJECT": "proj", "SLS_LOGSTORE": "ls",
		"SLS_CONSUMER_GROUP": "siem", "SLS_CONSUMER_NAME": "node-1", "SLS_CURSOR_POSITION": "1700000000",
		"SLS_HEARTBEAT_INTERVAL": "2s", "SLS_HEARTBEAT_TIMEOUT": "5s", "SLS_CHECKPOINT_INTERVAL": "0",
		"SLS_FETCH_INTERVAL": "50ms", "SLS_CONSUMER_STOP_TIMEOUT": "20s",
		"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIid", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "the-secret",
		"ALIBABA_CLOUD_SECURITY_TOKEN": "the-token",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint != "https://cn-shanghai.log.aliyuncs.com" || c.Group != "siem" || c.Name != "node-1" ||
		c.Start.Position != "" || c.Start.Time != 1700000000 || c.HeartbeatInterval != 2*time.Second ||
		c.HeartbeatTimeout != 5*time.Second || c.CheckpointInterval != 0 || c.FetchInterval != 50*time.Millisecond ||
		c.StopTimeout != 20*time.Second || c.Credentials.AccessKeySecret != "the-secret" || c.Credentials.SecurityToken != "the-token" {
		t.Errorf("config = %v", c)
	}
	for _, shown := range []string{c.String(), fmt.Sprintf("%v %+v %#v", c, c, c), c.LogValue().String()} {
		if strings.Contains(shown, "the-secret") || strings.Contains(shown, "the-token") {
			t.Errorf("a secret is shown: %s", shown)
		}
	}
}

func TestConsumeErrorsNameTheVariable(t *testing.T) {
	_, err := loadConsume(map[string]string{
		"SLS_ENDPOINT": "ftp://x/y", "SLS_CURSOR_POSITION": "yesterday",
		"SLS_HEARTBEAT_INTERVAL": "1500ms", "SLS_HEARTBEAT_TIMEOUT": "soon",
		"SLS_CHECKPOINT_INTERVAL": "-1s", "SLS_CONSUMER_STOP_TIMEOUT": "100ms",
	})
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, want := range []string{
		`SLS_ENDPOINT is "ftp://x/y"`, "SLS_PROJECT is not set", "SLS_LOGSTORE is not set",
		`SLS_CURSOR_POSITION is "yesterday": accepted values are begin, end or a unix time`,
		`SLS_HEARTBEAT_INTERVAL is "1500ms": want whole seconds`, `SLS_HEARTBEAT_TIMEOUT is "soon"`,
		`SLS_CHECKPOINT_INTERVAL is "-1s"`, `SLS_CONSUMER_STOP_TIMEOUT is "100ms": want a duration from 1s`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	_, err = loadConsume(map[string]string{
		"SLS_ENDPOINT": "e.example", "SLS_PROJECT": "proj", "SLS_LOGSTORE": "ls",
		"SLS_HEARTBEAT_INTERVAL": "10s", "SLS_HEARTBEAT_TIMEOUT": "5s",
	})
	if err == nil || !strings.Contains(err.Error(), "SLS_HEARTBEAT_TIMEOUT is 5s, shorter than SLS_HEARTBEAT_INTERVAL") {
		t.Errorf("timeout below interval: %v", err)
	}
}

// TestConsumeMetricsAndHealth: SHIP_METRICS_ADDR is off by default and
// takes host:port; SHIP_STUCK_AFTER defaults to 5m; bad values are refused
// naming the variable.
func TestConsumeMetricsAndHealth(t *testing.T) {
	base := map[string]string{"SLS_ENDPOINT": "cn-hangzhou.log.aliyuncs.com", "SLS_PROJECT": "proj", "SLS_LOGSTORE": "ls"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	c, err := loadConsume(base)
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsAddr != "" || c.StuckAfter != 5*time.Minute {
		t.Errorf("defaults: metrics %q, stuck after %s; want off and 5m", c.MetricsAddr, c.StuckAfter)
	}
	for _, addr := range []string{"127.0.0.1:9464", ":9464", "[::1]:9464", "metrics.internal:80", " 0.0.0.0:65535 "} {
		c, err := loadConsume(with("SHIP_METRICS_ADDR", addr, "SHIP_STUCK_AFTER", "90s"))
		if err != nil {
			t.Errorf("%q refused: %v", addr, err)
			continue
		}
		if c.MetricsAddr != strings.TrimSpace(addr) || c.StuckAfter != 90*time.Second {
			t.Errorf("%q: metrics %q, stuck after %s", addr, c.MetricsAddr, c.StuckAfter)
		}
		if !strings.Contains(c.String(), "metricsAddr="+c.MetricsAddr) {
			t.Errorf("the logged configuration lacks the metrics address: %s", c)
		}
	}
	for addr, why := range map[string]string{
		"9464":             "not host:port",
		"127.0.0.1":        "not host:port",
		"127.0.0.1:0":      "the port must be a number from 1 to 65535",
		"127.0.0.1:70000":  "the port must be a number from 1 to 65535",
		"localhost:http":   "the port must be a number from 1 to 65535",
		"bad host!:9464":   "the host must be empty, an IP address or a host name",
		"http://x:9464/":   "not host:port",
		"127.0.0.1:9464/m": "the port must be a number",
	} {
		_, err := loadConsume(with("SHIP_METRICS_ADDR", addr))
		if err == nil || !strings.Contains(err.Error(), "SHIP_METRICS_ADDR is ") || !strings.Contains(err.Error(), why) {
			t.Errorf("SHIP_METRICS_ADDR=%q: error %v, want one naming the variable and %q", addr, err, why)
		}
	}
	for _, v := range []string{"0", "500ms", "25h", "soon"} {
		_, err := loadConsume(with("SHIP_STUCK_AFTER", v))
		if err == nil || !strings.Contains(err.Error(), "SHIP_STUCK_AFTER is ") {
			t.Errorf("SHIP_STUCK_AFTER=%q: error %v, want one naming the variable", v, err)
		}
	}
}

// TestStatusConfig: the status command needs the endpoint, admitted like
// the daemon's, and an AccessKey pair; the project, logstore and group are
// optional defaults.
func TestStatusConfig(t *testing.T) {
	c, err := Load(env(map[string]string{
		"SLS_ENDPOINT": "127.0.0.1:8080", "SLS_ALLOWED_ENDPOINTS": "127.0.0.1:8080", "SLS_HTTPS": "false",
		"SLS_PROJECT": "proj", "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIid", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "the-secret",
	}), UseStatus)
	if err != nil {
		t.Fatal(err)
	}
	if c.SLS.Endpoint != "http://127.0.0.1:8080" || c.SLS.Project != "proj" || c.SLS.Logstore != "" || c.SLS.Group != "sls2siem" ||
		!slices.Equal(c.Endpoints.Patterns(), []string{"127.0.0.1:8080"}) || c.Endpoints.HTTPS() || len(c.Warnings) != 1 ||
		c.Credentials.AccessKeySecret != "the-secret" {
		t.Errorf("status config = %+v", c)
	}
	if shown := fmt.Sprintf("%v %+v", c, c); strings.Contains(shown, "the-secret") {
		t.Errorf("the secret is shown: %s", shown)
	}
	_, err = Load(env(map[string]string{"SLS_ENDPOINT": "10.0.0.1", "SLS_LOGSTORE": "Bad Name"}), UseStatus)
	for _, want := range []string{"SLS_ENDPOINT is", "SLS_ALLOWED_ENDPOINTS", "SLS_LOGSTORE", "ALIBABA_CLOUD_ACCESS_KEY_ID is not set", "ALIBABA_CLOUD_ACCESS_KEY_SECRET is not set"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

// TestCredentialsAreTrimmedAndRequired: one way to read the AccessKey pair
// for every command that needs it, spaces around the values removed.
func TestCredentialsAreTrimmedAndRequired(t *testing.T) {
	base := map[string]string{"SYSLOG_HOST": "h", "SLS_ENDPOINT": "cn-hangzhou.log.aliyuncs.com", "SLS_PROJECT": "proj",
		"SLS_LOGSTORE": "ls", "SHIP_DEADLETTER_LOGSTORE": "dl", "SHIP_DEADLETTER_KEY": strings.Repeat("k", 32), "SHIP_REDRIVE_LOGSTORES": "ls"}
	for _, use := range []Use{UseShip, UseConsume, UseStatus, UseRedrive, UseBackfill} {
		_, err := Load(env(base), use)
		for _, v := range []string{"ALIBABA_CLOUD_ACCESS_KEY_ID is not set", "ALIBABA_CLOUD_ACCESS_KEY_SECRET is not set"} {
			if err == nil || !strings.Contains(err.Error(), v) {
				t.Errorf("%s without credentials: %v; want %q", use, err, v)
			}
		}
		kv := maps.Clone(base)
		kv["ALIBABA_CLOUD_ACCESS_KEY_ID"], kv["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = " LTAIid\n", "\tsecret "
		c, err := Load(env(kv), use)
		if err != nil || c.Credentials.AccessKeyID != "LTAIid" || c.Credentials.AccessKeySecret != "secret" {
			t.Errorf("%s: credentials %v, %v", use, c.Credentials, err)
		}
	}
	// Under FC the invocation's credentials are used: not read.
	if _, err := Load(env(base), UseTrigger|UseTimer|UseRedriveFC); err != nil {
		t.Errorf("FC uses without ALIBABA_CLOUD_*: %v", err)
	}
}
