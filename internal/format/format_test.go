package format

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"
	"github.com/leodido/go-syslog/v4/rfc5424"
)

func pairs(kv ...string) []*sls.LogContent {
	var out []*sls.LogContent
	for i := 0; i < len(kv); i += 2 {
		out = append(out, &sls.LogContent{Key: proto.String(kv[i]), Value: proto.String(kv[i+1])})
	}
	return out
}

func tags(kv ...string) []*sls.LogTag {
	var out []*sls.LogTag
	for i := 0; i < len(kv); i += 2 {
		out = append(out, &sls.LogTag{Key: proto.String(kv[i]), Value: proto.String(kv[i+1])})
	}
	return out
}

func testGroup() *sls.LogGroup {
	return &sls.LogGroup{
		Topic:   proto.String("audit"),
		Source:  proto.String("10.0.0.1"),
		LogTags: tags("__hostname__", "web-1", "__path__", "/var/log/a", "__hostname__", "web-2"),
	}
}

func flatten(g *sls.LogGroup, l *sls.Log) []Field {
	var ns [16]byte
	fs := NewGroup(g).Flatten(nil, l, &ns)
	for i := range fs {
		fs[i].Value = strings.Clone(fs[i].Value)
	}
	return fs
}

func TestFlattenOrderLikeTheSeed(t *testing.T) {
	g := testGroup()
	l := &sls.Log{
		Time:     proto.Uint32(1700000000),
		TimeNs:   proto.Uint32(123456789),
		Contents: pairs("user", "alice", "action", "login", "__time__", "1", "user", "bob", "__topic__", "override"),
	}
	got := flatten(g, l)
	want := []Field{
		{"__topic__", "override"},
		{"__source__", "10.0.0.1"},
		{"__time_ns_part__", "123456789"},
		{"__tag__:__hostname__", "web-2"},
		{"__tag__:__path__", "/var/log/a"},
		{"user", "bob"},
		{"action", "login"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d fields %v, want %v", len(got), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("field %d = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestFlattenOmitsZeroNanoseconds(t *testing.T) {
	g := &sls.LogGroup{}
	l := &sls.Log{Time: proto.Uint32(1), Contents: pairs("a", "b")}
	got := flatten(g, l)
	want := []Field{{"__topic__", ""}, {"__source__", ""}, {"a", "b"}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("field %d = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestAppendKV(t *testing.T) {
	fs := []Field{{"k", "v=1|2"}, {"multi", "a\nb\r\x00c"}, {"bad", "x\xffy"}}
	got := string(AppendKV(nil, fs, false))
	if want := "||k=v=1|2||multi=a\nb\r\\0c||bad=x\uFFFDy"; got != want { // NUL is never raw
		t.Errorf("raw body = %q, want %q", got, want)
	}
	got = string(AppendKV(nil, fs, true))
	if want := `||k=v=1|2||multi=a\nb\r\0c||bad=x` + "\uFFFD" + "y"; got != want {
		t.Errorf("escaped body = %q, want %q", got, want)
	}
}

func TestAppendTimestampMatchesRFC3339Micro(t *testing.T) {
	cases := []struct{ sec, nsec int64 }{
		{0, 0}, {1700000000, 123456789}, {1700000000, 999}, {1732500000, 1000}, {4102444799, 999999999},
	}
	for _, c := range cases {
		got := string(AppendTimestamp(nil, c.sec, c.nsec))
		want := time.Unix(c.sec, c.nsec).UTC().Format("2006-01-02T15:04:05.000000Z07:00")
		if got != want {
			t.Errorf("AppendTimestamp(%d, %d) = %s, want %s", c.sec, c.nsec, got, want)
		}
	}
}

func TestMessagesParseStrictly(t *testing.T) {
	g := testGroup()
	l := &sls.Log{
		Time:     proto.Uint32(1732500000),
		TimeNs:   proto.Uint32(987654321),
		Contents: pairs("msg", "quote \" bracket ] pipe | eq = newline\nend", "中文", "值"),
	}
	for _, escape := range []bool{false, true} {
		enc := NewEncoder(Options{Facility: 16, Severity: 4, Hostname: "host.example", AppName: "sls2siem", EscapeBreaks: escape})
		out, res := enc.Append(nil, enc.NewGroup(g, ""), 0, l)
		if res != Written {
			t.Fatal("message cut without a limit")
		}
		m, err := rfc5424.NewParser().Parse(out)
		if err != nil {
			t.Fatalf("strict RFC 5424 parse of %q: %v", out, err)
		}
		sm := m.(*rfc5424.SyslogMessage)
		if *sm.Priority != 16*8+4 || *sm.Hostname != "host.example" || *sm.Appname != "sls2siem" {
			t.Errorf("header = pri %d host %s app %s", *sm.Priority, *sm.Hostname, *sm.Appname)
		}
		if sm.ProcID != nil || sm.MsgID != nil || sm.StructuredData != nil {
			t.Errorf("PROCID, MSGID and SD must be nil")
		}
		wantTS := time.Unix(1732500000, 987654000).UTC()
		if !sm.Timestamp.Equal(wantTS) {
			t.Errorf("timestamp = %v, want %v", sm.Timestamp, wantTS)
		}
		wantBody := string(AppendKV(nil, flatten(g, l), escape))
		if *sm.Message != wantBody {
			t.Errorf("MSG = %q, want %q", *sm.Message, wantBody)
		}
	}
}

func TestTruncationKeepsUTF8(t *testing.T) {
	l := &sls.Log{Time: proto.Uint32(1), Contents: pairs("v", strings.Repeat("é", 400))}
	enc := NewEncoder(Options{Facility: 1, Severity: 6, Hostname: "h", AppName: "-", EscapeBreaks: true, MaxSize: 481})
	out, res := enc.Append(nil, enc.NewGroup(&sls.LogGroup{}, ""), 0, l)
	if res != Truncated {
		t.Fatal("expected the message to be cut")
	}
	if len(out) > 481 || len(out) < 479 {
		t.Errorf("cut message is %d bytes, want 480 or 481", len(out))
	}
	if !utf8.Valid(out) {
		t.Error("cut message is not valid UTF-8")
	}
	if _, err := rfc5424.NewParser().Parse(out); err != nil {
		t.Errorf("cut message does not parse: %v", err)
	}
}

func TestEncoderDoesNotAllocate(t *testing.T) {
	g := testGroup()
	l := &sls.Log{Time: proto.Uint32(1732500000), TimeNs: proto.Uint32(5), Contents: pairs(tenFields()...)}
	enc := NewEncoder(Options{Facility: 1, Severity: 6, Hostname: "host", AppName: "app", EscapeBreaks: true, MaxSize: 65536})
	grp := enc.NewGroup(g, "")
	buf := make([]byte, 0, 4096)
	buf, _ = enc.Append(buf[:0], grp, 0, l)
	allocs := testing.AllocsPerRun(200, func() {
		buf, _ = enc.Append(buf[:0], grp, 0, l)
	})
	if allocs != 0 {
		t.Errorf("Encoder.Append allocates %.1f times per log, want 0", allocs)
	}
}

func tenFields() []string {
	return []string{
		"eventName", "ConsoleSignin", "eventSource", "signin.aliyun.com", "sourceIpAddress", "203.0.113.7",
		"userAgent", "Mozilla/5.0 (X11; Linux x86_64)", "userIdentity.type", "ram-user",
		"userIdentity.userName", "alice", "acsRegion", "cn-hangzhou", "eventId", "5f1e-4c2b-9a7d",
		"requestId", "A1B2C3D4-E5F6", "errorCode", "",
	}
}
