package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
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
		{"k\xff", "a", "k\xfe", "b", "info", "a\"b", 1, 0},                           // JSON names collide after repair
		{"k\xff", "a", "k\ufffd", "b", "info", "web[1]", 2, 0},                       // … with a valid name
		{"pid", "a:b", "x", "aaaa" + strings.Repeat("\n", 300), "info", "::1", 3, 1}, // cut inside \n (480 bytes)
		{"pid", "-", "x", strings.Repeat("\x01", 300), "info", "-", 4, 1},            // cut inside \x01
		{"v", "x", "w", strings.Repeat("x", 1000), "info", "${jndi:ldap://x/a}", 5, 1},
		{"[1]", "h:x", "fe80::1", "host.", "info", "h:x", 6, 0},
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
		{"é\u009bk", "\u009b[1m\u0085", "\x00", "a\x00\t\n", " 07 ", "\u009bhost", 9, 0},                                 // C1 controls, NUL
		{"sd", strings.Repeat("y", 600), "j", "\x01" + strings.Repeat("z", 300), "008", strings.Repeat("h", 200), 10, 1}, // SD cut before headers

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
	if in.ns%4 == 1 {
		// A long log (flattened with the index), its keys repeated.
		for i := range 70 {
			l.Contents = append(l.Contents, pairs("f"+strconv.Itoa(i%60), in.v2[:min(len(in.v2), i)])...)
		}
		l.Contents = append(l.Contents, pairs(in.k2, in.v1, "__topic__", in.k1, in.k1, in.level)...)
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
	if o.EscapeBreaks && bytes.ContainsAny(out, "\r\n") {
		t.Fatalf("raw CR or LF under LF framing: %s", short(out))
	}
	if bytes.IndexByte(out, 0) >= 0 {
		t.Fatalf("raw NUL: %s", short(out))
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
			want := time.Unix(int64(l.GetTime()), int64(l.GetTimeNs())/1000*1000)
			wantSev := refSeverity(refMapped(all, o.SeverityKeys, ""), 5)
			wantFac := refFacility(refMapped(all, o.FacilityKeys, ""), 3)
			if int(*sm.Severity) != wantSev || int(*sm.Facility) != wantFac {
				t.Fatalf("facility %d severity %d, want %d %d", *sm.Facility, *sm.Severity, wantFac, wantSev)
			}
			if !sm.Timestamp.Equal(want) {
				t.Fatalf("timestamp %v, want %v", sm.Timestamp, want)
			}
			_, off := want.In(o.Location).Zone()
			if _, got := sm.Timestamp.Zone(); got != off {
				t.Fatalf("timestamp offset %d, want %d: %s", got, off, short(out))
			}
			repl := nulRepl
			if breaks {
				repl = breaksRepl
			}
			checkSDNames(t, out)
			if res == Truncated {
				// Header fields and SD may be shorter; no value is cut
				// inside a character or an escape sequence, and MSG is
				// as long as the limit allows.
				checkCutSD(t, sm, all, o, repl)
				msg := strings.TrimPrefix(deref(sm.Message), "\uFEFF")
				ok, next := unitPrefix(msg, refKVUnits(all, repl))
				if !ok || (next != "" && len(out)+len(next) <= o.MaxSize) {
					t.Fatalf("cut MSG is not the longest whole-unit prefix (next unit %q, %d bytes of %d):\n%s", next, len(out), o.MaxSize, short(out))
				}
				continue
			}
			for _, h := range []struct {
				name string
				got  *string
				want string
			}{
				{"HOSTNAME", sm.Hostname, refField(all, o.HostnameKeys, o.Hostname, refHostRule(false), 255)},
				{"APP-NAME", sm.Appname, refField(all, o.AppNameKeys, o.AppName, refTokenRule(false), 48)},
				{"PROCID", sm.ProcID, refField(all, o.ProcIDKeys, "", refTokenRule(true), 128)},
				{"MSGID", sm.MsgID, refField(all, o.MsgIDKeys, "", refMsgIDRule, 32)},
			} {
				if got := deref(h.got); got != h.want {
					t.Fatalf("%s = %q, want %q", h.name, got, h.want)
				}
			}
			wantSD := map[string]map[string]string{}
			if o.Origin {
				wantSD[OriginSDID] = map[string]string{"project": "proj-1", "logstore": "store\"]", "shard": "3",
					"cursor": "MTYwMDAwMDAwMDAwMDAwMDAwNw==", "index": "4"}
			}
			keys, names := refSDParamNames(o.SDKeys)
			for i, k := range keys {
				for _, fl := range all {
					if fl.Key == k {
						if wantSD[o.SDID] == nil {
							wantSD[o.SDID] = map[string]string{}
						}
						wantSD[o.SDID][names[i]] = refText(fl.Value, repl)
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

// checkSDNames: no SD-ID twice in the message, no PARAM-NAME twice in an
// element, no '.' in a PARAM-NAME (go-syslog's map would hide repeats:
// the raw text is read).
func checkSDNames(t *testing.T, out []byte) {
	t.Helper()
	elems, err := rawSD(out)
	if err != nil {
		t.Fatalf("structured data: %v: %s", err, short(out))
	}
	ids := map[string]bool{}
	for _, e := range elems {
		if ids[e[0]] {
			t.Fatalf("SD-ID %q twice: %s", e[0], short(out))
		}
		ids[e[0]] = true
		names := map[string]bool{}
		for _, n := range e[1:] {
			if names[n] || strings.Contains(n, ".") {
				t.Fatalf("PARAM-NAME %q repeated or with a dot: %s", n, short(out))
			}
			names[n] = true
		}
	}
}

// rawSD returns the SD-ID and PARAM-NAMEs of each element of an RFC 5424
// message, read from its text.
func rawSD(out []byte) ([][]string, error) {
	s := string(out)
	for range 6 { // PRI VERSION, TIMESTAMP, HOSTNAME, APP-NAME, PROCID, MSGID
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			return nil, fmt.Errorf("short header")
		}
		s = s[i+1:]
	}
	var elems [][]string
	for strings.HasPrefix(s, "[") {
		end := strings.IndexAny(s, " ]")
		if end < 0 {
			return nil, fmt.Errorf("unterminated element")
		}
		e := []string{s[1:end]}
		s = s[end:]
		for strings.HasPrefix(s, " ") {
			eq := strings.Index(s, `="`)
			if eq < 0 {
				return nil, fmt.Errorf("parameter without value")
			}
			e = append(e, s[1:eq])
			i := eq + 2
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated value")
			}
			s = s[i+1:]
		}
		if !strings.HasPrefix(s, "]") {
			return nil, fmt.Errorf("element not closed")
		}
		s = s[1:]
		elems = append(elems, e)
	}
	return elems, nil
}

// checkCutSD: each parameter of a cut SD element is a whole-unit prefix of
// its value.
func checkCutSD(t *testing.T, sm *rfc5424.SyslogMessage, all []Field, o Options, repl map[rune]string) {
	t.Helper()
	if sm.StructuredData == nil {
		return
	}
	keys, names := refSDParamNames(o.SDKeys)
	got := (*sm.StructuredData)[o.SDID]
	for i, k := range keys {
		v, present := got[names[i]]
		if !present {
			continue
		}
		for _, fl := range all {
			if fl.Key == k {
				if ok, _ := unitPrefix(v, refUnits(fl.Value, repl)); !ok || v == "" && fl.Value != "" {
					t.Fatalf("SD %s = %q: not a whole-unit prefix of %s, of one unit at least", names[i], v, short(fl.Value))
				}
			}
		}
	}
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
	w := strings.Trim(v, " \t")
	if n, err := strconv.ParseUint(w, 10, 64); err == nil && !strings.HasPrefix(w, "+") && len(w) <= 16 {
		if n <= 23 {
			return int(n)
		}
		return def
	}
	for i, n := range names {
		if isASCII(v) && strings.EqualFold(w, n) {
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
			checkPrintable3164(t, out)
			if res != Truncated {
				wantHost := refField(all, o.HostnameKeys, o.Hostname, refHostRule(true), 255)
				wantTag := refField(all, o.AppNameKeys, o.AppName, refTokenRule(false), 32)
				wantPID := refField(all, o.ProcIDKeys, "", refTokenRule(true), 128)
				if wantHost == "" {
					wantHost = "localhost"
				}
				if wantTag == "" {
					wantTag = "-"
				}
				if deref(sm.Hostname) != wantHost || deref(sm.Appname) != wantTag || deref(sm.ProcID) != wantPID {
					t.Fatalf("host %q tag %q pid %q, want %q %q %q", deref(sm.Hostname), deref(sm.Appname), deref(sm.ProcID), wantHost, wantTag, wantPID)
				}
			}
			units := refKVUnits(all, ref3164Repl)
			got := deref(sm.Message)
			if len(units) == 0 {
				units = []string{"-"}
			}
			ok, next := unitPrefix(got, units)
			switch {
			case !ok:
				t.Fatalf("MSG is not a whole-unit prefix of its log:\n%s\n%s", short(got), short(refKV(all, ref3164Repl)))
			case res != Truncated && next != "":
				t.Fatalf("MSG = %s\nwant %s", short(got), short(refKV(all, ref3164Repl)))
			case res == Truncated && next != "" && len(out)+len(next) <= o.MaxSize:
				t.Fatalf("cut MSG is shorter than the limit allows (next unit %q): %s", next, short(out))
			}
		}
	})
}

// checkPrintable3164: an RFC 3164 message is printable text and tab.
func checkPrintable3164(t *testing.T, out []byte) {
	t.Helper()
	for i, c := range out {
		if c < 0x20 && c != '\t' || c == 0x7f {
			t.Fatalf("RFC 3164 message holds control byte %#x at %d: %s", c, i, short(out))
		}
	}
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
		if p.Key != want[i].Key || (!last && p.Value != want[i].Value) || (last && !strings.HasPrefix(want[i].Value, p.Value)) ||
			p.Value == "" && want[i].Value != "" { // a cut value keeps one character at least
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
			var kept []Field
			for _, fl := range all {
				if !strings.HasPrefix(fl.Key, "t") {
					kept = append(kept, fl)
				}
			}
			names := refJSONNames(kept)
			var want []Field
			for i, fl := range kept {
				want = append(want, Field{names[i], refText(fl.Value, nil)})
			}
			checkPairs(t, got, want, res == Truncated)
		}
	})
}

// checkWholePairs checks CEF extension pairs or LEEF attributes: all of
// want, or when cut a subsequence of whole pairs such that every pair left
// out would not have fitted: the message (outLen bytes) plus its encoded
// length (enc) exceeds limit.
func checkWholePairs(t *testing.T, got, want []Field, enc []int, cut bool, outLen, limit int) {
	t.Helper()
	if !cut {
		checkPairs(t, got, want, false)
		return
	}
	j := 0
	for i, w := range want {
		if j < len(got) && got[j] == w {
			j++
			continue
		}
		if outLen+enc[i] <= limit {
			t.Fatalf("pair %d (%s, %d bytes) left out of a %d-byte message, limit %d", i, short(fmt.Sprint(w)), enc[i], outLen, limit)
		}
	}
	if j != len(got) {
		t.Fatalf("cut message pairs %s are not whole pairs of the log, in order", short(fmt.Sprint(got)))
	}
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
		for _, p := range out {
			if p.Key == ks {
				t.Fatalf("member name %q repeated: %s", ks, short(s))
			}
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
			hdr := refCtlSpace(nil)
			wantSev := []string{"10", "9", "8", "7", "5", "4", "3", "1"}[refSeverity(refMapped(all, o.SeverityKeys, ""), 6)]
			cut := res == Truncated
			if ev.Vendor != o.Vendor || ev.Product != "SLS" || ev.DevVersion != "1.0" || ev.Severity != wantSev ||
				!sameOrPrefix(ev.SignatureID, refPrefix(refText(refMapped(all, o.EventIDKeys, o.EventID), hdr), 1023), cut) ||
				!sameOrPrefix(ev.Name, refPrefix(refText(refMapped(all, o.EventNameKeys, o.EventName), hdr), 512), cut) {
				t.Fatalf("CEF header %s", short(fmt.Sprintf("%+v", ev)))
			}
			if len(ev.Ext) == 0 || ev.Ext[0].Key != "rt" || ev.Ext[0].Value != fmt.Sprint(int64(l.GetTime())*1000+int64(l.GetTimeNs())/1e6) {
				t.Fatalf("CEF rt: %s", short(fmt.Sprint(ev.Ext)))
			}
			repl := nulRepl // what a CEF reader decodes: \0 is no CEF escape
			keys := refAttrKeys(all, "rt")
			cefRepl := map[rune]string{'\\': `\\`, '=': `\=`, '\n': `\n`, '\r': `\r`, 0: `\0`}
			var want []Field
			var enc []int
			for i, fl := range all {
				want = append(want, Field{keys[i], refText(fl.Value, repl)})
				enc = append(enc, 2+len(keys[i])+len(refText(fl.Value, cefRepl)))
			}
			checkWholePairs(t, ev.Ext[1:], want, enc, res == Truncated, len(out), o.MaxSize)
		}
	})
}

func FuzzLEEF(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, level, host string, ns uint32, max uint16) {
		in := fuzzIn{k1, v1, k2, v2, level, host, ns, max}
		g, l := in.log()
		all := refFlatten(g, l)
		for _, delim := range []byte{0, '^', '\t'} {
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
			hdr := refCtlSpace(map[rune]string{'|': "_"})
			if ev.Version != wantVersion || ev.Delim != wantDelim || ev.Vendor != "Alibaba Cloud" ||
				!sameOrPrefix(ev.EventID, refPrefix(refText(refMapped(all, o.EventIDKeys, o.EventID), hdr), 255), res == Truncated) {
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
			var enc []int
			for i, fl := range all {
				want = append(want, Field{keys[i], refText(fl.Value, repl)})
				enc = append(enc, 2+len(keys[i])+len(refText(fl.Value, repl)))
			}
			checkWholePairs(t, ev.Attrs[3:], want, enc, res == Truncated, len(out), o.MaxSize)
		}
	})
}
