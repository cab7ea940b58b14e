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
	local, err := ParseEndpoints("127.0.0.1, localhost", false)
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
		{def, "cn-hangzhou.log.aliyuncs.com:8443", "https://cn-hangzhou.log.aliyuncs.com:8443"},
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
		{local, "http://localhost:1", "http://localhost:1"},
		{local, "127.0.0.2:1", ""},
		{local, "cn-hangzhou.log.aliyuncs.com", ""},
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
}

func TestParseEndpointsRefusesSurprisingPatterns(t *testing.T) {
	for _, bad := range []string{"", " , ", "*", "*.com", "http://x.com", "x.com:80", "a*.x.com", "*.127.0.0.1", "x.com/p", "bad_host!"} {
		if _, err := ParseEndpoints(bad, true); err == nil {
			t.Errorf("ParseEndpoints(%q) accepted", bad)
		}
	}
}

func TestRequestHost(t *testing.T) {
	local, _ := ParseEndpoints("127.0.0.1,localhost", false)
	def, _ := ParseEndpoints(DefaultAllowed, true)
	if h, direct, err := local.RequestHost("proj-1.127.0.0.1:8080"); err != nil || h != "127.0.0.1:8080" || !direct {
		t.Errorf("local RequestHost = %q %v %v", h, direct, err)
	}
	if h, direct, err := def.RequestHost("proj-1.cn-hangzhou.log.aliyuncs.com:443"); err != nil || h != "cn-hangzhou.log.aliyuncs.com:443" || direct {
		t.Errorf("def RequestHost = %q %v %v", h, direct, err)
	}
	for _, bad := range []string{"127.0.0.1:43555", "proj.127.0.0.1:1", "x.evil.com:443", "Proj_1.cn-hangzhou.log.aliyuncs.com", "cn-hangzhou.log.aliyuncs.com"} {
		if _, _, err := def.RequestHost(bad); err == nil {
			t.Errorf("def.RequestHost(%q) accepted", bad)
		}
	}
}
