package trust

import (
	"strings"
	"testing"
)

func TestProjectAndLogstoreNames(t *testing.T) {
	for _, ok := range []string{"abc", "my-project-1", "a1b", strings.Repeat("a", 63)} {
		if err := Project(ok); err != nil {
			t.Errorf("Project(%q) = %v, want ok", ok, err)
		}
	}
	for _, bad := range []string{"", "ab", "-abc", "abc-", "Abc", "a_b_c", "127.0.0.1:43555?", "a/b", "a@b", "x.127.0.0.1", "a..b", "a b", strings.Repeat("a", 64), "abc\n"} {
		err := Project(bad)
		if err == nil {
			t.Errorf("Project(%q) accepted", bad)
			continue
		}
		if !strings.Contains(err.Error(), "3–63 characters") {
			t.Errorf("Project(%q) error %q does not state the rule", bad, err)
		}
	}
	for _, ok := range []string{"ab", "audit_log", "a-b_c9"} {
		if err := Logstore(ok); err != nil {
			t.Errorf("Logstore(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"a", "_ab", "ab_", "AB", "a.b", "a/b", "a?b", strings.Repeat("a", 64)} {
		if Logstore(bad) == nil {
			t.Errorf("Logstore(%q) accepted", bad)
		}
	}
}

func TestAdmit(t *testing.T) {
	def, err := ParseEndpoints(DefaultAllowed, true)
	if err != nil {
		t.Fatal(err)
	}
	defHTTP, err := ParseEndpoints(DefaultAllowed, false)
	if err != nil {
		t.Fatal(err)
	}
	local, err := ParseEndpoints("127.0.0.1:18080, localhost:18080,[::1]:18080", false)
	if err != nil {
		t.Fatal(err)
	}
	bare, err := ParseEndpoints("127.0.0.1", false)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		e       Endpoints
		raw     string
		wantURL string // "" means refused
	}{
		{def, "cn-hangzhou-intranet.log.aliyuncs.com", "https://cn-hangzhou-intranet.log.aliyuncs.com"},
		{def, "http://cn-hangzhou.log.aliyuncs.com", "https://cn-hangzhou.log.aliyuncs.com"},
		{def, "https://CN-Shanghai.log.aliyuncs.com/", "https://cn-shanghai.log.aliyuncs.com"},
		{def, "cn-hangzhou.log.aliyuncs.com:443", "https://cn-hangzhou.log.aliyuncs.com:443"},
		// A pattern without a port admits only the scheme's own port.
		{def, "cn-hangzhou.log.aliyuncs.com:8443", ""},
		{def, "http://cn-hangzhou.log.aliyuncs.com:80", ""}, // upgraded to https: 80 is not https's port
		{defHTTP, "http://cn-hangzhou.log.aliyuncs.com:80", "http://cn-hangzhou.log.aliyuncs.com:80"},
		{defHTTP, "http://cn-hangzhou.log.aliyuncs.com:443", ""},
		{defHTTP, "https://cn-hangzhou.log.aliyuncs.com:443", "https://cn-hangzhou.log.aliyuncs.com:443"},
		{defHTTP, "http://cn-hangzhou.log.aliyuncs.com:8080", ""},
		{def, "log-global.aliyuncs.com", "https://log-global.aliyuncs.com"},
		{def, "log.aliyuncs.com", ""},
		{def, "evil.com", ""},
		{def, "cn-hangzhou.log.aliyuncs.com.evil.com", ""},
		{def, "evillog.aliyuncs.com", ""},
		{def, "127.0.0.1:8080", ""},
		{def, "localhost", ""},
		{def, "http://user:pw@cn-hangzhou.log.aliyuncs.com", ""},
		{def, "cn-hangzhou.log.aliyuncs.com/path", ""},
		{def, "cn-hangzhou.log.aliyuncs.com?x=1", ""},
		{def, "ftp://cn-hangzhou.log.aliyuncs.com", ""},
		{def, "cn-hangzhou.log.aliyuncs.com:0", ""},
		{def, "cn-hangzhou.log.aliyuncs.com:99999", ""},
		{def, "", ""},
		{local, "127.0.0.1:18080", "http://127.0.0.1:18080"},
		{local, "http://localhost:18080", "http://localhost:18080"},
		// A pattern with a port admits that port only: another listener
		// of the same host is refused.
		{local, "127.0.0.1:18081", ""},
		{local, "127.0.0.1", ""},
		{local, "http://localhost:1", ""},
		{local, "127.0.0.2:18080", ""},
		{local, "cn-hangzhou.log.aliyuncs.com", ""},
		{local, "[::1]:18080", "http://[::1]:18080"},
		{local, "[::1]:18081", ""},
		{bare, "127.0.0.1", "http://127.0.0.1"},
		{bare, "127.0.0.1:80", "http://127.0.0.1:80"},
		{bare, "127.0.0.1:18080", ""},
	}
	for _, c := range cases {
		got, err := c.e.Admit(c.raw)
		if c.wantURL == "" {
			if err == nil {
				t.Errorf("Admit(%q) = %+v, want refusal", c.raw, got)
			}
			continue
		}
		if err != nil || got.URL != c.wantURL {
			t.Errorf("Admit(%q) = %+v, %v; want %s", c.raw, got, err, c.wantURL)
		}
	}
	_, err = def.Admit("127.0.0.1:43555")
	if err == nil || !strings.Contains(err.Error(), "SLS_ALLOWED_ENDPOINTS") {
		t.Errorf("refusal does not name SLS_ALLOWED_ENDPOINTS: %v", err)
	}
	_, err = local.Admit("127.0.0.1:43555")
	if err == nil || !strings.Contains(err.Error(), "not port 43555") || !strings.Contains(err.Error(), "127.0.0.1:18080") {
		t.Errorf("refusal of another port does not name the port and the patterns: %v", err)
	}
}

func TestPatternsKeepTheirPorts(t *testing.T) {
	e, err := ParseEndpoints("127.0.0.1:18080,*.log.aliyuncs.com,[::1]:1,LocalHost:8", false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(e.Patterns(), ","), "127.0.0.1:18080,*.log.aliyuncs.com,[::1]:1,localhost:8"; got != want {
		t.Errorf("Patterns = %s, want %s", got, want)
	}
}

func TestParseEndpointsRefusesSurprisingPatterns(t *testing.T) {
	for _, bad := range []string{"", " , ", "*", "*.com", "http://x.com", "x.com:0", "x.com:99999", "x.com:http", "x.com:", "x.com:080", "a*.x.com", "*.127.0.0.1", "*.127.0.0.1:80", "x.com/p", "bad_host!"} {
		if _, err := ParseEndpoints(bad, true); err == nil {
			t.Errorf("ParseEndpoints(%q) accepted", bad)
		}
	}
}

func TestRequestHost(t *testing.T) {
	local, _ := ParseEndpoints("127.0.0.1:8080,localhost:8080", false)
	def, _ := ParseEndpoints(DefaultAllowed, true)
	if h, direct, err := local.RequestHost("http", "proj-1.127.0.0.1:8080"); err != nil || h != "127.0.0.1:8080" || !direct {
		t.Errorf("local RequestHost = %q %v %v", h, direct, err)
	}
	if _, _, err := local.RequestHost("http", "proj-1.127.0.0.1:8081"); err == nil || !strings.Contains(err.Error(), "port 8081") {
		t.Errorf("local RequestHost of another port: %v", err)
	}
	if h, direct, err := def.RequestHost("https", "proj-1.cn-hangzhou.log.aliyuncs.com:443"); err != nil || h != "cn-hangzhou.log.aliyuncs.com:443" || direct {
		t.Errorf("def RequestHost = %q %v %v", h, direct, err)
	}
	if h, _, err := def.RequestHost("https", "proj-1.cn-hangzhou.log.aliyuncs.com"); err != nil || h != "cn-hangzhou.log.aliyuncs.com" {
		t.Errorf("def RequestHost without a port = %q %v", h, err)
	}
	// Dialling (scheme unknown): a port-less pattern admits 80 and 443.
	for _, ok := range []string{"p-1.cn-hangzhou.log.aliyuncs.com:443", "p-1.cn-hangzhou.log.aliyuncs.com:80"} {
		if _, _, err := def.RequestHost("", ok); err != nil {
			t.Errorf("def.RequestHost(\"\", %q) = %v", ok, err)
		}
	}
	for _, bad := range []struct{ scheme, host string }{
		{"https", "127.0.0.1:43555"}, {"https", "proj.127.0.0.1:1"}, {"https", "x.evil.com:443"},
		{"https", "Proj_1.cn-hangzhou.log.aliyuncs.com"}, {"https", "cn-hangzhou.log.aliyuncs.com"},
		{"https", "p-1.cn-hangzhou.log.aliyuncs.com:8443"}, {"https", "p-1.cn-hangzhou.log.aliyuncs.com:80"},
		{"http", "p-1.cn-hangzhou.log.aliyuncs.com:443"}, {"", "p-1.cn-hangzhou.log.aliyuncs.com:8443"},
	} {
		if _, _, err := def.RequestHost(bad.scheme, bad.host); err == nil {
			t.Errorf("def.RequestHost(%q, %q) accepted", bad.scheme, bad.host)
		}
	}
}
