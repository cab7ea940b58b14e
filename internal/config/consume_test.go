package config

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestConsumeDefaults(t *testing.T) {
	c, err := ParseConsume(env(map[string]string{
		"SLS_ENDPOINT": "cn-hangzhou-intranet.log.aliyuncs.com", "SLS_PROJECT": "proj", "SLS_LOGSTORE": "audit",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Group != "sls2siem" || c.Name == "" || c.CursorPosition != CursorEnd ||
		c.HeartbeatInterval != 20*time.Second || c.HeartbeatTimeout != 60*time.Second ||
		c.CheckpointInterval != 10*time.Second || c.FetchInterval != 200*time.Millisecond || c.StopTimeout != 8*time.Second {
		t.Errorf("defaults = %v", c)
	}
	if err := c.RequireCredentials(); err == nil || !strings.Contains(err.Error(), "ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET not set") {
		t.Errorf("RequireCredentials without credentials = %v", err)
	}
}

func TestConsumeValues(t *testing.T) {
	c, err := ParseConsume(env(map[string]string{
		"SLS_ENDPOINT": "https://cn-shanghai.log.aliyuncs.com", "SLS_PROJECT": "proj", "SLS_LOGSTORE": "ls",
		"SLS_CONSUMER_GROUP": "siem", "SLS_CONSUMER_NAME": "node-1", "SLS_CURSOR_POSITION": "1700000000",
		"SLS_HEARTBEAT_INTERVAL": "2s", "SLS_HEARTBEAT_TIMEOUT": "5s", "SLS_CHECKPOINT_INTERVAL": "0",
		"SLS_FETCH_INTERVAL": "50ms", "SLS_CONSUMER_STOP_TIMEOUT": "20s",
		"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIid", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "the-secret",
		"ALIBABA_CLOUD_SECURITY_TOKEN": "the-token",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint != "https://cn-shanghai.log.aliyuncs.com" || c.Group != "siem" || c.Name != "node-1" ||
		c.CursorPosition != "" || c.CursorTime != 1700000000 || c.HeartbeatInterval != 2*time.Second ||
		c.HeartbeatTimeout != 5*time.Second || c.CheckpointInterval != 0 || c.FetchInterval != 50*time.Millisecond ||
		c.StopTimeout != 20*time.Second || c.Credentials.AccessKeySecret != "the-secret" || c.Credentials.SecurityToken != "the-token" {
		t.Errorf("config = %v", c)
	}
	if err := c.RequireCredentials(); err != nil {
		t.Error(err)
	}
	for _, shown := range []string{c.String(), fmt.Sprintf("%v %+v %#v", c, c, c), c.LogValue().String()} {
		if strings.Contains(shown, "the-secret") || strings.Contains(shown, "the-token") {
			t.Errorf("a secret is shown: %s", shown)
		}
	}
}

func TestConsumeErrorsNameTheVariable(t *testing.T) {
	_, err := ParseConsume(env(map[string]string{
		"SLS_ENDPOINT": "ftp://x/y", "SLS_CURSOR_POSITION": "yesterday",
		"SLS_HEARTBEAT_INTERVAL": "1500ms", "SLS_HEARTBEAT_TIMEOUT": "soon",
		"SLS_CHECKPOINT_INTERVAL": "-1s", "SLS_CONSUMER_STOP_TIMEOUT": "100ms",
	}))
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, want := range []string{
		`SLS_ENDPOINT is "ftp://x/y"`, "SLS_PROJECT is not set", "SLS_LOGSTORE is not set",
		`SLS_CURSOR_POSITION is "yesterday": accepted values are begin, end or a unix time`,
		`SLS_HEARTBEAT_INTERVAL is "1500ms": want whole seconds`, `SLS_HEARTBEAT_TIMEOUT is "soon"`,
		`SLS_CHECKPOINT_INTERVAL is "-1s"`, "SLS_CONSUMER_STOP_TIMEOUT is 100ms",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	_, err = ParseConsume(env(map[string]string{
		"SLS_ENDPOINT": "e.example", "SLS_PROJECT": "proj", "SLS_LOGSTORE": "ls",
		"SLS_HEARTBEAT_INTERVAL": "10s", "SLS_HEARTBEAT_TIMEOUT": "5s",
	}))
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
	c, err := ParseConsume(env(base))
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsAddr != "" || c.StuckAfter != 5*time.Minute {
		t.Errorf("defaults: metrics %q, stuck after %s; want off and 5m", c.MetricsAddr, c.StuckAfter)
	}
	for _, addr := range []string{"127.0.0.1:9464", ":9464", "[::1]:9464", "metrics.internal:80", " 0.0.0.0:65535 "} {
		c, err := ParseConsume(env(with("SHIP_METRICS_ADDR", addr, "SHIP_STUCK_AFTER", "90s")))
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
		_, err := ParseConsume(env(with("SHIP_METRICS_ADDR", addr)))
		if err == nil || !strings.Contains(err.Error(), "SHIP_METRICS_ADDR is ") || !strings.Contains(err.Error(), why) {
			t.Errorf("SHIP_METRICS_ADDR=%q: error %v, want one naming the variable and %q", addr, err, why)
		}
	}
	for _, v := range []string{"0", "500ms", "25h", "soon"} {
		_, err := ParseConsume(env(with("SHIP_STUCK_AFTER", v)))
		if err == nil || !strings.Contains(err.Error(), "SHIP_STUCK_AFTER is ") {
			t.Errorf("SHIP_STUCK_AFTER=%q: error %v, want one naming the variable", v, err)
		}
	}
}

// TestStatusConfig: the status command needs the endpoint, admitted like
// the daemon's, and an AccessKey pair; the project, logstore and group are
// optional defaults.
func TestStatusConfig(t *testing.T) {
	s, err := ParseStatus(env(map[string]string{
		"SLS_ENDPOINT": "127.0.0.1:8080", "SLS_ALLOWED_ENDPOINTS": "127.0.0.1", "SLS_HTTPS": "false",
		"SLS_PROJECT": "proj", "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIid", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "the-secret",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Endpoint != "http://127.0.0.1:8080" || s.Project != "proj" || s.Logstore != "" || s.Group != "sls2siem" ||
		!slices.Equal(s.Endpoints.Patterns(), []string{"127.0.0.1"}) || s.Endpoints.HTTPS() || len(s.Warnings) != 1 {
		t.Errorf("status config = %+v", s)
	}
	if shown := fmt.Sprintf("%v %+v", s, s); strings.Contains(shown, "the-secret") {
		t.Errorf("the secret is shown: %s", shown)
	}
	_, err = ParseStatus(env(map[string]string{"SLS_ENDPOINT": "10.0.0.1", "SLS_LOGSTORE": "Bad Name"}))
	for _, want := range []string{"SLS_ENDPOINT is", "SLS_ALLOWED_ENDPOINTS", "SLS_LOGSTORE", "ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET not set"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}
