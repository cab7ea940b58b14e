package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sls2siem/internal/secret"
)

// TestSurprisingConfigurationIsRefused: settings that would not do what
// they say are errors naming the variable and what is accepted.
func TestSurprisingConfigurationIsRefused(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want []string
	}{
		{map[string]string{"SYSLOG_HOST": "siem", "SYSLOG_PORT": "6514", "SYSLOG_TLS_CA_FILE": "/ca.pem", "SYSLOG_TLS_MIN_VERSION": "1.1"},
			[]string{"SYSLOG_TLS_CA_FILE is set but SYSLOG_PROTOCOL is tcp", "SYSLOG_TLS_MIN_VERSION is set but SYSLOG_PROTOCOL is tcp", "SYSLOG_PROTOCOL=tls"}},
		{map[string]string{"SYSLOG_HOST": "siem", "SYSLOG_PROTOCOL": "udp", "SYSLOG_TLS_INSECURE_SKIP_VERIFY": "true"},
			[]string{"SYSLOG_TLS_INSECURE_SKIP_VERIFY is set but SYSLOG_PROTOCOL is udp"}},
		{map[string]string{"SYSLOG_HOST": "siem.example:6514"},
			[]string{`SYSLOG_HOST is "siem.example:6514": it has a port: set SYSLOG_HOST=siem.example and SYSLOG_PORT=6514`}},
		{map[string]string{"SYSLOG_HOST": "[::1]"}, []string{"SYSLOG_HOST", "without brackets"}},
		{map[string]string{"SYSLOG_HOST": "a b"}, []string{"SYSLOG_HOST", "want a host name"}},
		{map[string]string{"SYSLOG_HOST": "siem", "SYSLOG_WRITE_TIMEOUT": "0"}, []string{`SYSLOG_WRITE_TIMEOUT is "0": want a duration from 1ms to 10m0s`}},
		{map[string]string{"SYSLOG_HOST": "siem", "SYSLOG_DIAL_TIMEOUT": "0s"}, []string{`SYSLOG_DIAL_TIMEOUT is "0s"`}},
		{map[string]string{"SYSLOG_HOST": "siem", "SYSLOG_DIAL_TIMEOUT": "-1s"}, []string{`SYSLOG_DIAL_TIMEOUT is "-1s"`}},
		{map[string]string{"SYSLOG_HOST": "siem", "SYSLOG_IDLE_TIMEOUT": "0"}, []string{`SYSLOG_IDLE_TIMEOUT is "0"`}},
		{map[string]string{"SYSLOG_HOST": "siem", "SHIP_DEADLINE_MARGIN": "0"}, []string{`SHIP_DEADLINE_MARGIN is "0"`}},
		{map[string]string{"SYSLOG_HOST": "siem", "SYSLOG_RETRY_BACKOFF": "1000000h"}, []string{`SYSLOG_RETRY_BACKOFF is "1000000h": want a duration from 1ms to 1m0s`}},
		{map[string]string{"SYSLOG_HOST": "siem", "SYSLOG_PROTOCOL": "udp", "SYSLOG_MAX_MESSAGE_SIZE": "65508"},
			[]string{`SYSLOG_MAX_MESSAGE_SIZE is "65508": want a whole number from 480 to 65507`}},
		{map[string]string{"SYSLOG_HOST": "siem", "SLS_ALLOWED_ENDPOINTS": "*"}, []string{"SLS_ALLOWED_ENDPOINTS", "wildcard"}},
		{map[string]string{"SYSLOG_HOST": "siem", "SLS_ALLOWED_ENDPOINTS": "https://x.example.com"}, []string{"SLS_ALLOWED_ENDPOINTS", "is a URL"}},
		{map[string]string{"SYSLOG_HOST": "siem", "SLS_HTTPS": "maybe"}, []string{`SLS_HTTPS is "maybe": accepted values are true, false`}},
	}
	for _, c := range cases {
		_, err := load(c.env)
		if err == nil {
			t.Errorf("%v accepted", c.env)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q lacks %q", c.env, err, w)
			}
		}
	}
	// UDP's own limit is fine, and the largest message on TCP too.
	if _, err := load(map[string]string{"SYSLOG_HOST": "siem", "SYSLOG_PROTOCOL": "udp", "SYSLOG_MAX_MESSAGE_SIZE": "65507"}); err != nil {
		t.Errorf("UDP at 65507: %v", err)
	}
	if c, err := load(map[string]string{"SYSLOG_HOST": "::1"}); err != nil || c.Syslog.Transport.Address != "[::1]:514" {
		t.Errorf("IPv6 host: %v %v", c.Syslog.Transport.Address, err)
	}
}

func TestEndpointsDefaultAndLocal(t *testing.T) {
	c, err := load(map[string]string{"SYSLOG_HOST": "siem"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Endpoints.Admit("127.0.0.1:8080"); err == nil {
		t.Error("the default allow-list admits 127.0.0.1")
	}
	if ep, err := c.Endpoints.Admit("cn-hangzhou-intranet.log.aliyuncs.com"); err != nil || ep.URL != "https://cn-hangzhou-intranet.log.aliyuncs.com" {
		t.Errorf("default: %+v %v", ep, err)
	}
	c, err = load(map[string]string{"SYSLOG_HOST": "siem", "SLS_ALLOWED_ENDPOINTS": "127.0.0.1:8080,localhost:8080", "SLS_HTTPS": "false"})
	if err != nil {
		t.Fatal(err)
	}
	if ep, err := c.Endpoints.Admit("127.0.0.1:8080"); err != nil || ep.URL != "http://127.0.0.1:8080" {
		t.Errorf("local: %+v %v", ep, err)
	}
	if _, err := c.Endpoints.Admit("127.0.0.1:8081"); err == nil {
		t.Error("the local allow-list admits another port of 127.0.0.1")
	}
	if !strings.Contains(strings.Join(c.Warnings, "\n"), "SLS_HTTPS is false") {
		t.Errorf("no warning for SLS_HTTPS=false: %q", c.Warnings)
	}
	_, err = Load(env(map[string]string{"SLS_ENDPOINT": "127.0.0.1:1", "SLS_PROJECT": "proj", "SLS_LOGSTORE": "ls"}), UseStatus)
	if err == nil || !strings.Contains(err.Error(), "SLS_ENDPOINT") || !strings.Contains(err.Error(), "not allowed by SLS_ALLOWED_ENDPOINTS") {
		t.Errorf("consumer endpoint outside the allow-list: %v", err)
	}
	for _, bad := range []string{"127.0.0.1:1?", "a/b", "A", "x.127.0.0.1"} {
		_, err = Load(env(map[string]string{"SLS_ENDPOINT": "cn-hangzhou.log.aliyuncs.com", "SLS_PROJECT": bad, "SLS_LOGSTORE": "ls"}), UseStatus)
		if err == nil || !strings.Contains(err.Error(), "SLS_PROJECT") {
			t.Errorf("SLS_PROJECT=%q: %v", bad, err)
		}
	}
}

// testCert is PEM text: enough to reach the pairing of certificate and key.
const testCert = markerKey

const markerKey = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7MARKERSECRET\n-----END PRIVATE KEY-----\n"

// TestSecretsAreNeverEchoed: key material in any variable, the right one
// or the wrong one, never reaches an error or a warning.
func TestSecretsAreNeverEchoed(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"SYSLOG_TLS_KEY_FILE": markerKey, "SYSLOG_TLS_CERT_FILE": "/nonexistent"},
			"SYSLOG_TLS_KEY_FILE is <PEM text, 118 bytes, not shown>: want a file path, not PEM text"},
		{map[string]string{"SYSLOG_TLS_KEY_FILE": markerKey}, "did you mean SYSLOG_TLS_KEY?"},
		{map[string]string{"SYSLOG_TLS_CERT_FILE": markerKey}, "did you mean SYSLOG_TLS_CERT?"},
		{map[string]string{"SYSLOG_TLS_CA_FILE": markerKey}, "did you mean SYSLOG_TLS_CA?"},
		{map[string]string{"SYSLOG_TLS_KEY": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjMARKERSECRET", "SYSLOG_TLS_CERT": markerKey},
			"SYSLOG_TLS_KEY is <52 bytes, not shown>: want PEM text"},
		{map[string]string{"SYSLOG_TLS_CERT": "MARKERSECRET not pem", "SYSLOG_TLS_KEY": markerKey}, "SYSLOG_TLS_CERT is <20 bytes, not shown>: want PEM text"},
		{map[string]string{"SYSLOG_TLS_KEY": markerKey, "SYSLOG_TLS_CERT": markerKey}, "do not form a certificate and key pair"},
		{map[string]string{"SYSLOG_TLS_SERVER_NAME": "x", "SYSLOG_TLS_MIN_VERSION": markerKey}, "SYSLOG_TLS_MIN_VERSION is <PEM text"},
		{map[string]string{"SYSLOG_FACILITY": "MIIEvQIBADANBgkqhkiG9w0MARKERSECRET"}, "SYSLOG_FACILITY is <"},
	}
	for _, c := range cases {
		e := map[string]string{"SYSLOG_HOST": "siem", "SYSLOG_PROTOCOL": "tls"}
		for k, v := range c.env {
			e[k] = v
		}
		cfg, err := load(e)
		if err == nil {
			t.Errorf("%v accepted", c.want)
			continue
		}
		out := err.Error() + strings.Join(cfg.Warnings, "") + cfg.LogValue().String()
		if lower := strings.ToLower(out); strings.Contains(lower, "markersecret") || strings.Contains(lower, "miie") {
			t.Errorf("secret echoed: %s", out)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %q lacks %q", err, c.want)
		}
	}
}

func TestKeyFileModeWarns(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(key, []byte(markerKey), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := load(map[string]string{"SYSLOG_HOST": "siem", "SYSLOG_PROTOCOL": "tls", "SYSLOG_TLS_KEY_FILE": key, "SYSLOG_TLS_CERT_FILE": key})
	if err == nil {
		t.Fatal("a key without a certificate was accepted")
	}
	tlsKey := func(path string) (Config, error) {
		return load(map[string]string{"SYSLOG_HOST": "siem", "SYSLOG_PROTOCOL": "tls", "SYSLOG_TLS_CERT": testCert, "SYSLOG_TLS_KEY_FILE": path})
	}
	c, _ := tlsKey(key)
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "readable by group or others (mode 0644): chmod 600") {
		t.Errorf("warnings %q", c.Warnings)
	}
	if err := os.Chmod(key, 0o600); err != nil {
		t.Fatal(err)
	}
	if c, _ := tlsKey(key); len(c.Warnings) != 0 {
		t.Errorf("mode 0600: warnings %q", c.Warnings)
	}
	if _, err := tlsKey(dir); err == nil || !strings.Contains(err.Error(), "SYSLOG_TLS_KEY_FILE is "+secret.Quote(dir)+", which cannot be read: is a directory") {
		t.Errorf("a directory: %v", err)
	}
}

func TestInsecureSkipVerifyWarns(t *testing.T) {
	c, err := load(map[string]string{"SYSLOG_HOST": "siem", "SYSLOG_PROTOCOL": "tls", "SYSLOG_TLS_INSECURE_SKIP_VERIFY": "true"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(c.Warnings, "\n"), "SYSLOG_TLS_INSECURE_SKIP_VERIFY is true") {
		t.Errorf("warnings %q", c.Warnings)
	}
}

func TestRELPConfiguration(t *testing.T) {
	c, err := load(map[string]string{"SYSLOG_HOST": "siem", "SYSLOG_PROTOCOL": "relp"})
	if err != nil {
		t.Fatal(err)
	}
	s := c.Syslog.Transport
	if s.Address != "siem:20514" || s.RELPWindow != 128 || s.Framing != "" || c.Format.MaxSize != 8192 || c.Format.EscapeBreaks {
		t.Errorf("relp defaults: address %s window %d framing %q max %d escape %v", s.Address, s.RELPWindow, s.Framing, c.Format.MaxSize, c.Format.EscapeBreaks)
	}
	c, err = load(map[string]string{"SYSLOG_HOST": "siem", "SYSLOG_PROTOCOL": "relp-tls", "SYSLOG_TLS_SERVER_NAME": "siem.example", "SYSLOG_RELP_WINDOW": "16"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Syslog.Transport.TLS == nil || c.Syslog.Transport.TLS.ServerName != "siem.example" || c.Syslog.Transport.RELPWindow != 16 {
		t.Errorf("relp-tls: %+v", c.Syslog)
	}
	for _, bad := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"SYSLOG_PROTOCOL": "relp", "SYSLOG_FRAMING": "lf"}, "SYSLOG_FRAMING is \"lf\" but SYSLOG_PROTOCOL is relp: RELP frames every message itself"},
		{map[string]string{"SYSLOG_PROTOCOL": "relp", "SYSLOG_RELP_WINDOW": "0"}, "SYSLOG_RELP_WINDOW is \"0\": want a whole number from 1 to 65536"},
		{map[string]string{"SYSLOG_PROTOCOL": "tcp", "SYSLOG_RELP_WINDOW": "8"}, "SYSLOG_RELP_WINDOW is set but SYSLOG_PROTOCOL is tcp"},
		{map[string]string{"SYSLOG_PROTOCOL": "relp", "SYSLOG_TLS_CA_FILE": "/ca.pem"}, "SYSLOG_TLS_CA_FILE is set but SYSLOG_PROTOCOL is relp"},
	} {
		bad.env["SYSLOG_HOST"] = "siem"
		_, err := load(bad.env)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: %v, want %q", bad.env, err, bad.want)
		}
	}
}
