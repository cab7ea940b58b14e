package format

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"
	"github.com/leodido/go-syslog/v4/rfc3164"
)

// Tests of the docs/messages.md rules, on the values that broke real
// receivers (issue 11) and on the costs of crafted logs.

// hostileHeaders are mapped header values that rsyslog or syslog-ng
// mis-parsed, and what each field makes of them.
var hostileHeaders = []struct {
	v                          string
	host5424, app, proc, msgID string // "" : falls back to the constant
	host3164                   string
}{
	{v: `a"b`, host5424: "a_b", app: "a_b", proc: "a_b", msgID: `a"b`, host3164: "a_b"},
	{v: "a:b", host5424: "a:b", app: "a_b", proc: "a_b", msgID: "a:b", host3164: "a_b"},
	{v: "web[1]", host5424: "web_1_", app: "web_1_", proc: "web_1_", msgID: "web[1]", host3164: "web_1"},
	{v: "::1", host5424: "::1", app: "__1", proc: "__1", msgID: "::1", host3164: "__1"},
	{v: "fe80::1", host5424: "fe80::1", app: "fe80__1", proc: "fe80__1", msgID: "fe80::1", host3164: "fe80__1"},
	{v: "h:x", host5424: "h_x", app: "h_x", proc: "h_x", msgID: "h:x", host3164: "h_x"},
	{v: "1.2.3.4:5", host5424: "1.2.3.4_5", app: "1.2.3.4_5", proc: "1.2.3.4_5", msgID: "1.2.3.4:5", host3164: "1.2.3.4_5"},
	{v: "[1]", host5424: "_1_", app: "_1_", proc: "_1_", msgID: "[1]", host3164: "_1"},
	{v: "${jndi:ldap://x/a}", host5424: "__jndi_ldap___x_a_", app: "${jndi_ldap___x_a}", proc: "${jndi_ldap_//x/a}", msgID: "${jndi:ldap://x/a}", host3164: "__jndi_ldap___x_a"},
	{v: "-"},
	{v: "host.", host5424: "host.", app: "host.", proc: "host.", msgID: "host.", host3164: "host"},
	{v: "___", host5424: "___", app: "___", proc: "___", msgID: "___"},
	{v: "web 1", host5424: "web_1", app: "web_1", proc: "web_1", msgID: "web_1", host3164: "web_1"},
	{v: "主机", host5424: "__", app: "__", proc: "__", msgID: "__"},
	{v: "a/b", host5424: "a_b", app: "a_b", proc: "a/b", msgID: "a/b", host3164: "a_b"},
}

func TestHeaderFieldRules(t *testing.T) {
	for _, h := range hostileHeaders {
		l := logWith("v", h.v)
		o := Options{Hostname: "const-host", AppName: "const-app", ProcID: "7", MsgID: "M",
			HostnameKeys: []string{"v"}, AppNameKeys: []string{"v"}, ProcIDKeys: []string{"v"}, MsgIDKeys: []string{"v"}}
		out, _ := encode(t, o, &sls.LogGroup{}, l)
		m := parse5424(t, out)
		or := func(s, def string) string {
			if s == "" {
				return def
			}
			return s
		}
		if got, want := fmt.Sprint(*m.Hostname, *m.Appname, *m.ProcID, *m.MsgID),
			fmt.Sprint(or(h.host5424, "const-host"), or(h.app, "const-app"), or(h.proc, "7"), or(h.msgID, "M")); got != want {
			t.Errorf("RFC 5424, mapped %q: header %s, want %s", h.v, got, want)
		}
		o.Syntax = SyntaxRFC3164
		out, _ = encode(t, o, &sls.LogGroup{}, l)
		want := fmt.Sprintf("<0>Nov 25 02:00:00 %s %s[%s]: ||", or(h.host3164, "const-host"), or(h.app, "const-app"), or(h.proc, "7"))
		if !strings.HasPrefix(out, want) {
			t.Errorf("RFC 3164, mapped %q: %q, want it to start with %q", h.v, out, want)
		}
	}
}

func TestHeaderFallbacks(t *testing.T) {
	// The next key is tried when a value leaves nothing usable; then the
	// constant; then the nil value.
	o := Options{Hostname: "-", HostnameKeys: []string{"a", "b"}, AppNameKeys: []string{"a"}, ProcIDKeys: []string{"a"}}
	out, _ := encode(t, o, &sls.LogGroup{}, logWith("a", "-", "b", "web-2"))
	if m := parse5424(t, out); *m.Hostname != "web-2" || m.Appname != nil || m.ProcID != nil {
		t.Errorf("RFC 5424 fallbacks: %q", out)
	}
	out, _ = encode(t, o, &sls.LogGroup{}, logWith("a", "-", "b", "-"))
	if m := parse5424(t, out); m.Hostname != nil {
		t.Errorf("RFC 5424 nil host name: %q", out)
	}
	// RFC 3164 has no nil host name (rsyslog reads "-" as the TAG) and no
	// empty TAG.
	o.Syntax = SyntaxRFC3164
	out, _ = encode(t, o, &sls.LogGroup{}, logWith("a", "-", "b", "..."))
	if !strings.HasPrefix(out, "<0>Nov 25 02:00:00 localhost -: ||") {
		t.Errorf("RFC 3164 nil fields: %q", out)
	}
}

// The truncation cases: a cut never leaves part of an escape.
func TestTruncationNeverSplitsAnEscape(t *testing.T) {
	for _, c := range []struct {
		name string
		o    Options
		v    string
		esc  []string // the escapes the value becomes
	}{
		{"rfc5424-lf", Options{EscapeBreaks: true}, "aaaa" + strings.Repeat("\n", 300), []string{`\n`}},
		{"rfc3164-lf", Options{Syntax: SyntaxRFC3164, EscapeBreaks: true}, strings.Repeat("\x01", 300), []string{`\x01`}},
		{"rfc3164-octet", Options{Syntax: SyntaxRFC3164}, strings.Repeat("\r\n", 200), []string{`\r`, `\n`}},
		{"sd", Options{EscapeBreaks: true, SDID: "f@1", SDKeys: []string{"x"}, HostnameKeys: []string{"h"}}, strings.Repeat("\n", 400), []string{`\\n`}},
	} {
		for _, size := range []int{480, 481, 482, 483, 64 << 10} {
			o := c.o
			o.MaxSize = size
			v := c.v
			if size > 1000 {
				v = strings.Repeat(v, 400)
			}
			out, res := encode(t, o, &sls.LogGroup{}, logWith("x", v, "h", strings.Repeat("h", 255)))
			if res != Truncated || len(out) > size || len(out) < size-4 {
				t.Fatalf("%s/%d: result %d, %d bytes", c.name, size, res, len(out))
			}
			body := out
			if c.name == "sd" {
				body = out[:strings.LastIndex(out, `"]`)]
			}
			// The run of escape characters at the end is whole escapes.
			rest := body[len(strings.TrimRight(body, `\nrx01`)):]
			for rest != "" {
				n := len(rest)
				for _, e := range c.esc {
					rest = strings.TrimPrefix(rest, e)
				}
				if len(rest) == n {
					t.Errorf("%s/%d: ends inside an escape: …%q", c.name, size, out[max(0, len(out)-12):])
					break
				}
			}
		}
	}
}

// CEF and LEEF keep whole pairs: a pair that does not fit is left out.
func TestWholePairs(t *testing.T) {
	for _, body := range []string{BodyCEF, BodyLEEF} {
		o := Options{Body: body, MaxSize: 480, EscapeBreaks: true, Vendor: "V", Product: "P", Version: "1"}
		out, res := encode(t, o, &sls.LogGroup{}, logWith("u", "alice", "v", strings.Repeat("x", 1000), "w", "after"))
		msg := *parse5424(t, out).Message
		if res != Truncated || strings.Contains(msg, "xxx") || !strings.Contains(msg, "u=alice") || !strings.HasSuffix(msg, "w=after") {
			t.Errorf("%s: result %d: %q", body, res, msg)
		}
	}
}

func TestSDParamNamesUnique(t *testing.T) {
	long := strings.Repeat("k", 32)
	keys := []string{long + "a", long + "b", "a.b", "a_b", "a b", "a.b", "x"}
	o := Options{SDID: "f@1", SDKeys: keys}
	out, _ := encode(t, o, &sls.LogGroup{}, logWith(long+"a", "1", long+"b", "2", "a.b", "3", "a_b", "4", "a b", "5", "x", "6"))
	sd := (*parse5424(t, out).StructuredData)["f@1"]
	want := map[string]string{long: "1", long[:31] + "2": "2", "a_b": "3", "a_b2": "4", "a_b3": "5", "x": "6"}
	if fmt.Sprint(sd) != fmt.Sprint(want) {
		t.Errorf("SD params %v, want %v (%q)", sd, want, out)
	}
	checkSDNames(t, []byte(out))
}

func TestJSONNamesUnique(t *testing.T) {
	out, _ := encode(t, Options{Body: BodyJSON}, &sls.LogGroup{}, logWith("k\xff", "1", "k\xfe", "2", "k\uFFFD", "3", "k\uFFFD2", "4"))
	got := decodeJSONPairs(t, *parse5424(t, out).Message)
	want := []Field{{"k\uFFFD", "1"}, {"k\uFFFD2", "2"}, {"k\uFFFD3", "3"}, {"k\uFFFD22", "4"}}
	if fmt.Sprint(got[len(got)-4:]) != fmt.Sprint(want) {
		t.Errorf("members %q, want %q", got, want)
	}
}

// A __time_ns_part__ of 10^9 or more carries into the seconds everywhere,
// and the body keeps the reference's raw value.
func TestTimeNsPartOutOfRange(t *testing.T) {
	l := &sls.Log{Time: proto.Uint32(1732500000), TimeNs: proto.Uint32(3_500_000_123), Contents: pairs("a", "b")}
	want := time.Unix(1732500000, 3_500_000_123).UTC()
	out, _ := encode(t, Options{}, &sls.LogGroup{}, l)
	m := parse5424(t, out)
	if !m.Timestamp.Equal(want.Truncate(time.Microsecond)) || !strings.Contains(*m.Message, "||__time_ns_part__=3500000123||") {
		t.Errorf("RFC 5424: %q", out)
	}
	out, _ = encode(t, Options{Body: BodyCEF}, &sls.LogGroup{}, l)
	if !strings.Contains(out, "|rt="+strconv.FormatInt(want.UnixMilli(), 10)+" ") {
		t.Errorf("CEF rt: %q", out)
	}
	out, _ = encode(t, Options{Body: BodyLEEF}, &sls.LogGroup{}, l)
	if !strings.Contains(out, "devTime="+want.Format("2006-01-02T15:04:05.000-0700")) {
		t.Errorf("LEEF devTime: %q", out)
	}
	out, _ = encode(t, Options{Syntax: SyntaxRFC3164}, &sls.LogGroup{}, l)
	p, err := rfc3164.NewParser(rfc3164.WithYear(rfc3164.Year{YYYY: 2024})).Parse([]byte(out))
	if err != nil || !p.(*rfc3164.SyslogMessage).Timestamp.Equal(want.Truncate(time.Second)) {
		t.Errorf("RFC 3164: %v %q", err, out)
	}
	if got, w := string(AppendTimestamp(nil, 10, -1)), "1970-01-01T00:00:09.999999Z"; got != w {
		t.Errorf("AppendTimestamp(10, -1) = %s, want %s", got, w)
	}
}

// The default kv body is the reference function's byte for byte for logs
// without CR, LF or NUL: a literal backslash is kept.
func TestKVBodyIsTheReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "=", "|", "||", `\`, `\n`, `C:\Windows`, "é", "中", "\t", "\x01", "\x7f", `"`, "]", " ", "😀"}
	text := func() string {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 500 {
		var kv []string
		for range 1 + r.IntN(8) {
			kv = append(kv, text(), text())
		}
		g := &sls.LogGroup{Topic: proto.String(text()), Source: proto.String(text()), LogTags: tags(text(), text())}
		l := &sls.Log{Time: proto.Uint32(1732500000), TimeNs: proto.Uint32(r.Uint32N(1e9)), Contents: pairs(kv...)}
		for _, breaks := range []bool{true, false} {
			out, _ := encode(t, Options{EscapeBreaks: breaks}, g, l)
			if got, want := *parse5424(t, out).Message, refKV(refFlatten(g, l), nil); got != want {
				t.Fatalf("kv body\n%q\nwant\n%q", got, want)
			}
		}
	}
}

// Flatten's index for long logs gives exactly the reference's fields.
func TestFlattenLongLogsLikeTheReference(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 10, 63, 64, 65, 100, 1000} {
		for range 20 {
			var kv, tg []string
			for range n {
				k := "k" + strconv.Itoa(r.IntN(max(1, n/2)))
				switch r.IntN(6) {
				case 0:
					k = "__" + k
				case 1:
					k = "__tag__:t" + strconv.Itoa(r.IntN(5))
				case 2:
					k = []string{KeyTime, KeyTopic, KeySource, KeyTimeNsPart}[r.IntN(4)]
				}
				kv = append(kv, k, strconv.Itoa(r.IntN(1000)))
			}
			for range r.IntN(3) * n / 2 {
				tg = append(tg, "t"+strconv.Itoa(r.IntN(max(1, n/3))), strconv.Itoa(r.IntN(1000)))
			}
			g := &sls.LogGroup{Topic: proto.String("tp"), Source: proto.String("src"), LogTags: tags(tg...)}
			l := &sls.Log{Time: proto.Uint32(1), TimeNs: proto.Uint32(r.Uint32N(3)), Contents: pairs(kv...)}
			var idx fieldIndex
			var ns [16]byte
			grp := NewGroup(g)
			got, _ := grp.flatten(nil, l, &ns, &idx)
			want := refFlatten(g, l)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%d fields:\n%v\nwant\n%v", n, got, want)
			}
			// The map, for logs too long for the index.
			pre, _ := grp.flatten(nil, &sls.Log{TimeNs: l.TimeNs}, &ns, nil)
			if got := flattenMap(pre, 0, l); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%d fields, map:\n%v\nwant\n%v", n, got, want)
			}
		}
	}
}

// Many names that clean up to the same CEF key get the reference's
// numbers, in time linear in their count.
func TestManySameKeys(t *testing.T) {
	for _, body := range []string{BodyCEF, BodyLEEF} {
		var kv []string
		for i := range 4000 {
			kv = append(kv, sameKeyName(i), "v")
		}
		l := &sls.Log{Time: proto.Uint32(1), Contents: pairs(kv...)}
		start := time.Now()
		out, _ := encode(t, Options{Body: body}, &sls.LogGroup{}, l)
		if d := time.Since(start); d > 3*time.Second { // quadratic or worse: minutes
			t.Errorf("%s: one log of 4000 same-key fields took %v", body, d)
		}
		reserved := []string{"rt"}
		if body == BodyLEEF {
			reserved = []string{"devTime", "devTimeFormat", "sev"}
		}
		want := refAttrKeys(refFlatten(&sls.LogGroup{}, l), reserved...)
		for _, k := range want[len(want)-3:] {
			if !strings.Contains(out, k+"=v") {
				t.Errorf("%s: key %s missing", body, k)
			}
		}
		msg := *parse5424(t, out).Message
		var err error
		if body == BodyCEF {
			_, err = parseCEF(msg) // rejects repeated keys
		} else {
			_, err = parseLEEF(msg)
		}
		if err != nil {
			t.Errorf("%s: %v", body, err)
		}
	}
	// Flattening many repeated keys.
	var kv []string
	for i := range 100_000 {
		kv = append(kv, "k"+strconv.Itoa(i%50_000), strconv.Itoa(i))
	}
	l := &sls.Log{Time: proto.Uint32(1), Contents: pairs(kv...)}
	start := time.Now()
	out, _ := encode(t, Options{}, &sls.LogGroup{}, l)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("one log of 100000 fields with repeated keys took %v", d)
	}
	if !strings.Contains(out, "||k0=50000||k1=50001||") || strings.Count(out, "||") != 50_002 {
		t.Errorf("repeated keys: %q…", out[:200])
	}
}

// The CEF keys remembered from one log are never the log's own memory,
// which the reader recycles.
func TestKeysDoNotAliasTheLog(t *testing.T) {
	buf := []byte("alpha")
	name := unsafe.String(&buf[0], len(buf))
	e := NewEncoder(Options{Hostname: "h", Body: BodyCEF})
	grp := e.NewGroup(&sls.LogGroup{}, "")
	e.Append(nil, grp, 0, &sls.Log{Time: proto.Uint32(1), Contents: pairs(name, "1")})
	copy(buf, "omega") // the reader reuses its buffer
	out, _ := e.Append(nil, grp, 0, &sls.Log{Time: proto.Uint32(1), Contents: pairs("alpha", "2")})
	if !strings.HasSuffix(string(out), " alpha=2") {
		t.Errorf("second log: %q", out)
	}
}

// Logs of up to 64 fields allocate nothing once warm.
func TestNoAllocations64Fields(t *testing.T) {
	for _, body := range []string{BodyKV, BodyJSON, BodyCEF, BodyLEEF} {
		e := NewEncoder(Options{Hostname: "h", Body: body, EscapeBreaks: true, MaxSize: 65536})
		grp := e.NewGroup(testGroup(), "")
		l := scaleLog(64-5, distinctName) // + topic, source, ns part, two tags
		buf, _ := e.Append(nil, grp, 0, l)
		if allocs := testing.AllocsPerRun(100, func() { buf, _ = e.Append(buf[:0], grp, 0, l) }); allocs != 0 {
			t.Errorf("%s: %.1f allocations per 64-field log", body, allocs)
		}
	}
}

// The JSON body stays one object whose names are unique, cut or not.
func TestJSONCutStaysValid(t *testing.T) {
	for size := 480; size < 700; size += 7 {
		out, _ := encode(t, Options{Body: BodyJSON, MaxSize: size}, &sls.LogGroup{}, logWith("k\xff", strings.Repeat("\"\\\n", 100), "k\xfe", "x"))
		msg := *parse5424(t, out).Message
		var m map[string]string
		if err := json.Unmarshal([]byte(msg), &m); err != nil || len(out) > size {
			t.Fatalf("%d: %v %q", size, err, msg)
		}
		decodeJSONPairs(t, msg)
	}
}

// Header fields, structured data and CEF headers find their fields in long
// logs (looked up in flatten's index) as in short ones.
func TestLongLogLookups(t *testing.T) {
	for _, n := range []int{10, 300} {
		var kv []string
		for i := range n {
			kv = append(kv, "k"+strconv.Itoa(i), "v"+strconv.Itoa(i))
		}
		kv = append(kv, "k3", "again", "level", "error")
		l := &sls.Log{Time: proto.Uint32(1), Contents: pairs(kv...)}
		o := Options{HostnameKeys: []string{"missing", "k3"}, AppNameKeys: []string{"k7"}, MsgIDKeys: []string{"nope"}, MsgID: "M",
			SeverityKeys: []string{"level"}, SDID: "f@1", SDKeys: []string{"k5", "absent"}}
		out, _ := encode(t, o, &sls.LogGroup{}, l)
		m := parse5424(t, out)
		if *m.Hostname != "again" || *m.Appname != "v7" || *m.MsgID != "M" || *m.Severity != 3 ||
			fmt.Sprint((*m.StructuredData)["f@1"]) != "map[k5:v5]" {
			t.Errorf("%d fields: %q", n, out[:120])
		}
		out, _ = encode(t, Options{Body: BodyCEF, EventIDKeys: []string{"k9"}, EventNameKeys: []string{"x", "k1"}}, &sls.LogGroup{}, l)
		if !strings.Contains(out, "|v9|v1|") {
			t.Errorf("%d fields, CEF header: %q", n, out[:120])
		}
	}
}

// At the smallest limit, with every header field mapped to a long value,
// the origin element, structured data and long CEF/LEEF header fields, the
// message is shortened, never cut inside the header or structured data,
// and its body still parses.
func TestShortestHeaders(t *testing.T) {
	long := strings.Repeat("h", 300)
	for _, syntax := range []string{SyntaxRFC5424, SyntaxRFC3164} {
		for _, body := range []string{BodyKV, BodyJSON, BodyCEF, BodyLEEF} {
			for _, size := range []int{480, 500, 600} {
				o := Options{Syntax: syntax, Body: body, MaxSize: size, EscapeBreaks: true, Hostname: "h", Location: shanghai(),
					HostnameKeys: []string{"v"}, AppNameKeys: []string{"v"}, ProcIDKeys: []string{"v"}, MsgIDKeys: []string{"v"},
					EventIDKeys: []string{"e"}, EventNameKeys: []string{"e"}, Vendor: "Alibaba Cloud", Product: "SLS", Version: "1.0",
					LEEFDelimiter: '^'}
				if syntax == SyntaxRFC5424 {
					o.Origin, o.BOM, o.SDID, o.SDKeys = true, true, "fields@32473", []string{"v", "e"}
				}
				e := NewEncoder(o)
				e.SetOrigin(strings.Repeat("p", 63), strings.Repeat("l", 63), 999)
				g := &sls.LogGroup{}
				out, res := e.Append(nil, e.NewGroup(g, "MTYwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA="), 4095,
					logWith("v", long, "e", strings.Repeat("e|\\", 700), "x", strings.Repeat("x", 100)))
				name := fmt.Sprintf("%s/%s/%d", syntax, body, size)
				if res != Truncated || len(out) > size {
					t.Fatalf("%s: result %d, %d bytes", name, res, len(out))
				}
				var msg string
				if syntax == SyntaxRFC3164 {
					m, err := rfc3164.NewParser().Parse(out)
					if err != nil {
						t.Fatalf("%s: %v: %q", name, err, out)
					}
					msg = deref(m.(*rfc3164.SyslogMessage).Message)
				} else {
					msg = strings.TrimPrefix(deref(parse5424(t, string(out)).Message), "\uFEFF")
					checkSDNames(t, out)
				}
				var err error
				switch body {
				case BodyJSON:
					decodeJSONPairs(t, msg)
				case BodyCEF:
					_, err = parseCEF(msg)
				case BodyLEEF:
					_, err = parseLEEF(msg)
				}
				if err != nil {
					t.Errorf("%s: %v: %q", name, err, out)
				}
			}
		}
	}
}
