package secret

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const marker = "SECRETMARKER0123456789abcdef"

func TestCredentialsNeverPrintTheSecret(t *testing.T) {
	c := Credentials{AccessKeyID: "LTAIid", AccessKeySecret: marker, SecurityToken: marker + "tok"}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "creds", c)
	for _, s := range []string{
		c.String(), c.GoString(), fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s %q", c, c, c, c, c),
		fmt.Sprintf("%v", struct{ C Credentials }{c}), fmt.Sprintf("%+v", &c), logged.String(),
	} {
		if strings.Contains(s, "SECRETMARKER") {
			t.Errorf("secret in %q", s)
		}
		if !strings.Contains(s, "LTAIid") {
			t.Errorf("AccessKey ID missing from %q", s)
		}
	}
}

func TestQuote(t *testing.T) {
	pem := "-----BEGIN PRIVATE KEY-----\nMIIE" + marker + "\n-----END PRIVATE KEY-----\n"
	for _, v := range []string{pem, marker, "LTAI5tAbCdEfGh1234567890xyz", "ab12cd34ef56ab12cd34ef56ab12"} {
		if q := Quote(v); strings.Contains(q, v[:10]) && LooksLikeKey(v) || strings.Contains(q, "MIIE") {
			t.Errorf("Quote(%q) = %q shows it", v, q)
		}
	}
	if q := Quote("MTY1NTY0NTI3NzAwMDAwMDAwMA=="); !strings.Contains(q, "MTY1") {
		t.Errorf("a cursor is hidden: %q", q)
	}
	if q := Quote("cn-hangzhou-intranet.log.aliyuncs.com"); q != `"cn-hangzhou-intranet.log.aliyuncs.com"` {
		t.Errorf("host quoted as %q", q)
	}
	long := strings.Repeat("x y ", 100)
	if q := Quote(long); len(q) > 100 || !strings.Contains(q, "400 bytes") {
		t.Errorf("long value quoted as %q", q)
	}
	if q := Quote(strings.Repeat("é", 40)); !strings.HasSuffix(q, "(80 bytes)") || strings.Contains(q, `\x`) {
		t.Errorf("cut inside a character: %q", q)
	}
}
