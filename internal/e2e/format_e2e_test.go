package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leodido/go-syslog/v4/rfc3164"
	"github.com/leodido/go-syslog/v4/rfc5424"

	"sls2siem/internal/localcloud/fcemu"
	"sls2siem/internal/localcloud/sample"
)

// TestFormatsThroughRealReceivers ships the whole sample logstore with every
// message syntax and body (SYSLOG_FORMAT, SYSLOG_BODY) through the built
// binary under the FC emulator, invoked with SLS trigger events, into a
// real rsyslog (LF framing) and a real syslog-ng (octet counting; RFC 3164
// over LF to its unparsed port, since its syslog() source only speaks RFC
// 5424). Each message is parsed strictly from the bytes the receiver got
// and compared with what the test computes from the loaded data; the
// receiver's own parse must agree on the header.
func TestFormatsThroughRealReceivers(t *testing.T) {
	rs := startRsyslog(t)
	sng := startSyslogNG(t)
	c := newCloud(t)
	receivers := []struct {
		name string
		r    receiverUnderTest
		sent int
	}{{name: "rsyslog", r: rs}, {name: "syslog-ng", r: sng}}

	for _, fc := range fmtCases() {
		for ri := range receivers {
			rcv := &receivers[ri]
			t.Run(fc.name+"/"+rcv.name, func(t *testing.T) {
				port, framing := rcv.r.Ports().TCP, "lf"
				switch {
				case rcv.name == "syslog-ng" && fc.rfc3164:
					port = rcv.r.Ports().TCPRaw
				case rcv.name == "syslog-ng":
					framing = "octet-counting"
				}
				env := append([]string{
					"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + strconv.Itoa(port), "SYSLOG_FRAMING=" + framing,
					"SYSLOG_HOSTNAME=e2e-host", "SYSLOG_TAG=sls2siem", "SYSLOG_FACILITY=local4", "SLS_PULL_COUNT=7",
				}, fc.env...)
				contract := fcemu.ContractCustom
				if ri == 1 {
					contract = fcemu.ContractGo1
				}
				fn := c.start(t, contract, c.roleCredentials(), fcemu.Config{Timeout: 60 * time.Second, Env: env})
				want := fmtExpected(c.data, fc, framing)
				var truncated, dropped int64
				for shard := range c.data.Shards {
					begin, end := c.shardRange(t, shard)
					res, err := fn.Invoke(t.Context(), c.event(shard, begin, end))
					if err != nil {
						t.Fatal(err)
					}
					if res.Err != nil {
						t.Fatalf("shard %d: %v", shard, res.Err)
					}
					var sum struct {
						Logs      int64 `json:"logs"`
						Truncated int64 `json:"truncated"`
						Dropped   int64 `json:"dropped"`
					}
					if err := json.Unmarshal(res.Payload, &sum); err != nil {
						t.Fatalf("answer %q: %v", res.Payload, err)
					}
					truncated += sum.Truncated
					dropped += sum.Dropped
				}
				if fc.maxSize > 0 && !fc.drop && truncated == 0 {
					t.Error("SYSLOG_MAX_MESSAGE_SIZE cut no message: the case does not test truncation")
				}
				if total := c.data.LogCount(); dropped != int64(total-len(want)) || (fc.drop && dropped == 0) {
					t.Errorf("the summaries count %d dropped logs, want %d", dropped, total-len(want))
				}
				rcv.sent += len(want)
				got := rcv.r.WaitForCount(t, rcv.sent, 60*time.Second)[rcv.sent-len(want):]
				framed := framing
				if fc.rfc3164 {
					framed = "lf"
				}
				for i, m := range got {
					// syslog-ng drops a message's final LF (a log whose
					// last value ends in one) even when octet-counted.
					fmtCheck(t, fc, framed, rcv.name == "syslog-ng", m, want[i], i)
				}
			})
		}
	}
}

// fmtCase is one configuration of the message format.
type fmtCase struct {
	name    string
	env     []string
	rfc3164 bool
	body    string // kv, json, cef, leef
	delim   byte   // LEEF
	zone    *time.Location
	mapped  bool // header fields, SD and origin from the log (see fmtCases)
	maxSize int
	drop    bool
}

func fmtCases() []fmtCase {
	shanghai := time.FixedZone("+08:00", 8*3600)
	return []fmtCase{
		{name: "rfc5424-kv", body: "kv", zone: time.UTC},
		{name: "rfc5424-json", env: []string{"SYSLOG_BODY=json"}, body: "json", zone: time.UTC},
		{name: "rfc5424-cef", body: "cef", zone: time.UTC, env: []string{"SYSLOG_BODY=cef",
			"SYSLOG_EVENT_ID_KEY=eventName,__topic__", "SYSLOG_EVENT_NAME_KEY=eventName", "SYSLOG_DEVICE_VENDOR=Alibaba Cloud"}},
		{name: "rfc5424-leef", env: []string{"SYSLOG_BODY=leef"}, body: "leef", delim: '\t', zone: time.UTC},
		{name: "rfc5424-leef2", env: []string{"SYSLOG_BODY=leef", "SYSLOG_LEEF_DELIMITER=0x5E", "SYSLOG_TIMEZONE=+08:00"},
			body: "leef", delim: '^', zone: shanghai},
		{name: "rfc3164-kv", env: []string{"SYSLOG_FORMAT=rfc3164", "SYSLOG_TIMEZONE=Asia/Shanghai"}, rfc3164: true, body: "kv", zone: shanghai},
		{name: "rfc3164-json", env: []string{"SYSLOG_FORMAT=rfc3164", "SYSLOG_BODY=json"}, rfc3164: true, body: "json", zone: time.UTC},
		{name: "rfc5424-kv-mapped", body: "kv", zone: shanghai, mapped: true, env: []string{
			"SYSLOG_TIMEZONE=Asia/Shanghai", "SYSLOG_BOM=true", "SYSLOG_ORIGIN_SD=true",
			"SYSLOG_HOSTNAME_KEY=__tag__:__hostname__,__source__", "SYSLOG_APPNAME_KEY=__topic__", "SYSLOG_MSGID_KEY=eventName",
			"SYSLOG_SEVERITY_KEY=level", "SYSLOG_SD_KEYS=userIdentity.userName,sourceIpAddress", "SYSLOG_SD_ID=fields@32473",
		}},
		{name: "rfc5424-json-truncate", env: []string{"SYSLOG_BODY=json", "SYSLOG_MAX_MESSAGE_SIZE=480"}, body: "json", zone: time.UTC, maxSize: 480},
		{name: "rfc5424-kv-drop", env: []string{"SYSLOG_MAX_MESSAGE_SIZE=600", "SYSLOG_OVERSIZE=drop"}, body: "kv", zone: time.UTC, maxSize: 600, drop: true},
	}
}

// fmtLog is one log of the sample as the test expects it.
type fmtLog struct {
	shard, group, index int
	fields              [][2]string // flattened like the reference (seedBody's order)
	time                time.Time
}

// fmtFields flattens a log like seedBody does, keeping the pairs.
func fmtFields(g sample.LogGroup, l sample.Log) [][2]string {
	var d orderedDict
	d.set("__time__", "")
	d.set("__topic__", g.Topic)
	d.set("__source__", g.Source)
	if l.TimeNs != 0 {
		d.set("__time_ns_part__", strconv.FormatUint(uint64(l.TimeNs), 10))
	}
	for _, tg := range g.Tags {
		d.set("__tag__:"+tg.Key, tg.Value)
	}
	for _, p := range l.Contents {
		d.set(p.Key, p.Value)
	}
	d.del("__time__")
	var out [][2]string
	for _, k := range d.keys {
		out = append(out, [2]string{k, d.vals[k]})
	}
	return out
}

// fmtExpected lists the logs the receiver must get, in sending order
// (shard 0 then shard 1: each shard is one invocation).
func fmtExpected(data *sample.Logstore, fc fmtCase, framing string) []fmtLog {
	var out []fmtLog
	for shard, groups := range data.Shards {
		for gi, g := range groups {
			for i, l := range g.Logs {
				fl := fmtLog{shard: shard, group: gi, index: i, fields: fmtFields(g, l),
					time: time.Unix(int64(l.Time), int64(l.TimeNs)/1000*1000)}
				if fc.drop && fmtSeedLen(fl, framing) > fc.maxSize {
					continue
				}
				out = append(out, fl)
			}
		}
	}
	return out
}

// fmtSeedLen is the length of the seed-format message of l with the test's
// header (<166>1 TIMESTAMP e2e-host sls2siem - - - ).
func fmtSeedLen(l fmtLog, framing string) int {
	esc := func(s string) string { return s }
	if framing == "lf" {
		esc = lfEscaped
	}
	n := len("<166>1 2026-11-24T00:00:00.000000Z e2e-host sls2siem - - - ")
	for _, f := range l.fields {
		n += 3 + len(esc(f[0])) + len(esc(f[1]))
	}
	return n
}

func fmtValue(fields [][2]string, keys ...string) string {
	for _, k := range keys {
		for _, f := range fields {
			if f[0] == k && f[1] != "" {
				return f[1]
			}
		}
	}
	return ""
}

// fmtCheck checks one received message against the log it must carry.
func fmtCheck(t *testing.T, fc fmtCase, framing string, dropsLF bool, m received, want fmtLog, i int) {
	t.Helper()
	raw := m.Raw
	if raw == "" {
		raw = m.Msg // syslog-ng's unparsed port
	}
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("message %d (shard %d log %d of group %d): %s\n%q", i, want.shard, want.index, want.group, fmt.Sprintf(format, args...), raw)
	}
	if fc.maxSize > 0 && len(raw) > fc.maxSize {
		fail("%d bytes, limit %d", len(raw), fc.maxSize)
	}
	esc := func(s string) string { return s }
	if framing == "lf" {
		esc = lfEscaped
	}
	var msg string
	var sev int
	if fc.rfc3164 {
		p, err := rfc3164.NewParser(rfc3164.WithYear(rfc3164.Year{YYYY: 2026}), rfc3164.WithLocaleTimezone(fc.zone)).Parse([]byte(raw))
		if err != nil {
			fail("RFC 3164: %v", err)
		}
		sm := p.(*rfc3164.SyslogMessage)
		if !sm.Timestamp.Equal(want.time.Truncate(time.Second)) || *sm.Hostname != "e2e-host" || *sm.Appname != "sls2siem" {
			fail("RFC 3164 header: %v %v %v", sm.Timestamp, *sm.Hostname, *sm.Appname)
		}
		msg, sev = *sm.Message, int(*sm.Severity)
	} else {
		p, err := rfc5424.NewParser(rfc5424.WithCompliantMsg()).Parse([]byte(raw))
		if err != nil {
			fail("strict RFC 5424: %v", err)
		}
		sm := p.(*rfc5424.SyslogMessage)
		msg, sev = fmtDeref(sm.Message), int(*sm.Severity)
		if !sm.Timestamp.Equal(want.time) {
			fail("timestamp %v, want %v", sm.Timestamp, want.time)
		}
		if _, off := sm.Timestamp.Zone(); off != fmtOffset(fc.zone) {
			fail("timestamp offset %d, want %d", off, fmtOffset(fc.zone))
		}
		fmtCheckHeader(t, fc, sm, want, fail)
		if m.Input != "tcp_raw" && strings.TrimPrefix(m.Msg, "\uFEFF") != strings.TrimPrefix(msg, "\uFEFF") && m.Msg != strings.TrimSuffix(msg, "\n") {
			fail("the receiver parsed MSG as %q", m.Msg)
		}
	}
	wantSev := 6 // SYSLOG_SEVERITY's default, info
	if fc.mapped {
		if s, ok := map[string]int{"DEBUG": 7, "INFO": 6, "WARN": 4, "ERROR": 3}[fmtValue(want.fields, "level")]; ok {
			wantSev = s
		}
	}
	if pri := fmtPri(raw); pri != 20*8+sev || sev != wantSev {
		fail("PRI %d, severity %d, want local4 and %d", pri, sev, wantSev)
	}
	if fc.mapped {
		msg = strings.TrimPrefix(msg, "\uFEFF")
	}
	switch fc.body {
	case "kv":
		var b strings.Builder
		for _, f := range want.fields {
			b.WriteString("||" + esc(f[0]) + "=" + esc(f[1]))
		}
		if msg != b.String() && !(dropsLF && msg+"\n" == b.String()) {
			fail("body differs at byte %d: got %q, want %q", fmtDiff(msg, b.String()), fmtAround(msg, b.String()), fmtAround(b.String(), msg))
		}
	case "json":
		got := fmtJSONPairs(t, msg, fail)
		if fc.maxSize > 0 {
			if len(got) > len(want.fields) {
				fail("cut JSON has more members than the log")
			}
			for j, p := range got {
				if p[0] != want.fields[j][0] || !strings.HasPrefix(want.fields[j][1], p[1]) || (j < len(got)-1 && p[1] != want.fields[j][1]) ||
					p[1] == "" && want.fields[j][1] != "" { // a cut value keeps one character
					fail("cut JSON member %d = %q, want (a prefix of) %q", j, p, want.fields[j])
				}
			}
		} else if fmt.Sprint(got) != fmt.Sprint(want.fields) {
			fail("JSON members %q\nwant %q", got, want.fields)
		}
	case "cef":
		hdr, ext := fmtParseCEF(msg, fail)
		wantHdr := []string{"CEF:0", "Alibaba Cloud", "SLS", "1.0", fmtValue(want.fields, "eventName", "__topic__"),
			fmtValue(want.fields, "eventName"), "3"}
		if wantHdr[4] == "" {
			wantHdr[4] = "sls-log"
		}
		if wantHdr[5] == "" {
			wantHdr[5] = "SLS log"
		}
		if fmt.Sprint(hdr) != fmt.Sprint(wantHdr) {
			fail("CEF header %q, want %q", hdr, wantHdr)
		}
		if ext[0][0] != "rt" || ext[0][1] != strconv.FormatInt(want.time.UnixMilli(), 10) {
			fail("CEF rt = %q", ext[0])
		}
		fmtSameValues(ext[1:], want.fields, func(s string) string { return s }, fail)
	case "leef":
		hdr, attrs := fmtParseLEEF(msg, fc.delim, fail)
		if hdr[4] != fmtValue(want.fields, "__topic__") && !(hdr[4] == "sls-log" && fmtValue(want.fields, "__topic__") == "") {
			fail("LEEF EventID %q", hdr[4])
		}
		devTime := want.time.In(fc.zone).Format("2006-01-02T15:04:05.000-0700")
		if attrs[0] != [2]string{"devTime", devTime} || attrs[1] != [2]string{"devTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSZ"} || attrs[2][0] != "sev" {
			fail("LEEF devTime, devTimeFormat, sev = %q, want devTime %s", attrs[:3], devTime)
		}
		tab := strings.NewReplacer("\n", `\n`, "\r", `\r`, "\x00", `\0`, string(fc.delim), map[byte]string{'\t': `\t`, '^': `\x5e`}[fc.delim])
		fmtSameValues(attrs[3:], want.fields, tab.Replace, fail)
	}
}

// fmtCheckHeader checks HOSTNAME, APP-NAME, MSGID and structured data.
func fmtCheckHeader(t *testing.T, fc fmtCase, sm *rfc5424.SyslogMessage, want fmtLog, fail func(string, ...any)) {
	t.Helper()
	if !fc.mapped {
		if *sm.Hostname != "e2e-host" || *sm.Appname != "sls2siem" || sm.ProcID != nil || sm.MsgID != nil || sm.StructuredData != nil {
			fail("header")
		}
		return
	}
	host := fmtHeader(fmtValue(want.fields, "__tag__:__hostname__", "__source__"), 255)
	app := fmtHeader(fmtValue(want.fields, "__topic__"), 48)
	if app == "" {
		app = "sls2siem"
	}
	if *sm.Hostname != host || *sm.Appname != app || fmtDeref(sm.MsgID) != fmtHeader(fmtValue(want.fields, "eventName"), 32) {
		fail("mapped header: host %q app %q msgid %q", *sm.Hostname, *sm.Appname, fmtDeref(sm.MsgID))
	}
	sd := *sm.StructuredData
	cursor := base64.StdEncoding.EncodeToString([]byte(strconv.Itoa(1600000000000000000 + want.group)))
	origin := map[string]string{"project": "sls2siem-demo", "logstore": "audit", "shard": strconv.Itoa(want.shard),
		"cursor": cursor, "index": strconv.Itoa(want.index)}
	if fmt.Sprint(sd["origin@32473"]) != fmt.Sprint(origin) {
		fail("origin element %v, want %v", sd["origin@32473"], origin)
	}
	fields := map[string]string{}
	for _, k := range []string{"userIdentity.userName", "sourceIpAddress"} {
		for _, f := range want.fields {
			if f[0] == k {
				// PARAM-NAMEs hold no '.' (docs/messages.md: syslog-ng splits SD names at dots).
				fields[strings.ReplaceAll(k, ".", "_")] = strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(f[1])
			}
		}
	}
	if fmt.Sprint(sd["fields@32473"]) != fmt.Sprint(fields) && !(len(fields) == 0 && sd["fields@32473"] == nil) {
		fail("fields element %v, want %v", sd["fields@32473"], fields)
	}
}

// fmtHeader is an RFC 5424 header field: printable US-ASCII, others '_'.
func fmtHeader(v string, max int) string {
	var b strings.Builder
	for _, r := range v {
		if b.Len() == max {
			break
		}
		if r < 33 || r > 126 {
			r = '_'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// fmtDiff is the index of the first byte where a and b differ.
func fmtDiff(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

// fmtAround is a's text around its first difference with b.
func fmtAround(a, b string) string {
	i := fmtDiff(a, b)
	return a[max(0, i-40):min(len(a), i+40)]
}

func fmtOffset(loc *time.Location) int {
	_, off := time.Unix(1795478400, 0).In(loc).Zone()
	return off
}

func fmtDeref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func fmtPri(raw string) int {
	end := strings.IndexByte(raw, '>')
	n, _ := strconv.Atoi(raw[1:end])
	return n
}

// fmtJSONPairs decodes a JSON object of strings, in order.
func fmtJSONPairs(t *testing.T, s string, fail func(string, ...any)) [][2]string {
	t.Helper()
	if !json.Valid([]byte(s)) {
		fail("invalid JSON")
	}
	d := json.NewDecoder(strings.NewReader(s))
	d.Token()
	var out [][2]string
	for d.More() {
		k, _ := d.Token()
		v, _ := d.Token()
		ks, ok1 := k.(string)
		vs, ok2 := v.(string)
		if !ok1 || !ok2 {
			fail("JSON member %d is not a string pair", len(out))
		}
		out = append(out, [2]string{ks, vs})
	}
	d.Token()
	if _, err := d.Token(); err != io.EOF {
		fail("text after the JSON object")
	}
	return out
}

// fmtParseCEF splits CEF:0|…|Severity|ext (escapes \| \\ in the header;
// \\ \= \n \r in values; keys alphanumeric and unique; no unescaped '=' in
// a value).
func fmtParseCEF(s string, fail func(string, ...any)) ([]string, [][2]string) {
	var hdr []string
	var b strings.Builder
	i := 0
	for len(hdr) < 7 {
		if i >= len(s) {
			fail("CEF header ends early")
		}
		switch s[i] {
		case '\\':
			b.WriteByte(s[i+1])
			i += 2
		case '|':
			hdr = append(hdr, b.String())
			b.Reset()
			i++
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	isKey := func(s string) bool {
		k, _, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return false
		}
		for _, c := range []byte(k) {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
				return false
			}
		}
		return true
	}
	ext := s[i:]
	var out [][2]string
	seen := map[string]bool{}
	for ext != "" {
		k, rest, _ := strings.Cut(ext, "=")
		if !isKey(ext) || seen[k] {
			fail("CEF extension key at %q", ext)
		}
		seen[k] = true
		b.Reset()
		j := 0
		for ; j < len(rest); j++ {
			c := rest[j]
			if c == ' ' && isKey(rest[j+1:]) {
				break
			}
			switch {
			case c == '\\':
				j++
				b.WriteByte(map[byte]byte{'n': '\n', 'r': '\r', '\\': '\\', '=': '='}[rest[j]])
			case c == '=' || c == '\n' || c == '\r':
				fail("CEF: raw %q in the value of %s", c, k)
			default:
				b.WriteByte(c)
			}
		}
		out = append(out, [2]string{k, b.String()})
		ext = ""
		if j < len(rest) {
			ext = rest[j+1:]
		}
	}
	return hdr, out
}

// fmtParseLEEF splits LEEF:1.0|V|P|Ver|ID|attrs or LEEF:2.0|V|P|Ver|ID|D|attrs.
func fmtParseLEEF(s string, delim byte, fail func(string, ...any)) ([]string, [][2]string) {
	n := 5
	if strings.HasPrefix(s, "LEEF:2.0|") {
		n = 6
	}
	parts := strings.SplitN(s, "|", n+1)
	if len(parts) != n+1 || (n == 6 && parts[5] != string(delim)) || (n == 5 && delim != '\t') {
		fail("LEEF header")
	}
	var out [][2]string
	seen := map[string]bool{}
	for _, a := range strings.Split(parts[n], string(delim)) {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" || seen[k] || strings.ContainsAny(k, " \t") {
			fail("LEEF attribute %q", a)
		}
		seen[k] = true
		out = append(out, [2]string{k, v})
	}
	return parts[:n], out
}

// fmtSameValues checks that the body's values are the log's, in order.
func fmtSameValues(got, want [][2]string, esc func(string) string, fail func(string, ...any)) {
	if len(got) != len(want) {
		fail("%d attributes, the log has %d fields", len(got), len(want))
	}
	for j := range want {
		if got[j][1] != esc(want[j][1]) {
			fail("value of %s (%s) = %q, want %q", got[j][0], want[j][0], got[j][1], esc(want[j][1]))
		}
	}
}
