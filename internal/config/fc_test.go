package config

import (
	"strings"
	"testing"
	"time"
)

func TestFunctionTimeout(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want time.Duration // 0: refused
	}{
		{"300", 300 * time.Second}, {"300s", 300 * time.Second}, {"10m", 10 * time.Minute}, {"1", time.Second},
		{"86400", 24 * time.Hour}, {"0", 0}, {"86401", 0}, {"500ms", 0}, {"-5", 0}, {"5 minutes", 0}, {"25h", 0},
	} {
		got, err := functionTimeout(tc.v)
		switch {
		case tc.want == 0 && err == nil:
			t.Errorf("%q: %v, want refused", tc.v, got)
		case tc.want != 0 && (err != nil || got != tc.want):
			t.Errorf("%q: %v %v, want %v", tc.v, got, err, tc.want)
		}
	}
}

func TestLoadFC(t *testing.T) {
	env := map[string]string{VarSyslogHost: "siem.example.com", VarShipFunctionTimeout: "600s", VarShipFunction: "REDRIVE"}
	cfg, err := Load(func(k string) string { return env[k] }, UseTrigger)
	if err != nil || cfg.FC.Timeout != 10*time.Minute || cfg.FC.Function != FunctionRedrive {
		t.Errorf("FC = %+v, %v", cfg.FC, err)
	}
	if f, err := FunctionOf(func(string) string { return "" }); f != FunctionShip || err != nil {
		t.Errorf("FunctionOf(unset) = %q, %v; want ship", f, err)
	}
	if _, err := FunctionOf(func(k string) string { return map[string]string{VarShipFunction: "consume"}[k] }); err == nil ||
		!strings.Contains(err.Error(), "SHIP_FUNCTION is \"consume\": accepted values are ship, redrive") {
		t.Errorf("FunctionOf(consume): %v", err)
	}
}

// TestSigningNeedsARegion: v4 with SLS_ENDPOINT on an address that names
// no region needs SLS_REGION, said at load time.
func TestSigningNeedsARegion(t *testing.T) {
	base := map[string]string{VarSyslogHost: "siem.example.com", VarSLSEndpoint: "http://127.0.0.1:8080", VarSLSProject: "proj",
		VarSLSAllowedEndpoints: "127.0.0.1:8080", VarSLSHTTPS: "false", VarShipDeadLetterLogstore: "dl",
		VarShipDeadLetterKey: strings.Repeat("k", 32), VarShipRedriveLogstores: "audit"}
	load := func(extra map[string]string) (Config, error) {
		return Load(func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			return base[k]
		}, UseRedriveFC)
	}
	if _, err := load(map[string]string{VarSLSSignatureVersion: "v4"}); err == nil ||
		!strings.Contains(err.Error(), "SLS_SIGNATURE_VERSION is v4, but the region of SLS_ENDPOINT http://127.0.0.1:8080 is unknown: set SLS_REGION") {
		t.Errorf("v4 without a region: %v", err)
	}
	cfg, err := load(map[string]string{VarSLSSignatureVersion: "V4", VarSLSRegion: "cn-hangzhou"})
	if err != nil || cfg.Signing.Version != "v4" || cfg.Signing.Region != "cn-hangzhou" {
		t.Errorf("v4 with SLS_REGION: %+v %v", cfg.Signing, err)
	}
	if _, err := load(map[string]string{VarSLSRegion: "Hangzhou"}); err == nil || !strings.Contains(err.Error(), "SLS_REGION is \"Hangzhou\": want a region ID") {
		t.Errorf("bad SLS_REGION: %v", err)
	}
	if _, err := load(map[string]string{VarSLSSignatureVersion: "v2"}); err == nil || !strings.Contains(err.Error(), "accepted values are v1, v4") {
		t.Errorf("v2: %v", err)
	}
	if cfg, err := load(nil); err != nil || cfg.Signing.Version != "" {
		t.Errorf("unset: %+v %v; want the SDK's default", cfg.Signing, err)
	}
}

func TestCheckFCEnv(t *testing.T) {
	pem := func(n int) string { return "-----BEGIN X-----\n" + strings.Repeat("A", n) + "\n-----END X-----\n" }
	small := map[string]string{VarSyslogHost: "siem.example.com", VarSyslogTLSCAFile: "/opt/ssl/siem-ca.pem"}
	if e := CheckFCEnv(func(k string) string { return small[k] }); e != nil {
		t.Errorf("a small environment: %v", e)
	}
	inline := map[string]string{VarSyslogHost: "siem.example.com", VarSyslogTLSCA: pem(1300), VarSyslogTLSCert: pem(1300), VarSyslogTLSKey: pem(1700)}
	e := CheckFCEnv(func(k string) string { return inline[k] })
	if e == nil {
		t.Fatal("4.3 KB of PEM text fits, says CheckFCEnv")
	}
	for _, want := range []string{"the consumer-group function would take", "4 KB (4096 bytes)",
		"SYSLOG_TLS_CA, SYSLOG_TLS_CERT, SYSLOG_TLS_KEY hold 4405 bytes of PEM text", "make layer",
		"SYSLOG_TLS_CA_FILE=/opt/ssl/siem-ca.pem, SYSLOG_TLS_CERT_FILE=/opt/ssl/client.pem, SYSLOG_TLS_KEY_FILE=/opt/ssl/client-key.pem"} {
		if !strings.Contains(e.Msg, want) {
			t.Errorf("%q lacks %q", e.Msg, want)
		}
	}
	if e.Var != VarSyslogTLSCA || strings.Contains(e.Msg, "AAAA") {
		t.Errorf("error %+v: want it on SYSLOG_TLS_CA, no value shown", e)
	}
	long := map[string]string{VarSyslogHost: "siem.example.com", VarSyslogSDKeys: strings.Repeat("k,", 2100)}
	if e := CheckFCEnv(func(k string) string { return long[k] }); e == nil || !strings.Contains(e.Msg, "shorten the longest values") {
		t.Errorf("a long list: %v", e)
	}
}
