package format

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"
	"github.com/leodido/go-syslog/v4/rfc3164"

	"sls2siem/internal/localcloud/sample"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the encoder's output")

const goldenDir = "../../testdata/golden"

// goldenGroups are the first groups of the sample logstore's shard 0 (group
// 2 holds its edge cases) and a hostile group: control characters, invalid
// UTF-8, keys that are not valid CEF/LEEF keys or that collide.
func goldenGroups(t *testing.T) []*sls.LogGroup {
	t.Helper()
	data, err := sample.Load("../../testdata/logstore")
	if err != nil {
		t.Fatal(err)
	}
	var out []*sls.LogGroup
	for _, g := range data.Shards[0][:3] {
		out = append(out, g.SLS())
	}
	out = append(out, &sls.LogGroup{
		Topic: proto.String("hostile|topic"), Source: proto.String("fe80::1"),
		LogTags: tags("__hostname__", "web 1", "__path__", "/var/log/x"),
		Logs: []*sls.Log{
			{Time: proto.Uint32(1795478400), TimeNs: proto.Uint32(1), Contents: pairs(
				"level", "FATAL", "msg", "line1\nline2\r\nNUL\x00ESC\x1b[0mDEL\x7f tab\tend",
				"bad utf8", "a\xff\xfeb\xc3", "quote", `"]\=|^`, "rt", "collides", "devTime", "collides",
				"a.b", "1", "aB", "2", "中文键", "值", "", "empty key")},
			{Time: proto.Uint32(1795478401), Contents: pairs("level", "debug", "eventName", "x=y|z\\", "big", strings.Repeat("0123456789", 700))},
		},
	})
	return out
}

var goldenConfigs = []struct {
	name string
	o    Options
}{
	{"rfc5424-kv", Options{}},
	{"rfc5424-kv-octet", Options{}},
	{"rfc5424-kv-mapped", Options{Location: shanghai(), BOM: true, Origin: true, SeverityKeys: []string{"level", "http_status"},
		HostnameKeys: []string{"__tag__:__hostname__", "__source__"}, AppNameKeys: []string{"__topic__"}, MsgIDKeys: []string{"eventName"},
		SDID: "fields@32473", SDKeys: []string{"userIdentity.userName", "sourceIpAddress", "msg"}, ExcludeKeys: []string{"__tag__:__pack_id__"}}},
	{"rfc3164-kv", Options{Syntax: SyntaxRFC3164, Location: shanghai(), SeverityKeys: []string{"level"}, AppNameKeys: []string{"__topic__"}}},
	{"rfc5424-json", Options{}},
	{"rfc5424-cef", Options{EventIDKeys: []string{"eventName", "__topic__"}, EventNameKeys: []string{"eventName", "request"}, SeverityKeys: []string{"level"}}},
	{"rfc5424-leef", Options{EventIDKeys: []string{"eventName", "__topic__"}, SeverityKeys: []string{"level"}}},
	{"rfc5424-leef2", Options{Location: shanghai(), EventIDKeys: []string{"__topic__"}, LEEFDelimiter: '^'}},
	{"rfc3164-json", Options{Syntax: SyntaxRFC3164}},
}

func shanghai() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("+08:00", 8*3600)
	}
	return loc
}

// TestGolden compares every format's output on the golden groups with
// testdata/golden/NAME.txt (one message per line; the octet-counting file
// holds Go-quoted lines since its messages contain line breaks). Each
// message is also parsed by the format's oracle. -update rewrites them.
func TestGolden(t *testing.T) {
	groups := goldenGroups(t)
	for _, c := range goldenConfigs {
		t.Run(c.name, func(t *testing.T) {
			o := c.o
			o.Facility, o.Severity, o.Hostname, o.AppName = 16, 6, "sls2siem-host", "sls2siem"
			o.EscapeBreaks = !strings.HasSuffix(c.name, "-octet")
			o.MaxSize = 4096
			o.Vendor, o.Product, o.Version, o.EventID, o.EventName = "Alibaba Cloud", "SLS", "1.0", "sls-log", "SLS log"
			for _, b := range []string{BodyJSON, BodyCEF, BodyLEEF} {
				if strings.Contains(c.name, "-"+b) {
					o.Body = b
				}
			}
			e := NewEncoder(o)
			e.SetOrigin("sls2siem-demo", "audit", 0)
			var got bytes.Buffer
			for gi, g := range groups {
				grp := e.NewGroup(g, "MTYwMDAwMDAwMDAwMDAwMDAw"+strconv.Itoa(gi))
				for i, l := range g.Logs {
					out, _ := e.Append(nil, grp, i, l)
					checkGolden(t, o, out)
					if o.EscapeBreaks {
						got.Write(out)
					} else {
						got.WriteString(strconv.Quote(string(out)))
					}
					got.WriteByte('\n')
				}
			}
			file := filepath.Join(goldenDir, c.name+".txt")
			if *update {
				if err := os.MkdirAll(goldenDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/format -run TestGolden -update)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				gl, wl := lines(got.Bytes()), lines(want)
				for i := range max(len(gl), len(wl)) {
					if i >= len(gl) || i >= len(wl) || gl[i] != wl[i] {
						t.Fatalf("%s differs at line %d:\ngot  %s\nwant %s", file, i+1, short(at(gl, i)), short(at(wl, i)))
					}
				}
			}
		})
	}
}

func lines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(none)"
}

// checkGolden parses a golden message with its format's oracle.
func checkGolden(t *testing.T, o Options, out []byte) {
	t.Helper()
	if len(out) > o.MaxSize || (o.EscapeBreaks && bytes.ContainsAny(out, "\r\n\x00")) {
		t.Fatalf("message breaks the size or LF rule: %s", short(out))
	}
	var msg string
	if o.Syntax == SyntaxRFC3164 {
		m, err := rfc3164.NewParser(rfc3164.WithYear(rfc3164.Year{YYYY: 2026}), rfc3164.WithLocaleTimezone(o.Location)).Parse(out)
		if err != nil {
			t.Fatalf("RFC 3164: %v: %s", err, short(out))
		}
		msg = deref(m.(*rfc3164.SyslogMessage).Message)
	} else {
		msg = msgOf(t, out)
	}
	msg = strings.TrimPrefix(msg, "\uFEFF")
	var err error
	switch o.Body {
	case BodyJSON:
		decodeJSONPairs(t, msg)
	case BodyCEF:
		_, err = parseCEF(msg)
	case BodyLEEF:
		_, err = parseLEEF(msg)
	}
	if err != nil {
		t.Fatalf("%s: %v: %s", o.Body, err, short(msg))
	}
}
