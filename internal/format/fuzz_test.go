package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"
	"github.com/leodido/go-syslog/v4"
	"github.com/leodido/go-syslog/v4/rfc3164"
	"github.com/leodido/go-syslog/v4/rfc5424"
)

// The fuzz targets build one log from arbitrary field names and values
// (binary, invalid UTF-8, control characters, huge), encode it under
// several configurations and check the output with an independent parser:
// go-syslog's strict RFC 5424 and RFC 3164 parsers, encoding/json, and the
// CEF and LEEF parsers of specparse_test.go. Their seeds (f.Add below and
// testdata/fuzz/) run with every `go test`.

type fuzzIn struct {
	k1, v1, k2, v2, level, host string
	ns                          uint32
	max                         uint16
}

func addSeeds(f *testing.F) {
	big := strings.Repeat("é中\x00\n", 300)
	seeds := []fuzzIn{
		{"user", "alice", "action", "login", "warn", "web-1", 123456789, 0},
		{"msg", "quote \" bracket ] backslash \\ eq = pipe | tab \t", "k", "line1\nline2\r\n", "ERROR", "10.0.0.1", 0, 0},
		{"a b", "x\xffy\xc3", "a_b", "\x00\x01\x1b[31m\x7f", "Fatal", "fe80::1", 999999999, 1},
		{"__tag__:__hostname__", "tag-value", "__topic__", "override", "7", "", 1, 200},
		{"中文", "值", "userIdentity.userName", "José García", "notice", "主机", 5, 100},
		{"__time__", "1", "rt", "collides with CEF rt", "debug", "h", 0, 0},
		{"devTime", "x", "sev", "y", " info ", "h", 0, 0},
		{"big", big, "big2", big, "trace", strings.Repeat("h", 400), 7, 0},
		{"big", big, "big2", big, "trace", strings.Repeat("h", 400), 7, 520},
		{"", "", "", "", "", "", 0, 0},
		{"=", "=", "|", "|", "crit", "-", 0, 3},
		{"k", strings.Repeat("\\", 700), "j", strings.Repeat("\"]", 400), "local7", "h", 0, 60},
		{"k", strings.Repeat("é", 900), "j", "^^x5e\t", "12", "h", 0, 1000},
	}
	for _, s := range seeds {
		f.Add(s.k1, s.v1, s.k2, s.v2, s.level, s.host, s.ns, s.max)
	}
}

func (in fuzzIn) log() (*sls.LogGroup, *sls.Log) {
	g := &sls.LogGroup{Topic: proto.String(in.v2), Source: proto.String(in.host), LogTags: tags(in.k1, in.v1, "t", in.level)}
	l := &sls.Log{
		Time:     proto.Uint32(1732500000 + in.ns%(400*86400)), // spans DST changes
		TimeNs:   proto.Uint32(in.ns % 1e9),
		Contents: pairs(in.k1, in.v1, in.k2, in.v2, "level", in.level, "host", in.host, "msg", in.v1+in.v2),
	}
	return g, l
}

func (in fuzzIn) maxSize() int {
	if in.max == 0 {
		return 0
	}
	return 480 + int(in.max)
}

var fuzzZones = func() []*time.Location {
	out := []*time.Location{time.UTC, time.FixedZone("+05:45", 5*3600+45*60)}
	for _, n := range []string{"Asia/Shanghai", "America/New_York"} {
		if loc, err := time.LoadLocation(n); err == nil {
			out = append(out, loc)
		}
	}
	return out
}()

func encodeOne(o Options, g *sls.LogGroup, l *sls.Log) ([]byte, Result) {
	e := NewEncoder(o)
	e.SetOrigin("proj-1", "store\"]", 3)
	return e.Append(nil, e.NewGroup(g, "MTYwMDAwMDAwMDAwMDAwMDAwNw=="), 4, l)
}

// checkSize checks the size limit and the LF-framing rule.
func checkSize(t *testing.T, out []byte, res Result, o Options) {
	t.Helper()
	if o.MaxSize > 0 && len(out) > o.MaxSize {
		t.Fatalf("message is %d bytes, limit %d", len(out), o.MaxSize)
	}
	if o.MaxSize == 0 && res != Written {
		t.Fatalf("result %d without a limit", res)
	}
	if o.EscapeBreaks && bytes.ContainsAny(out, "\r\n\x00") {
		t.Fatalf("raw CR, LF or NUL under LF framing: %s", short(out))
	}
	if !utf8.Valid(out) {
		t.Fatalf("invalid UTF-8: %s", short(out))
	}
}

func FuzzRFC5424(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, level, host string, ns uint32, max uint16) {
		in := fuzzIn{k1, v1, k2, v2, level, host, ns, max}
		g, l := in.log()
		all := refFlatten(g, l)
		for _, breaks := range []bool{false, true} {
			o := Options{
				Facility: 3, Severity: 5, Hostname: "const-host", AppName: "const-app",
				SeverityKeys: []string{"level"}, FacilityKeys: []string{k2},
				HostnameKeys: []string{"host"}, AppNameKeys: []string{k1}, ProcIDKeys: []string{k2}, MsgIDKeys: []string{"msg"},
				SDID: "fields@32473", SDKeys: []string{k1, k2, "msg"}, Origin: ns%2 == 0, BOM: ns%3 == 0,
				Location: fuzzZones[int(ns)%len(fuzzZones)], EscapeBreaks: breaks, MaxSize: in.maxSize(),
			}
			out, res := encodeOne(o, g, l)
			checkSize(t, out, res, o)
			m, err := rfc5424.NewParser(rfc5424.WithCompliantMsg()).Parse(out)
			if err != nil {
				t.Fatalf("strict RFC 5424 parse: %v\n%s", err, short(out))
			}
			sm := m.(*rfc5424.SyslogMessage)
			wantSev := refSeverity(refMapped(all, o.SeverityKeys, ""), 5)
			wantFac := refFacility(refMapped(all, o.FacilityKeys, ""), 3)
			if int(*sm.Severity) != wantSev || int(*sm.Facility) != wantFac {
				t.Fatalf("facility %d severity %d, want %d %d", *sm.Facility, *sm.Severity, wantFac, wantSev)
			}
			want := time.Unix(int64(l.GetTime()), int64(l.GetTimeNs())/1000*1000)
			if !sm.Timestamp.Equal(want) {
				t.Fatalf("timestamp %v, want %v", sm.Timestamp, want)
			}
			_, off := want.In(o.Location).Zone()
			if _, got := sm.Timestamp.Zone(); got != off {
				t.Fatalf("timestamp offset %d, want %d: %s", got, off, short(out))
			}
			if res == Truncated {
				continue // header fields and SD may be shorter; parsing is what counts
			}
			for _, h := range []struct {
				name string
				got  *string
				want string
			}{
				{"HOSTNAME", sm.Hostname, refHeader(refMapped(all, o.HostnameKeys, o.Hostname), 255, isPrintUSASCII)},
				{"APP-NAME", sm.Appname, refHeader(refMapped(all, o.AppNameKeys, o.AppName), 48, isPrintUSASCII)},
				{"PROCID", sm.ProcID, refHeader(refMapped(all, o.ProcIDKeys, ""), 128, isPrintUSASCII)},
				{"MSGID", sm.MsgID, refHeader(refMapped(all, o.MsgIDKeys, ""), 32, isPrintUSASCII)},
			} {
				if got := deref(h.got); got != h.want {
					t.Fatalf("%s = %q, want %q", h.name, got, h.want)
				}
			}
			repl := map[rune]string(nil)
			if breaks {
				repl = breaksRepl
			}
			wantSD := map[string]map[string]string{}
			if o.Origin {
				wantSD[OriginSDID] = map[string]string{"project": "proj-1", "logstore": "store\"]", "shard": "3",
					"cursor": "MTYwMDAwMDAwMDAwMDAwMDAwNw==", "index": "4"}
			}
			for _, k := range o.SDKeys {
				for _, fl := range all {
					if fl.Key == k {
						if wantSD[o.SDID] == nil {
							wantSD[o.SDID] = map[string]string{}
						}
						wantSD[o.SDID][refSDName(k)] = refText(fl.Value, repl)
					}
				}
			}
			var gotSD map[string]map[string]string
			if sm.StructuredData != nil {
				gotSD = *sm.StructuredData
			}
			if fmt.Sprint(gotSD) != fmt.Sprint(wantSD) && !(len(gotSD) == 0 && len(wantSD) == 0) {
				t.Fatalf("SD = %s\nwant %s", short(fmt.Sprint(gotSD)), short(fmt.Sprint(wantSD)))
			}
			wantMsg := refKV(all, repl)
			if o.BOM {
				wantMsg = "\uFEFF" + wantMsg
			}
			if got := deref(sm.Message); got != wantMsg {
				t.Fatalf("MSG = %s\nwant %s", short(got), short(wantMsg))
			}
		}
	})
}

// refSDName is a PARAM-NAME: printable US-ASCII but = ] ", ≤ 32.
func refSDName(k string) string {
	if k == "" {
		return "-"
	}
	n := refHeader(k, 32, func(r rune) bool { return isPrintUSASCII(r) && !strings.ContainsRune(`="]`, r) })
	if n == "" {
		return "-"
	}
	return n
}

// refPrefix cuts s to at most n bytes at a character boundary.
func refPrefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// sameOrPrefix: got is want, or (when cut) a prefix of it.
func sameOrPrefix(got, want string, cut bool) bool {
	return got == want || cut && strings.HasPrefix(want, got)
}

// short keeps failure messages readable.
func short[T ~string | ~[]byte](s T) string {
	if len(s) > 600 {
		return fmt.Sprintf("%q … (%d bytes)", string(s[:600]), len(s))
	}
	return fmt.Sprintf("%q", string(s))
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func refFacility(v string, def int) int {
	names := []string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
		"uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
		"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"}
	for i, n := range names {
		if fmt.Sprint(i) == v || (isASCII(v) && strings.EqualFold(strings.Trim(v, " \t"), n)) {
			return i
		}
	}
	return def
}

func FuzzRFC3164(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, level, host string, ns uint32, max uint16) {
		in := fuzzIn{k1, v1, k2, v2, level, host, ns, max}
		g, l := in.log()
		all := refFlatten(g, l)
		for _, breaks := range []bool{false, true} {
			loc := fuzzZones[int(ns)%len(fuzzZones)]
			o := Options{
				Syntax: SyntaxRFC3164, Facility: 3, Severity: 5, Hostname: "const-host", AppName: "const-app",
				SeverityKeys: []string{"level"}, HostnameKeys: []string{"host"}, AppNameKeys: []string{k1}, ProcIDKeys: []string{k2},
				Location: loc, EscapeBreaks: breaks, MaxSize: in.maxSize(),
			}
			out, res := encodeOne(o, g, l)
			checkSize(t, out, res, o)
			ts := time.Unix(int64(l.GetTime()), 0).In(loc)
			opts := []syslog.MachineOption{rfc3164.WithYear(rfc3164.Year{YYYY: ts.Year()}), rfc3164.WithLocaleTimezone(loc)}
			if !breaks {
				opts = append(opts, rfc3164.WithEmbeddedNewlines())
			}
			m, err := rfc3164.NewParser(opts...).Parse(out)
			if err != nil {
				t.Fatalf("RFC 3164 parse: %v\n%s", err, short(out))
			}
			sm := m.(*rfc3164.SyslogMessage)
			if int(*sm.Severity) != refSeverity(refMapped(all, o.SeverityKeys, ""), 5) || *sm.Facility != 3 {
				t.Fatalf("facility %d severity %d", *sm.Facility, *sm.Severity)
			}
			if !sm.Timestamp.Equal(ts) {
				t.Fatalf("timestamp %v, want %v: %s", sm.Timestamp, ts, short(out))
			}
			wantHost := refHeader(refMapped(all, o.HostnameKeys, o.Hostname), 255, func(r rune) bool { return isPrintUSASCII(r) && r != ':' })
			wantTag := refHeader(refMapped(all, o.AppNameKeys, o.AppName), 32, func(r rune) bool {
				return r < 128 && (isAlnum(byte(r)) || strings.ContainsRune("-_./", r))
			})
			wantPID := refHeader(refMapped(all, o.ProcIDKeys, ""), 128, func(r rune) bool { return isPrintUSASCII(r) && r != '[' && r != ']' })
			if deref(sm.Hostname) != wantHost || deref(sm.Appname) != wantTag || deref(sm.ProcID) != wantPID {
				t.Fatalf("host %q tag %q pid %q, want %q %q %q", deref(sm.Hostname), deref(sm.Appname), deref(sm.ProcID), wantHost, wantTag, wantPID)
			}
			repl := map[rune]string{0: `\0`, 0x7f: `\x7f`}
			for c := rune(1); c < 0x20; c++ {
				if c != '\t' && c != '\n' && c != '\r' {
					repl[c] = fmt.Sprintf(`\x%02x`, c)
				}
			}
			if breaks {
				repl['\n'], repl['\r'] = `\n`, `\r`
			}
			wantMsg := refKV(all, repl)
			if wantMsg == "" {
				wantMsg = "-"
			}
			got := deref(sm.Message)
			if res == Truncated {
				if !strings.HasPrefix(wantMsg, got) {
					t.Fatalf("cut MSG is not a prefix:\n%s\n%s", short(got), short(wantMsg))
				}
			} else if got != wantMsg {
				t.Fatalf("MSG = %s\nwant %s", short(got), short(wantMsg))
			}
		}
	})
}

// msgOf returns the MSG of an RFC 5424 message that parses strictly.
func msgOf(t *testing.T, out []byte) string {
	t.Helper()
	m, err := rfc5424.NewParser(rfc5424.WithCompliantMsg()).Parse(out)
	if err != nil {
		t.Fatalf("strict RFC 5424 parse: %v\n%s", err, short(out))
	}
	return deref(m.(*rfc5424.SyslogMessage).Message)
}

// checkPairs checks that got are want (all of them, or a prefix of them
// with the last value possibly cut, when cut).
func checkPairs(t *testing.T, got, want []Field, cut bool) {
	t.Helper()
	if !cut {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("pairs\n%s\nwant\n%s", short(fmt.Sprint(got)), short(fmt.Sprint(want)))
		}
		return
	}
	if len(got) > len(want) {
		t.Fatalf("cut message has %d pairs, the log %d", len(got), len(want))
	}
	for i, p := range got {
		last := i == len(got)-1
		if p.Key != want[i].Key || (!last && p.Value != want[i].Value) || (last && !strings.HasPrefix(want[i].Value, p.Value)) {
			t.Fatalf("cut pair %d = %s, want (a prefix of) %s", i, short(fmt.Sprint(p)), short(fmt.Sprint(want[i])))
		}
	}
}

func FuzzJSON(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, level, host string, ns uint32, max uint16) {
		in := fuzzIn{k1, v1, k2, v2, level, host, ns, max}
		g, l := in.log()
		all := refFlatten(g, l)
		for _, syntax := range []string{SyntaxRFC5424, SyntaxRFC3164} {
			o := Options{Syntax: syntax, Body: BodyJSON, Hostname: "h", EscapeBreaks: true, MaxSize: in.maxSize(),
				ExcludeKeys: []string{"t*"}}
			out, res := encodeOne(o, g, l)
			checkSize(t, out, res, o)
			var body string
			if syntax == SyntaxRFC5424 {
				body = msgOf(t, out)
			} else {
				m, err := rfc3164.NewParser().Parse(out)
				if err != nil {
					t.Fatalf("RFC 3164 parse: %v\n%s", err, short(out))
				}
				body = deref(m.(*rfc3164.SyslogMessage).Message)
			}
			got := decodeJSONPairs(t, body)
			var want []Field
			for _, fl := range all {
				if !strings.HasPrefix(fl.Key, "t") {
					want = append(want, Field{refText(fl.Key, nil), refText(fl.Value, nil)})
				}
			}
			checkPairs(t, got, want, res == Truncated)
		}
	})
}

// decodeJSONPairs decodes one JSON object of strings, in order.
func decodeJSONPairs(t *testing.T, s string) []Field {
	t.Helper()
	if !json.Valid([]byte(s)) {
		t.Fatalf("invalid JSON: %s", short(s))
	}
	d := json.NewDecoder(strings.NewReader(s))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", short(s))
	}
	var out []Field
	for d.More() {
		k, err1 := d.Token()
		v, err2 := d.Token()
		ks, ok1 := k.(string)
		vs, ok2 := v.(string)
		if err1 != nil || err2 != nil || !ok1 || !ok2 {
			t.Fatalf("member %d is not a string pair: %s", len(out), short(s))
		}
		out = append(out, Field{ks, vs})
	}
	if _, err := d.Token(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Token(); err != io.EOF {
		t.Fatalf("text after the object: %s", short(s))
	}
	return out
}

func FuzzCEF(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, level, host string, ns uint32, max uint16) {
		in := fuzzIn{k1, v1, k2, v2, level, host, ns, max}
		g, l := in.log()
		all := refFlatten(g, l)
		for _, breaks := range []bool{false, true} {
			o := Options{Body: BodyCEF, Hostname: "h", Severity: 6, EscapeBreaks: breaks, MaxSize: in.maxSize(),
				Vendor: "Ali|baba \\ Cloud", Product: "SLS", Version: "1.0",
				EventIDKeys: []string{k1, "__topic__"}, EventID: "sls-log", EventNameKeys: []string{k2}, EventName: "SLS log",
				SeverityKeys: []string{"level"}}
			out, res := encodeOne(o, g, l)
			checkSize(t, out, res, o)
			ev, err := parseCEF(msgOf(t, out))
			if err != nil {
				t.Fatalf("CEF: %v\n%s", err, short(out))
			}
			hdr := map[rune]string{}
			for c := rune(0); c < 0x20; c++ {
				hdr[c] = " "
			}
			hdr[0x7f] = " "
			wantSev := []string{"10", "9", "8", "7", "5", "4", "3", "1"}[refSeverity(refMapped(all, o.SeverityKeys, ""), 6)]
			cut := res == Truncated
			if ev.Vendor != o.Vendor || ev.Product != "SLS" || ev.DevVersion != "1.0" || ev.Severity != wantSev ||
				!sameOrPrefix(ev.SignatureID, refText(refPrefix(refMapped(all, o.EventIDKeys, o.EventID), 1023), hdr), cut) ||
				!sameOrPrefix(ev.Name, refText(refPrefix(refMapped(all, o.EventNameKeys, o.EventName), 512), hdr), cut) {
				t.Fatalf("CEF header %s", short(fmt.Sprintf("%+v", ev)))
			}
			if len(ev.Ext) == 0 || ev.Ext[0].Key != "rt" || ev.Ext[0].Value != fmt.Sprint(int64(l.GetTime())*1000+int64(l.GetTimeNs())/1e6) {
				t.Fatalf("CEF rt: %s", short(fmt.Sprint(ev.Ext)))
			}
			repl := map[rune]string(nil)
			if breaks {
				repl = map[rune]string{0: `\0`}
			}
			keys := refAttrKeys(all, "rt")
			var want []Field
			for i, fl := range all {
				want = append(want, Field{keys[i], refText(fl.Value, repl)})
			}
			checkPairs(t, ev.Ext[1:], want, res == Truncated)
		}
	})
}

func FuzzLEEF(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, level, host string, ns uint32, max uint16) {
		in := fuzzIn{k1, v1, k2, v2, level, host, ns, max}
		g, l := in.log()
		all := refFlatten(g, l)
		for _, delim := range []byte{0, '^', 0x01} {
			loc := fuzzZones[int(ns)%len(fuzzZones)]
			o := Options{Body: BodyLEEF, Hostname: "h", Severity: 6, EscapeBreaks: true, MaxSize: in.maxSize(),
				Vendor: "Alibaba Cloud", Product: "SLS", Version: "1.0", EventIDKeys: []string{k1}, EventID: "sls-log",
				SeverityKeys: []string{"level"}, LEEFDelimiter: delim, Location: loc}
			out, res := encodeOne(o, g, l)
			checkSize(t, out, res, o)
			ev, err := parseLEEF(msgOf(t, out))
			if err != nil {
				t.Fatalf("LEEF: %v\n%s", err, short(out))
			}
			wantDelim, wantVersion := byte('\t'), "LEEF:1.0"
			if delim != 0 {
				wantDelim, wantVersion = delim, "LEEF:2.0"
			}
			hdr := map[rune]string{'|': "_", 0x7f: " "}
			for c := rune(0); c < 0x20; c++ {
				hdr[c] = " "
			}
			if ev.Version != wantVersion || ev.Delim != wantDelim || ev.Vendor != "Alibaba Cloud" ||
				!sameOrPrefix(ev.EventID, refText(refPrefix(refMapped(all, o.EventIDKeys, o.EventID), 255), hdr), res == Truncated) {
				t.Fatalf("LEEF header %s", short(fmt.Sprintf("%+v", ev)))
			}
			ts := time.Unix(int64(l.GetTime()), int64(l.GetTimeNs())).In(loc)
			sev := []string{"10", "9", "8", "7", "5", "4", "3", "1"}[refSeverity(refMapped(all, o.SeverityKeys, ""), 6)]
			head := []Field{
				{"devTime", ts.Format("2006-01-02T15:04:05.000-0700")},
				{"devTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSZ"},
				{"sev", sev},
			}
			if len(ev.Attrs) < 3 || fmt.Sprint(ev.Attrs[:3]) != fmt.Sprint(head) {
				t.Fatalf("LEEF attributes %s, want them to start with %q", short(fmt.Sprint(ev.Attrs)), head)
			}
			repl := map[rune]string{'\n': `\n`, '\r': `\r`, 0: `\0`}
			if wantDelim == '\t' {
				repl['\t'] = `\t`
			} else {
				repl[rune(wantDelim)] = fmt.Sprintf(`\x%02x`, wantDelim)
			}
			keys := refAttrKeys(all, "devTime", "devTimeFormat", "sev")
			var want []Field
			for i, fl := range all {
				want = append(want, Field{keys[i], refText(fl.Value, repl)})
			}
			checkPairs(t, ev.Attrs[3:], want, res == Truncated)
		}
	})
}
