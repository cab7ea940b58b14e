package format

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"
	"github.com/leodido/go-syslog/v4/rfc5424"
)

func encode(t *testing.T, o Options, g *sls.LogGroup, l *sls.Log) (string, Result) {
	t.Helper()
	if o.Hostname == "" {
		o.Hostname = "host"
	}
	e := NewEncoder(o)
	out, res := e.Append(nil, e.NewGroup(g, ""), 0, l)
	return string(out), res
}

func parse5424(t *testing.T, out string) *rfc5424.SyslogMessage {
	t.Helper()
	m, err := rfc5424.NewParser(rfc5424.WithCompliantMsg()).Parse([]byte(out))
	if err != nil {
		t.Fatalf("strict RFC 5424 parse of %q: %v", out, err)
	}
	return m.(*rfc5424.SyslogMessage)
}

func logWith(kv ...string) *sls.Log {
	return &sls.Log{Time: proto.Uint32(1732500000), TimeNs: proto.Uint32(123456789), Contents: pairs(kv...)}
}

func TestSeverityVocabulary(t *testing.T) {
	cases := map[string]int{
		"0": 0, "7": 7, "emerg": 0, "PANIC": 0, "alert": 1, "Crit": 2, "critical": 2, "FATAL": 2,
		"err": 3, "Error": 3, "warn": 4, "WARNING": 4, "notice": 5, "info": 6, "Informational": 6,
		"debug": 7, "TRACE": 7, " info ": 6, "0 ": 0, "\t7": 7,
	}
	for v, want := range cases {
		if got, ok := ParseSeverity(v); !ok || got != want {
			t.Errorf("ParseSeverity(%q) = %d, %v; want %d", v, got, ok, want)
		}
	}
	for _, v := range []string{"", "8", "-1", "information overload", "warnings", "é", "10"} {
		if got, ok := ParseSeverity(v); ok {
			t.Errorf("ParseSeverity(%q) = %d, want not ok", v, got)
		}
	}
	for v, want := range map[string]int{"0": 0, "23": 23, "local7": 23, "AUTHPRIV": 10, "user": 1} {
		if got, ok := ParseFacility(v); !ok || got != want {
			t.Errorf("ParseFacility(%q) = %d, %v; want %d", v, got, ok, want)
		}
	}
	for _, v := range []string{"24", "30", "local8", ""} {
		if _, ok := ParseFacility(v); ok {
			t.Errorf("ParseFacility(%q) ok, want not", v)
		}
	}
}

func TestHeaderFieldsFromFields(t *testing.T) {
	g := testGroup() // __source__ 10.0.0.1, __tag__:__hostname__ web-2
	o := Options{
		Facility: 1, Severity: 6, Hostname: "const-host", AppName: "const-app",
		SeverityKeys: []string{"level"}, FacilityKeys: []string{"fac"},
		HostnameKeys: []string{"missing", "empty", "__tag__:__hostname__", "__source__"},
		AppNameKeys:  []string{"__topic__"}, ProcIDKeys: []string{"pid"}, MsgIDKeys: []string{"event"},
	}
	out, _ := encode(t, o, g, logWith("empty", "", "level", "Error", "fac", "local3", "pid", "12 34", "event", "Console Signin é"))
	m := parse5424(t, out)
	if *m.Priority != 19*8+3 || *m.Hostname != "web-2" || *m.Appname != "audit" || *m.ProcID != "12_34" || *m.MsgID != "Console_Signin__" {
		t.Errorf("header from fields: %q", out)
	}
	// Unknown words and missing fields fall back to the constants.
	out, _ = encode(t, o, &sls.LogGroup{}, logWith("level", "loud", "fac", "99"))
	m = parse5424(t, out)
	if *m.Priority != 1*8+6 || *m.Hostname != "const-host" || *m.Appname != "const-app" || m.ProcID != nil || m.MsgID != nil {
		t.Errorf("fallback header: %q", out)
	}
	// Lengths are the RFC's.
	long := strings.Repeat("x", 300)
	out, _ = encode(t, o, &sls.LogGroup{Topic: proto.String(long)}, logWith("pid", long, "event", long))
	m = parse5424(t, out)
	if len(*m.Appname) != 48 || len(*m.ProcID) != 128 || len(*m.MsgID) != 32 {
		t.Errorf("header lengths %d %d %d", len(*m.Appname), len(*m.ProcID), len(*m.MsgID))
	}
}

func TestTimezoneOffsets(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	e := NewEncoder(Options{Hostname: "h", Location: ny})
	grp := e.NewGroup(&sls.LogGroup{}, "")
	// The same encoder across a DST change: 2024-03-10 07:00:00Z.
	for _, c := range []struct {
		sec  uint32
		want string
	}{
		{1710053999, "2024-03-10T01:59:59.000001-05:00"},
		{1710054000, "2024-03-10T03:00:00.000001-04:00"},
		{1710053999, "2024-03-10T01:59:59.000001-05:00"},
	} {
		out, _ := e.Append(nil, grp, 0, &sls.Log{Time: proto.Uint32(c.sec), TimeNs: proto.Uint32(1000)})
		if got := strings.Fields(string(out))[1]; got != c.want {
			t.Errorf("time %d: %s, want %s", c.sec, got, c.want)
		}
	}
	// Against the standard library, over random times and zones.
	zones := []*time.Location{time.UTC, ny, time.FixedZone("", -(9*3600 + 30*60))}
	if sh, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		zones = append(zones, sh)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, loc := range zones {
		c := newClock(loc)
		for range 2000 {
			sec, nsec := int64(r.Uint32()), int64(r.IntN(1e9))
			want := time.Unix(sec, nsec).In(loc)
			got := string(c.appendRFC3339(nil, sec, nsec))
			if w := want.Format("2006-01-02T15:04:05.000000Z07:00"); got != w {
				t.Fatalf("%v: %d.%09d = %s, want %s", loc, sec, nsec, got, w)
			}
			if got, w := string(c.appendBSD(nil, sec)), want.Format(time.Stamp); got != w {
				t.Fatalf("%v: RFC 3164 %d = %q, want %q", loc, sec, got, w)
			}
			if got, w := string(c.appendJava(nil, sec, nsec)), want.Format("2006-01-02T15:04:05.000-0700"); got != w {
				t.Fatalf("%v: devTime %d = %q, want %q", loc, sec, got, w)
			}
		}
	}
}

func TestBOMAndStructuredData(t *testing.T) {
	o := Options{BOM: true, Origin: true, SDID: "fields@32473", SDKeys: []string{"user", "a b=c", "missing"}, EscapeBreaks: true}
	e := NewEncoder(Options{Hostname: "h", BOM: o.BOM, Origin: o.Origin, SDID: o.SDID, SDKeys: o.SDKeys, EscapeBreaks: true})
	e.SetOrigin("my-project", "audit", 1)
	out, _ := e.Append(nil, e.NewGroup(testGroup(), "MTYwMDAwMDAwMDAwMDAwMDAwNQ=="), 7, logWith("user", `al"i]c\e`+"\n", "a b=c", "v"))
	if !bytes.Contains(out, []byte("] \xEF\xBB\xBF||__topic__=")) {
		t.Errorf("no BOM before MSG: %q", out)
	}
	m := parse5424(t, string(out))
	sd := *m.StructuredData
	want := map[string]map[string]string{
		OriginSDID:     {"project": "my-project", "logstore": "audit", "shard": "1", "cursor": "MTYwMDAwMDAwMDAwMDAwMDAwNQ==", "index": "7"},
		"fields@32473": {"user": `al"i]c\e\n`, "a_b_c": "v"},
	}
	for id, params := range want {
		for k, v := range params {
			if sd[id][k] != v {
				t.Errorf("SD %s %s = %q, want %q (%q)", id, k, sd[id][k], v, out)
			}
		}
		if len(sd[id]) != len(params) {
			t.Errorf("SD %s = %v, want %v", id, sd[id], params)
		}
	}
	// No structured data when none of the fields is present.
	out2, _ := encode(t, Options{SDID: "x@1", SDKeys: []string{"nope"}}, &sls.LogGroup{}, logWith("a", "b"))
	if m := parse5424(t, out2); m.StructuredData != nil {
		t.Errorf("empty SD element written: %q", out2)
	}
}

func TestIncludeExcludeKeys(t *testing.T) {
	o := Options{IncludeKeys: []string{"__tag__:*", "user", "action"}, ExcludeKeys: []string{"__tag__:__path__"},
		HostnameKeys: []string{"__source__"}, MsgIDKeys: []string{"secret"}}
	out, _ := encode(t, o, testGroup(), logWith("user", "alice", "secret", "s3", "action", "login"))
	m := parse5424(t, out)
	if got, want := *m.Message, "||__tag__:__hostname__=web-2||user=alice||action=login"; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
	if *m.Hostname != "10.0.0.1" || *m.MsgID != "s3" {
		t.Errorf("mapping must see excluded fields: %q", out)
	}
}

func TestRFC3164Header(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Skip(err)
	}
	o := Options{Syntax: SyntaxRFC3164, Facility: 16, Severity: 5, Hostname: "fe80::1", AppName: "sls 2 siem:x[y]",
		ProcIDKeys: []string{"pid"}, Location: sh, EscapeBreaks: true}
	l := &sls.Log{Time: proto.Uint32(1730750400), Contents: pairs("pid", "4[2]", "m", "a\x1bb\nc\x7f")} // 2024-11-05 04:00 +08:00
	out, _ := encode(t, o, &sls.LogGroup{}, l)
	want := `<133>Nov  5 04:00:00 fe80__1 sls_2_siem_x_y_[4_2_]: ||__topic__=||__source__=||pid=4[2]||m=a\x1bb\nc\x7f`
	if out != want {
		t.Errorf("RFC 3164 message\n%q\nwant\n%q", out, want)
	}
	// An empty body is "-": RFC 3164 content cannot be empty.
	out, _ = encode(t, Options{Syntax: SyntaxRFC3164, ExcludeKeys: []string{"*"}}, &sls.LogGroup{}, l)
	if !strings.HasSuffix(out, "host -: -") {
		t.Errorf("empty body: %q", out)
	}
}

func TestOversize(t *testing.T) {
	big := strings.Repeat("é", 3000)
	l := logWith("a", "x", "big", big, "z", "tail")
	for _, body := range []string{BodyKV, BodyJSON, BodyCEF, BodyLEEF} {
		o := Options{Body: body, MaxSize: 1000, EscapeBreaks: true, Vendor: "V", Product: "P", Version: "1"}
		out, res := encode(t, o, testGroup(), l)
		wantMin := 990 // kv, JSON: cut inside the long value
		if body == BodyCEF || body == BodyLEEF {
			wantMin = 100 // whole pairs: the long one is left out
		}
		if res != Truncated || len(out) > 1000 || len(out) < wantMin {
			t.Errorf("%s: result %d, %d bytes, want Truncated and %d–1000 bytes", body, res, len(out), wantMin)
		}
		msg := *parse5424(t, out).Message
		var err error
		var pairs []Field
		switch body {
		case BodyJSON:
			var m map[string]string
			err = json.Unmarshal([]byte(msg), &m)
			if !strings.HasPrefix(m["big"], "ééé") || m["z"] != "" {
				t.Errorf("json: cut inside the long value expected: %v", m)
			}
		case BodyCEF:
			var ev cefEvent
			ev, err = parseCEF(msg)
			pairs = ev.Ext
		case BodyLEEF:
			var ev leefEvent
			ev, err = parseLEEF(msg)
			pairs = ev.Attrs
		}
		if body == BodyCEF || body == BodyLEEF {
			// The pair that does not fit is left out, the later ones kept.
			got := map[string]string{}
			for _, p := range pairs {
				got[p.Key] = p.Value
			}
			if _, ok := got["big"]; ok || got["a"] != "x" || got["z"] != "tail" {
				t.Errorf("%s: pairs %v, want a and z whole and big left out", body, got)
			}
		}
		if err != nil {
			t.Errorf("%s: cut message does not parse: %v", body, err)
		}
		o.DropOversize = true
		e := NewEncoder(o)
		dst := []byte("previous message")
		dst, res = e.Append(dst, e.NewGroup(testGroup(), ""), 0, l)
		if res != Dropped || string(dst) != "previous message" {
			t.Errorf("%s: drop: result %d, buffer %q", body, res, dst)
		}
	}
	// Structured data that alone exceeds the limit is cut too, and the
	// message still parses.
	o := Options{SDID: "f@1", SDKeys: []string{"big", "a"}, Origin: true, MaxSize: 600, HostnameKeys: []string{"h"}}
	out, res := encode(t, o, testGroup(), logWith("big", big, "a", "x", "h", strings.Repeat("h", 255)))
	if res != Truncated || len(out) > 600 {
		t.Fatalf("SD cut: result %d, %d bytes", res, len(out))
	}
	if m := parse5424(t, out); !strings.HasPrefix((*m.StructuredData)["f@1"]["big"], "ééé") {
		t.Errorf("SD value not cut in place: %q", out)
	}
}

func TestAttributeKeys(t *testing.T) {
	a := newAttrKeys("rt")
	a.start()
	var got []string
	for _, k := range []string{"rt", "userIdentity.userName", "__tag__:__hostname__", "中文", "", "a.b", "aB", "aB2"} {
		got = append(got, a.key(k))
	}
	want := "rt2 userIdentityUserName tagHostname u4e2du6587 field aB aB2 aB22"
	if strings.Join(got, " ") != want {
		t.Errorf("keys = %s\nwant   %s", strings.Join(got, " "), want)
	}
}

func TestParseLEEFDelimiter(t *testing.T) {
	for in, want := range map[string]byte{"^": '^', "0x5E": '^', "x5e": '^', "x09": '\t', "0x7C": 0, "|": 0, "a": 0, "=": 0, "xZZ": 0, "0x1F600": 0, " ": 0, "": 0} {
		got, err := ParseLEEFDelimiter(in)
		if want == 0 && err == nil {
			t.Errorf("ParseLEEFDelimiter(%q) = %q, want an error", in, got)
		}
		if want != 0 && (err != nil || got != want) {
			t.Errorf("ParseLEEFDelimiter(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestSDNames(t *testing.T) {
	if !ValidSDName("fields@32473") || ValidSDName("a b") || ValidSDName(`a"b`) || ValidSDName(strings.Repeat("a", 33)) || ValidSDName("") {
		t.Error("ValidSDName")
	}
	if got := SanitizeSDName(`a b]c="é`); got != "a_b_c___" {
		t.Errorf("SanitizeSDName = %q", got)
	}
	if got := SanitizeHeader("web 01\x00", 255); got != "web_01_" {
		t.Errorf("SanitizeHeader = %q", got)
	}
}

// Every format encodes without allocating once warm.
func TestNoAllocationsInAnyFormat(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	for name, o := range map[string]Options{
		"rfc5424-kv":   {},
		"rfc5424-json": {Body: BodyJSON},
		"rfc5424-cef":  {Body: BodyCEF, EventIDKeys: []string{"eventName"}},
		"rfc5424-leef": {Body: BodyLEEF, LEEFDelimiter: '^'},
		"rfc3164-kv":   {Syntax: SyntaxRFC3164, Location: sh},
		"mapped": {Location: sh, BOM: true, Origin: true, SeverityKeys: []string{"errorCode"}, HostnameKeys: []string{"__tag__:__hostname__"},
			SDID: "f@1", SDKeys: []string{"eventName"}, IncludeKeys: []string{"user*", "event*"}},
	} {
		o.Hostname, o.EscapeBreaks, o.MaxSize = "h", true, 65536
		e := NewEncoder(o)
		grp := e.NewGroup(testGroup(), "MTYwMA==")
		l := &sls.Log{Time: proto.Uint32(1732500000), TimeNs: proto.Uint32(5), Contents: pairs(tenFields()...)}
		buf, _ := e.Append(nil, grp, 0, l)
		if allocs := testing.AllocsPerRun(100, func() { buf, _ = e.Append(buf[:0], grp, 1, l) }); allocs != 0 {
			t.Errorf("%s: %.1f allocations per log, want 0", name, allocs)
		}
	}
}
