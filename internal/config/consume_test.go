package config

import (
	"fmt"
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
