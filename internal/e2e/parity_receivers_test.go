package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/leodido/go-syslog/v4/rfc3164"
	"github.com/leodido/go-syslog/v4/rfc5424"

	"sls2siem/internal/localcloud/fcemu"
	"sls2siem/internal/localcloud/sample"
)

// TestParityReceivers ships the adversarial corpus (parity_corpus_test.go)
// through the built binary under the FC emulator, for every syntax × body ×
// framing (and cut to 480 bytes), through a tee into a real rsyslog and a
// real syslog-ng configured to expose what they parsed. Per message it
// asserts that go-syslog's strict parser accepts the bytes on the wire,
// that what it parsed is what docs/messages.md's rules make of the log,
// and that both receivers parsed it without error into the same header
// fields, structured data and MSG. The corpus holds NUL (followed by
// tab, LF and other controls) in every configuration: since NUL is never
// sent raw, rsyslog keeps the rest of the message. The table of counts is
// logged (and written to $SLS2SIEM_PARITY_OUT when set).
func TestParityReceivers(t *testing.T) {
	rs := startParityRsyslog(t)
	ng := startParitySyslogNG(t)
	store := parityCorpus("corpus")
	c := newParityCloud(t, store)
	var table []string
	for i, pc := range parityConfigs() {
		pc.facility = i % 24 // tells apart the messages of neighbouring configurations
		ok := t.Run(pc.name(), func(t *testing.T) {
			row := runParity(t, c, rs, ng, pc, store)
			table = append(table, row.String())
			if row.sent != row.logs || row.goSyslog != row.sent || row.rsyslog != row.sent || row.syslogNG != row.sent {
				t.Errorf("%s", row)
			}
		})
		if !ok && testing.Short() {
			break
		}
	}
	report := "configuration: messages sent / parsed as docs/messages.md says by go-syslog / parsed identically by rsyslog / by syslog-ng\n" +
		strings.Join(table, "\n")
	t.Log(report)
	if out := os.Getenv("SLS2SIEM_PARITY_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(report+"\n"), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// parityConfig is one configuration of the binary.
type parityConfig struct {
	syntax   string // rfc5424, rfc3164
	body     string // kv, json, cef, leef
	framing  string // lf, octet-counting, udp
	leef2    bool   // LEEF 2.0, delimiter ^
	maxSize  int    // SYSLOG_MAX_MESSAGE_SIZE; 0: the default
	facility int
}

func parityConfigs() []parityConfig {
	var out []parityConfig
	for _, syntax := range []string{"rfc5424", "rfc3164"} {
		for _, body := range []string{"kv", "json", "cef", "leef"} {
			for _, framing := range []string{"lf", "octet-counting", "udp"} {
				out = append(out, parityConfig{syntax: syntax, body: body, framing: framing})
			}
			out = append(out, parityConfig{syntax: syntax, body: body, framing: "lf", maxSize: 480})
		}
		out = append(out, parityConfig{syntax: syntax, body: "leef", framing: "octet-counting", leef2: true})
	}
	return out
}

func (pc parityConfig) name() string {
	n := pc.syntax + "-" + pc.body
	if pc.leef2 {
		n += "2"
	}
	n += "-" + pc.framing
	if pc.maxSize > 0 {
		n += "-" + strconv.Itoa(pc.maxSize)
	}
	return n
}

func (pc parityConfig) bsd() bool    { return pc.syntax == "rfc3164" }
func (pc parityConfig) breaks() bool { return pc.framing == "lf" }

func (pc parityConfig) limit() int {
	switch {
	case pc.maxSize > 0:
		return pc.maxSize
	case pc.framing == "udp":
		return 2048
	}
	return 65536
}

var paritySDKeys = []string{"sd1", "sd2", "a.b", "a_b", strings.Repeat("L", 40) + "1", strings.Repeat("L", 40) + "2", "sd1"}

func (pc parityConfig) env(port int) []string {
	env := []string{
		"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + strconv.Itoa(port),
		"SYSLOG_FORMAT=" + pc.syntax, "SYSLOG_BODY=" + pc.body, "SYSLOG_FACILITY=" + strconv.Itoa(pc.facility),
		"SYSLOG_HOSTNAME=parity-host", "SYSLOG_TAG=sls2siem",
		"SYSLOG_HOSTNAME_KEY=host", "SYSLOG_APPNAME_KEY=app", "SYSLOG_PROCID_KEY=pid", "SYSLOG_SEVERITY_KEY=level",
		"SYSLOG_EVENT_ID_KEY=event", "SYSLOG_EVENT_NAME_KEY=event", "SLS_PULL_COUNT=3",
	}
	if pc.framing == "udp" {
		env = append(env, "SYSLOG_PROTOCOL=udp")
	} else {
		env = append(env, "SYSLOG_PROTOCOL=tcp", "SYSLOG_FRAMING="+pc.framing)
	}
	if !pc.bsd() {
		env = append(env, "SYSLOG_MSGID_KEY=msgid", "SYSLOG_SD_KEYS="+strings.Join(paritySDKeys, ","), "SYSLOG_ORIGIN_SD=true")
	}
	if pc.leef2 {
		env = append(env, "SYSLOG_LEEF_DELIMITER=^")
	}
	if pc.maxSize > 0 {
		env = append(env, "SYSLOG_MAX_MESSAGE_SIZE="+strconv.Itoa(pc.maxSize))
	}
	return env
}

// parityRow counts one configuration's messages.
type parityRow struct {
	name                                    string
	logs, sent, goSyslog, rsyslog, syslogNG int
	truncated                               int64
}

func (r parityRow) String() string {
	return fmt.Sprintf("%-28s %3d sent (%2d cut) / go-syslog %3d / rsyslog %3d / syslog-ng %3d", r.name, r.sent, r.truncated, r.goSyslog, r.rsyslog, r.syslogNG)
}

// parityLog is one log of the corpus as the oracle sees it.
type parityLog struct {
	group, index int
	fields       [][2]string
	sec, nsec    int64
}

func parityLogs(ls *sample.Logstore) map[string]parityLog {
	out := map[string]parityLog{}
	for gi, g := range ls.Shards[0] {
		for i, l := range g.Logs {
			sec := int64(l.Time) + int64(l.TimeNs)/1e9
			pl := parityLog{group: gi, index: i, fields: fmtFields(g, l), sec: sec, nsec: int64(l.TimeNs) % 1e9}
			out[time.Unix(sec, 0).UTC().Format("01-02T15:04:05")] = pl
		}
	}
	return out
}

func runParity(t *testing.T, c *cloud, rs, ng *parityReceiver, pc parityConfig, store *sample.Logstore) parityRow {
	row := parityRow{name: pc.name()}
	logs := parityLogs(store)
	row.logs = len(logs)
	rsBefore, ngBefore := rs.Size(t), ng.Size(t)
	tee := startParityTee(t, pc.framing == "udp", loopback(rs.Port(pc.syntax, pc.framing)), loopback(ng.Port(pc.syntax, pc.framing)))
	fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{Timeout: 60 * time.Second, MemoryMB: 512, Env: pc.env(tee.Port())})
	res, err := fn.Invoke(t.Context(), c.storeEvent(t, store, 0))
	if err != nil {
		t.Fatal(err)
	}
	if res.Err != nil {
		t.Fatalf("invocation: %v", res.Err)
	}
	var sum struct {
		Logs, Truncated, Dropped int64
	}
	if err := json.Unmarshal(res.Payload, &sum); err != nil {
		t.Fatalf("answer %q: %v", res.Payload, err)
	}
	row.truncated = sum.Truncated
	frames := tee.WaitFrames(t, pc.framing, int(sum.Logs), 30*time.Second)
	row.sent = len(frames)
	if sum.Logs != int64(row.logs) || sum.Dropped != 0 {
		t.Errorf("the function shipped %d logs (%d dropped), the corpus has %d", sum.Logs, sum.Dropped, row.logs)
	}
	rsMsgs := parityWait(t, rs, rsBefore, len(frames), pc.facility)
	ngMsgs := parityWait(t, ng, ngBefore, len(frames), pc.facility)
	fails := 0
	report := func(format string, args ...any) {
		t.Helper()
		if fails++; fails <= 12 {
			t.Errorf(format, args...)
		}
	}
	for _, f := range frames {
		got, key, err := parseWire(f, pc)
		if err != nil {
			report("go-syslog rejects %s: %v", shortQ(f), err)
			continue
		}
		want, ok := logs[key]
		if !ok {
			report("no corpus log at %s: %s", key, shortQ(f))
			continue
		}
		if err := checkOracle(pc, store, f, got, want); err != nil {
			report("log %d/%d (%s): not what docs/messages.md's rules make of it: %v\n%s", want.group, want.index, key, err, shortQ(f))
		} else {
			row.goSyslog++
		}
		if err := sameAsRsyslog(pc, got, rsMsgs[key]); err != nil {
			report("log %d/%d (%s): rsyslog: %v\n%s", want.group, want.index, key, err, shortQ(f))
		} else {
			row.rsyslog++
		}
		if err := sameAsSyslogNG(pc, got, ngMsgs[key]); err != nil {
			report("log %d/%d (%s): syslog-ng: %v\n%s", want.group, want.index, key, err, shortQ(f))
		} else {
			row.syslogNG++
		}
	}
	return row
}

// parityWait waits until a receiver stored n messages after byte offset
// before of its output and returns them by time key (only those of this
// configuration's facility).
func parityWait(t *testing.T, r *parityReceiver, before int64, n int, facility int) map[string][]parityMsg {
	t.Helper()
	out := map[string][]parityMsg{}
	for _, m := range r.ParsedFrom(t, before, n, 30*time.Second) {
		pri, _ := strconv.Atoi(m.Pri)
		if pri/8 != facility || len(m.Timestamp) < 19 {
			continue
		}
		k := m.Timestamp[5:19]
		out[k] = append(out[k], m)
	}
	return out
}

// wireMsg is what go-syslog parsed from the bytes on the wire.
type wireMsg struct {
	pri                  int
	sec                  int64 // RFC 3164: seconds of the day (no year)
	nsec                 int64
	host, app, proc, mid string
	hasProc              bool
	sdRaw                string
	sd                   map[string]map[string]string
	msg                  string
}

func parseWire(f []byte, pc parityConfig) (w wireMsg, key string, err error) {
	if pc.bsd() {
		for i, c := range f {
			if c < 0x20 && c != '\t' || c == 0x7f {
				return w, "", fmt.Errorf("RFC 3164 message holds control byte %#x at %d", c, i)
			}
		}
		m, err := rfc3164.NewParser(rfc3164.WithYear(rfc3164.Year{YYYY: 2026}), rfc3164.WithLocaleTimezone(time.UTC)).Parse(f)
		if err != nil {
			return w, "", err
		}
		sm := m.(*rfc3164.SyslogMessage)
		if sm.Timestamp == nil || sm.Message == nil || sm.Hostname == nil || sm.Appname == nil {
			return w, "", fmt.Errorf("RFC 3164: no timestamp, host name, tag or content")
		}
		w = wireMsg{pri: int(*sm.Priority), sec: sm.Timestamp.Unix(), host: *sm.Hostname, app: *sm.Appname, msg: *sm.Message}
		if sm.ProcID != nil {
			w.proc, w.hasProc = *sm.ProcID, true
		}
		return w, sm.Timestamp.UTC().Format("01-02T15:04:05"), nil
	}
	m, err := rfc5424.NewParser(rfc5424.WithCompliantMsg()).Parse(f)
	if err != nil {
		return w, "", err
	}
	sm := m.(*rfc5424.SyslogMessage)
	if sm.Timestamp == nil {
		return w, "", fmt.Errorf("no timestamp")
	}
	w = wireMsg{pri: int(*sm.Priority), sec: sm.Timestamp.Unix(), nsec: int64(sm.Timestamp.Nanosecond()),
		host: fmtDeref(sm.Hostname), app: fmtDeref(sm.Appname), proc: fmtDeref(sm.ProcID), mid: fmtDeref(sm.MsgID),
		msg: fmtDeref(sm.Message), sdRaw: wireSD(f)}
	if sm.StructuredData != nil {
		w.sd = *sm.StructuredData
	}
	return w, sm.Timestamp.UTC().Format("01-02T15:04:05"), nil
}

// wireSD returns the STRUCTURED-DATA text of an RFC 5424 message.
func wireSD(f []byte) string {
	s := string(f)
	for range 6 {
		s = s[strings.IndexByte(s, ' ')+1:]
	}
	i := 0
	for i < len(s) && s[i] == '[' {
		for i++; i < len(s) && s[i] != ']'; i++ {
			if s[i] == '\\' {
				i++
			} else if s[i] == '"' { // a value
				for i++; i < len(s) && s[i] != '"'; i++ {
					if s[i] == '\\' {
						i++
					}
				}
			}
		}
		i++
	}
	if i == 0 {
		return "-"
	}
	return s[:i]
}

// Receivers against go-syslog.

func sameAsRsyslog(pc parityConfig, w wireMsg, ms []parityMsg) error {
	if len(ms) != 1 {
		return fmt.Errorf("%d messages with this time", len(ms))
	}
	m := ms[0]
	nilDash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	var diffs []string
	cmp := func(field, got, want string) {
		if got != want {
			diffs = append(diffs, fmt.Sprintf("%s %s, go-syslog %s", field, shortQ(got), shortQ(want)))
		}
	}
	cmp("PRI", m.Pri, strconv.Itoa(w.pri))
	cmp("hostname", m.Hostname, w.host)
	if pc.bsd() {
		cmp("protocol-version", m.Version, "0")
		cmp("programname", m.Program, w.app)
		cmp("procid", m.ProcID, nilDash(w.proc))
		cmp("msg", m.Msg, " "+w.msg) // rsyslog keeps the space after "TAG:"
	} else {
		cmp("protocol-version", m.Version, "1")
		cmp("app-name", m.AppName, nilDash(w.app))
		cmp("procid", m.ProcID, nilDash(w.proc))
		cmp("msgid", m.MsgID, nilDash(w.mid))
		cmp("structured-data", m.SD, w.sdRaw)
		cmp("structured-data parsed", sdString(m.SDParams), sdString(w.sd))
		cmp("msg", m.Msg, w.msg)
	}
	if diffs != nil {
		return fmt.Errorf("%s", strings.Join(diffs, "; "))
	}
	return nil
}

func sameAsSyslogNG(pc parityConfig, w wireMsg, ms []parityMsg) error {
	if len(ms) != 1 {
		return fmt.Errorf("%d messages with this time", len(ms))
	}
	m := ms[0]
	if strings.HasPrefix(m.Msg, "Error processing log message") {
		return fmt.Errorf("%s", shortQ(m.Msg))
	}
	var diffs []string
	cmp := func(field, got, want string) {
		if got != want {
			diffs = append(diffs, fmt.Sprintf("%s %s, go-syslog %s", field, shortQ(got), shortQ(want)))
		}
	}
	cmp("PRI", m.Pri, strconv.Itoa(w.pri))
	cmp("HOST", m.Hostname, w.host)
	cmp("PROGRAM", m.AppName, w.app)
	cmp("PID", m.ProcID, w.proc)
	cmp("MSG", m.Msg, w.msg)
	if !pc.bsd() {
		cmp("MSGID", m.MsgID, w.mid)
		sd := w.sdRaw
		if sd == "-" {
			sd = ""
		}
		cmp("SDATA", m.SD, sd)
		cmp(".SDATA", sdString(m.SDParams), sdString(w.sd))
	}
	if diffs != nil {
		return fmt.Errorf("%s", strings.Join(diffs, "; "))
	}
	return nil
}

func sdString(sd map[string]map[string]string) string {
	var ids []string
	for id, p := range sd {
		var names []string
		for n, v := range p {
			names = append(names, strconv.Quote(n)+"="+strconv.Quote(v))
		}
		sort.Strings(names)
		ids = append(ids, id+"{"+strings.Join(names, " ")+"}")
	}
	sort.Strings(ids)
	return strings.Join(ids, "")
}

func shortQ[T ~string | ~[]byte](s T) string {
	if len(s) > 300 {
		return fmt.Sprintf("%q…(%d bytes)", string(s[:300]), len(s))
	}
	return fmt.Sprintf("%q", string(s))
}

// The oracle: docs/messages.md, written from the text.

// pChars keeps the runes ok accepts, writes others '_', cut to max runes.
func pChars(v string, max int, ok func(r rune) bool) string {
	var b strings.Builder
	n := 0
	for _, r := range v {
		if n == max {
			break
		}
		if ok(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
		n++
	}
	return b.String()
}

func pAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}

func pPrint(r rune) bool { return r >= 33 && r <= 126 }

// pRule makes a header value; "" is unusable (empty or "-").
type pRule func(v string, max int) string

func pHost(bsd bool) pRule {
	return func(v string, max int) string {
		s := pChars(v, max, func(r rune) bool { return pAlnum(r) || strings.ContainsRune(".-_", r) || !bsd && r == ':' })
		if i := strings.LastIndex(s, ":"); i >= 0 && strings.Trim(s[:i], "0123456789abcdefABCDEF:") != "" {
			s = strings.ReplaceAll(s, ":", "_")
		}
		if bsd {
			s = strings.TrimRightFunc(s, func(r rune) bool { return !pAlnum(r) })
		}
		return pUsable(s)
	}
}

func pToken(slash bool) pRule {
	return func(v string, max int) string {
		return pUsable(pChars(v, max, func(r rune) bool { return pPrint(r) && !strings.ContainsRune(`":[]`, r) && (slash || r != '/') }))
	}
}

func pMsgID(v string, max int) string { return pUsable(pChars(v, max, pPrint)) }

func pUsable(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// pField: the field key's value made so, when usable, else the constant.
func pField(fs [][2]string, key, constant string, rule pRule, max int) string {
	if v := fmtValue(fs, key); v != "" {
		if s := rule(v, max); s != "" {
			return s
		}
	}
	return rule(constant, max)
}

// pSeverity is the documented severity vocabulary (a decimal number with
// leading zeros, or a word); info by default.
func pSeverity(v string) int {
	words := map[string]int{
		"emerg": 0, "emergency": 0, "panic": 0, "alert": 1, "crit": 2, "critical": 2, "fatal": 2,
		"err": 3, "error": 3, "severe": 3, "warn": 4, "warning": 4, "notice": 5,
		"info": 6, "informational": 6, "information": 6, "debug": 7, "trace": 7, "verbose": 7, "fine": 7, "finer": 7, "finest": 7,
	}
	w := strings.ToLower(strings.Trim(v, " \t"))
	if strings.Trim(w, "0123456789") == "" && w != "" {
		if n, err := strconv.Atoi(w); err == nil && n <= 7 {
			return n
		}
		return 6
	}
	if n, ok := words[w]; ok {
		return n
	}
	return 6
}

// pText is s with invalid UTF-8 replaced (one U+FFFD per byte) and the
// runes of repl replaced.
func pText(s string, repl map[rune]string) string {
	var ascii [128]bool // ASCII bytes that repl replaces
	for r := range repl {
		if r < 128 {
			ascii[r] = true
		}
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if ascii[c] {
				b.WriteString(repl[rune(c)])
			} else {
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r2, ok := repl[r]; ok {
			b.WriteString(r2)
		} else {
			b.WriteRune(r) // an invalid byte is RuneError: U+FFFD
		}
		i += size
	}
	return b.String()
}

// Escapes: NUL never raw; line breaks under LF framing; RFC 3164 content
// printable (C1 controls, U+0080–U+009F, written \xHH of the code point).
var (
	pNUL    = map[rune]string{0: `\0`}
	pBreaks = map[rune]string{'\n': `\n`, '\r': `\r`, 0: `\0`}
	pStrict = func() map[rune]string {
		m := map[rune]string{'\n': `\n`, '\r': `\r`, 0: `\0`, 0x7f: `\x7f`}
		for c := rune(1); c < 0xa0; c++ {
			if c != '\t' && c != '\n' && c != '\r' && (c < 0x20 || c >= 0x80) {
				m[c] = fmt.Sprintf(`\x%02x`, c)
			}
		}
		return m
	}()
	// pCtlSpace: CEF and LEEF header fields, every control character a space.
	pCtlSpace = func() map[rune]string {
		m := map[rune]string{0x7f: " "}
		for c := rune(0); c < 0xa0; c++ {
			if c < 0x20 || c >= 0x80 {
				m[c] = " "
			}
		}
		return m
	}()
)

func merge(ms ...map[rune]string) map[rune]string {
	out := map[rune]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// pNumbered: a name already used gets the smallest n >= 2 unused, the name
// shortened to keep at most max bytes (0: no limit).
func pNumbered(names []string, max int) []string {
	used := map[string]bool{}
	var out []string
	for _, n := range names {
		c := n
		for i := 2; used[c]; i++ {
			num := strconv.Itoa(i)
			base := n
			if max > 0 && len(base)+len(num) > max {
				base = base[:max-len(num)]
			}
			c = base + num
		}
		used[c] = true
		out = append(out, c)
	}
	return out
}

// pAttrKeys: CEF/LEEF keys.
func pAttrKeys(fs [][2]string, reserved ...string) []string {
	var names []string
	for _, f := range fs {
		var b strings.Builder
		upper := false
		for _, r := range f[0] {
			switch {
			case pAlnum(r):
				if upper && b.Len() > 0 && r >= 'a' && r <= 'z' {
					r -= 'a' - 'A'
				}
				b.WriteRune(r)
				upper = false
			case r < 128:
				upper = true
			default:
				b.WriteString(fmt.Sprintf("u%04x", r)) // four hex digits at least
				upper = true
			}
		}
		k := b.String()
		if k == "" {
			k = "field"
		}
		names = append(names, k)
	}
	// Only names changed by the rule (or reserved) can repeat; the
	// numbering rule is the same.
	return pNumbered(append(reserved, names...), 0)[len(reserved):]
}

func pPrefixUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// checkOracle checks go-syslog's parse of frame f against the log.
func checkOracle(pc parityConfig, store *sample.Logstore, f []byte, w wireMsg, l parityLog) error {
	limit := pc.limit()
	if len(f) > limit {
		return fmt.Errorf("%d bytes, limit %d", len(f), limit)
	}
	sev := pSeverity(fmtValue(l.fields, "level"))
	if w.pri != pc.facility*8+sev {
		return fmt.Errorf("PRI %d, want %d", w.pri, pc.facility*8+sev)
	}
	if pc.bsd() {
		if got, want := time.Unix(w.sec, 0).UTC(), time.Unix(l.sec, 0).UTC(); got.Format(time.Stamp) != want.Format(time.Stamp) {
			return fmt.Errorf("timestamp %v, want %v", got, want)
		}
	} else if w.sec != l.sec || w.nsec != l.nsec/1000*1000 {
		return fmt.Errorf("timestamp %d.%09d, want %d.%09d", w.sec, w.nsec, l.sec, l.nsec/1000*1000)
	}
	msg, cut, err := checkBody(pc, w, l, len(f))
	if err != nil {
		return err
	}
	_ = msg
	// Header fields: the full rule, or when cut a shorter one (docs/messages.md:
	// 64/48/32/32, then 16 characters).
	type hf struct {
		name, got, key, constant string
		rule                     pRule
		max, compact             int
		nilValue                 string
	}
	var hfs []hf
	if pc.bsd() {
		hfs = []hf{
			{"HOSTNAME", w.host, "host", "parity-host", pHost(true), 255, 64, "localhost"},
			{"TAG", w.app, "app", "sls2siem", pToken(false), 32, 32, "-"},
			{"PID", w.proc, "pid", "", pToken(true), 128, 32, ""},
		}
	} else {
		hfs = []hf{
			{"HOSTNAME", w.host, "host", "parity-host", pHost(false), 255, 64, ""},
			{"APP-NAME", w.app, "app", "sls2siem", pToken(false), 48, 48, ""},
			{"PROCID", w.proc, "pid", "", pToken(true), 128, 32, ""},
			{"MSGID", w.mid, "msgid", "", pMsgID, 32, 32, ""},
		}
	}
	for _, h := range hfs {
		full := pField(l.fields, h.key, h.constant, h.rule, h.max)
		short := pField(l.fields, h.key, h.constant, h.rule, h.compact)
		tiny := pField(l.fields, h.key, h.constant, h.rule, 16)
		for _, v := range []*string{&full, &short, &tiny} {
			if *v == "" {
				*v = h.nilValue
			}
		}
		if h.got != full && !(cut && (h.got == short || h.got == tiny)) {
			return fmt.Errorf("%s %q, want %q", h.name, h.got, full)
		}
	}
	if !pc.bsd() {
		return checkSD(pc, store, w, l, cut)
	}
	return nil
}

// checkSD checks the origin element and the element of SYSLOG_SD_KEYS.
func checkSD(pc parityConfig, store *sample.Logstore, w wireMsg, l parityLog, cut bool) error {
	want := map[string]map[string]string{"origin@32473": {
		"project": store.Project, "logstore": store.Logstore, "shard": "0", "index": strconv.Itoa(l.index),
		"cursor": base64.StdEncoding.EncodeToString([]byte(strconv.Itoa(1600000000000000000 + l.group))),
	}}
	var keys, names []string
	seen := map[string]bool{}
	for _, k := range paritySDKeys {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
			names = append(names, pChars(k, 32, func(r rune) bool { return pPrint(r) && !strings.ContainsRune(`="].`, r) }))
		}
	}
	names = pNumbered(names, 32)
	repl := pNUL
	if pc.breaks() {
		repl = pBreaks
	}
	for i, k := range keys {
		for _, f := range l.fields {
			if f[0] == k {
				if want["fields@32473"] == nil {
					want["fields@32473"] = map[string]string{}
				}
				want["fields@32473"][names[i]] = pText(f[1], repl)
			}
		}
	}
	if !cut {
		if sdString(w.sd) != sdString(want) {
			return fmt.Errorf("SD %s, want %s", shortQ(sdString(w.sd)), shortQ(sdString(want)))
		}
		return nil
	}
	if sdString(map[string]map[string]string{"o": w.sd["origin@32473"]}) != sdString(map[string]map[string]string{"o": want["origin@32473"]}) {
		return fmt.Errorf("cut SD: origin %v", w.sd["origin@32473"])
	}
	for n, v := range w.sd["fields@32473"] {
		for i, name := range names {
			if name == n {
				orig := fmtValue(l.fields, keys[i])
				if !pUnitPrefixOf(v, orig, repl) || v == "" && orig != "" {
					return fmt.Errorf("cut SD %s = %q is not a whole-unit prefix of its value, of one unit at least", n, v)
				}
			}
		}
	}
	return nil
}

// pUnitPrefixOf: got is the text of a whole-unit prefix of s (one unit per
// character: its replacement, U+FFFD for an invalid byte).
func pUnitPrefixOf(got, s string, repl map[rune]string) bool {
	n, ok, next := pMatchUnits(got, 0, s, repl)
	return ok && (next != "" || n == len(got))
}

// pMatchUnits matches the units of s against got from byte n on. It returns
// the new position and, when got ends before s's last unit, that next unit
// (ok); ok is false when a unit differs.
func pMatchUnits(got string, n int, s string, repl map[rune]string) (_ int, ok bool, next string) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		u := s[i : i+size]
		if r2, replaced := repl[r]; replaced {
			u = r2
		} else if r == utf8.RuneError && size == 1 {
			u = "\uFFFD"
		}
		if n == len(got) {
			return n, true, u
		}
		if !strings.HasPrefix(got[n:], u) {
			return n, false, u
		}
		n += len(u)
		i += size
	}
	return n, true, ""
}

// pKVPrefix: got is a whole-unit prefix of the kv body of fields ("||" is
// one unit); next is the unit after it ("" when got is the whole body).
func pKVPrefix(got string, fields [][2]string, repl map[rune]string) (ok bool, next string) {
	n := 0
	for _, f := range fields {
		for j, part := range []string{"||", f[0], "=", f[1]} {
			if j%2 == 0 { // a separator
				if n == len(got) {
					return true, part
				}
				if !strings.HasPrefix(got[n:], part) {
					return false, part
				}
				n += len(part)
				continue
			}
			var ok bool
			if n, ok, next = pMatchUnits(got, n, part, repl); !ok || next != "" {
				return ok, next
			}
		}
	}
	return n == len(got), ""
}

// checkBody checks MSG; cut reports whether it was shortened.
func checkBody(pc parityConfig, w wireMsg, l parityLog, frameLen int) (string, bool, error) {
	limit := pc.limit()
	switch pc.body {
	case "kv":
		repl := pNUL
		switch {
		case pc.bsd():
			repl = pStrict
		case pc.breaks():
			repl = pBreaks
		}
		ok, next := pKVPrefix(w.msg, l.fields, repl)
		if len(l.fields) == 0 && pc.bsd() {
			ok, next = w.msg == "-", "" // RFC 3164 content cannot be empty
		}
		switch {
		case !ok:
			return "", false, fmt.Errorf("kv MSG is not a whole-unit prefix of the log's body")
		case next != "" && frameLen+len(next) <= limit:
			return "", false, fmt.Errorf("kv MSG cut with %d bytes of room left (next %q)", limit-frameLen, next)
		}
		return w.msg, next != "", nil
	case "json":
		got, err := pJSONPairs(w.msg)
		if err != nil {
			return "", false, err
		}
		var names []string
		for _, f := range l.fields {
			names = append(names, pText(f[0], nil))
		}
		names = pNumbered(names, 0)
		if len(got) > len(l.fields) {
			return "", false, fmt.Errorf("JSON has %d members, the log %d fields", len(got), len(l.fields))
		}
		cut := len(got) < len(l.fields)
		for j, p := range got {
			v := pText(l.fields[j][1], nil)
			last := j == len(got)-1
			if p[0] != names[j] || p[1] != v && !(last && p[1] != "" && strings.HasPrefix(v, p[1])) {
				return "", false, fmt.Errorf("JSON member %d = %q, want %q: %q", j, p[0], names[j], shortQ(p[1]))
			}
			cut = cut || p[1] != v
		}
		return w.msg, cut, nil
	case "cef":
		return checkCEF(pc, w, l, frameLen)
	}
	return checkLEEF(pc, w, l, frameLen)
}

func pJSONPairs(s string) ([][2]string, error) {
	if !json.Valid([]byte(s)) {
		return nil, fmt.Errorf("invalid JSON: %s", shortQ(s))
	}
	d := json.NewDecoder(strings.NewReader(s))
	d.Token()
	var out [][2]string
	seen := map[string]bool{}
	for d.More() {
		k, _ := d.Token()
		v, _ := d.Token()
		ks, ok1 := k.(string)
		vs, ok2 := v.(string)
		if !ok1 || !ok2 || seen[ks] {
			return nil, fmt.Errorf("JSON member %d is not a string pair with a new name", len(out))
		}
		seen[ks] = true
		out = append(out, [2]string{ks, vs})
	}
	d.Token()
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("text after the JSON object")
	}
	return out, nil
}

// checkPairsWhole: got are whole pairs of want, in order; a left-out pair
// would not have fitted (frameLen + its encoded length > limit).
func checkPairsWhole(got, want [][2]string, enc []int, frameLen, limit int) (bool, error) {
	j := 0
	cut := false
	for i, w := range want {
		if j < len(got) && got[j] == w {
			j++
			continue
		}
		cut = true
		if frameLen+enc[i] <= limit {
			return cut, fmt.Errorf("pair %s (%d bytes) left out with room for it", shortQ(w[0]), enc[i])
		}
	}
	if j != len(got) {
		return cut, fmt.Errorf("pairs are not whole pairs of the log, in order (at %d: %q)", j, got[min(j, len(got)-1)])
	}
	return cut, nil
}

func checkCEF(pc parityConfig, w wireMsg, l parityLog, frameLen int) (string, bool, error) {
	hdr, ext, err := pParseCEF(w.msg)
	if err != nil {
		return "", false, err
	}
	ctl := pCtlSpace
	ev := fmtValue(l.fields, "event")
	id, name := "sls-log", "SLS log"
	if ev != "" {
		id, name = ev, ev
	}
	sev := []string{"10", "9", "8", "7", "5", "4", "3", "1"}[pSeverity(fmtValue(l.fields, "level"))]
	// The limits count the decoded value (docs/messages.md, cef).
	wantID, wantName := pPrefixUTF8(pText(id, ctl), 1023), pPrefixUTF8(pText(name, ctl), 512)
	compact := false // shortened to 32, then 8 bytes
	for _, n := range []int{32, 8} {
		if hdr[4] == pPrefixUTF8(pText(id, ctl), n) && hdr[5] == pPrefixUTF8(pText(name, ctl), n) && (hdr[4] != wantID || hdr[5] != wantName) {
			compact = true
		}
	}
	if hdr[0] != "CEF:0" || hdr[1] != "Alibaba Cloud" || hdr[2] != "SLS" || hdr[3] != "1.0" || hdr[6] != sev ||
		!(hdr[4] == wantID && hdr[5] == wantName || compact) {
		return "", false, fmt.Errorf("CEF header %q", hdr)
	}
	rt := strconv.FormatInt(l.sec*1000+l.nsec/1e6, 10)
	if len(ext) == 0 || ext[0] != [2]string{"rt", rt} {
		return "", false, fmt.Errorf("CEF rt %q, want %s", ext[:min(1, len(ext))], rt)
	}
	value := pNUL // what a value reads, decoded: \0 is no CEF escape
	enc := map[rune]string{'\\': `\\`, '=': `\=`, '\n': `\n`, '\r': `\r`, 0: `\0`}
	if pc.bsd() {
		value = map[rune]string{}
		for r, s := range pStrict {
			if r != '\n' && r != '\r' {
				value[r] = s
			}
		}
		enc = merge(pStrict, enc)
	}
	keys := pAttrKeys(l.fields, "rt")
	var want [][2]string
	var sizes []int
	for i, f := range l.fields {
		want = append(want, [2]string{keys[i], pText(f[1], value)})
		sizes = append(sizes, 2+len(keys[i])+len(pText(f[1], enc)))
	}
	cut, err := checkPairsWhole(ext[1:], want, sizes, frameLen, pc.limit())
	return w.msg, cut || compact, err
}

// pParseCEF splits CEF:0|…|Severity|ext: header escapes \| \\; values
// decode \\ \= \n \r and keep other escapes as written; keys alphanumeric
// and unique; no unescaped '=' or line break in a value.
func pParseCEF(s string) ([]string, [][2]string, error) {
	var hdr []string
	var b strings.Builder
	i := 0
	for len(hdr) < 7 {
		if i >= len(s) {
			return nil, nil, fmt.Errorf("CEF header ends early: %s", shortQ(s))
		}
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '\\' || s[i+1] == '|'):
			b.WriteByte(s[i+1])
			i += 2
		case c == '\\' || c == '\n' || c == '\r':
			return nil, nil, fmt.Errorf("CEF header: %q at %d", c, i)
		case c == '|':
			hdr = append(hdr, b.String())
			b.Reset()
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	isKey := func(s string) bool {
		k, _, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return false
		}
		for _, c := range []byte(k) {
			if !pAlnum(rune(c)) {
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
			return nil, nil, fmt.Errorf("CEF extension key at %s", shortQ(ext))
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
			case c == '\\' && j+1 < len(rest):
				j++
				switch rest[j] {
				case 'n':
					b.WriteByte('\n')
				case 'r':
					b.WriteByte('\r')
				case '\\', '=':
					b.WriteByte(rest[j])
				default:
					b.WriteByte('\\')
					b.WriteByte(rest[j])
				}
			case c == '\\' || c == '=' || c == '\n' || c == '\r':
				return nil, nil, fmt.Errorf("CEF: %q in the value of %s", c, k)
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
	return hdr, out, nil
}

func checkLEEF(pc parityConfig, w wireMsg, l parityLog, frameLen int) (string, bool, error) {
	delim, n := byte('\t'), 5
	if pc.leef2 {
		delim, n = '^', 6
	}
	if bytes.ContainsAny([]byte(w.msg), "\r\n") {
		return "", false, fmt.Errorf("LEEF event holds a line break")
	}
	parts := strings.SplitN(w.msg, "|", n+1)
	if len(parts) != n+1 || parts[0] != map[bool]string{false: "LEEF:1.0", true: "LEEF:2.0"}[pc.leef2] ||
		parts[1] != "Alibaba Cloud" || parts[2] != "SLS" || parts[3] != "1.0" || (pc.leef2 && parts[5] != "^") {
		return "", false, fmt.Errorf("LEEF header %q", parts[:min(n, len(parts))])
	}
	hdrRepl := merge(pCtlSpace, map[rune]string{'|': "_"})
	id := fmtValue(l.fields, "event")
	if id == "" {
		id = "sls-log"
	}
	wantID := pPrefixUTF8(pText(id, hdrRepl), 255)
	compact := parts[4] != wantID && (parts[4] == pPrefixUTF8(pText(id, hdrRepl), 32) || parts[4] == pPrefixUTF8(pText(id, hdrRepl), 8))
	if parts[4] != wantID && !compact {
		return "", false, fmt.Errorf("LEEF EventID %q, want %q", parts[4], wantID)
	}
	var attrs [][2]string
	seen := map[string]bool{}
	for _, a := range strings.Split(parts[n], string(delim)) {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" || seen[k] || strings.ContainsAny(k, " \t") {
			return "", false, fmt.Errorf("LEEF attribute %s", shortQ(a))
		}
		seen[k] = true
		attrs = append(attrs, [2]string{k, v})
	}
	sev := []string{"10", "9", "8", "7", "5", "4", "3", "1"}[pSeverity(fmtValue(l.fields, "level"))]
	head := [][2]string{{"devTime", time.Unix(l.sec, l.nsec).UTC().Format("2006-01-02T15:04:05.000-0700")},
		{"devTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSZ"}, {"sev", sev}}
	if len(attrs) < 3 || fmt.Sprint(attrs[:3]) != fmt.Sprint(head) {
		return "", false, fmt.Errorf("LEEF attributes start %q, want %q", attrs[:min(3, len(attrs))], head)
	}
	repl := map[rune]string{'\n': `\n`, '\r': `\r`, 0: `\0`}
	if pc.bsd() {
		repl = merge(pStrict)
	}
	if delim == '\t' {
		repl['\t'] = `\t`
	} else {
		repl['^'] = `\x5e`
	}
	keys := pAttrKeys(l.fields, "devTime", "devTimeFormat", "sev")
	var want [][2]string
	var sizes []int
	for i, f := range l.fields {
		v := pText(f[1], repl)
		want = append(want, [2]string{keys[i], v})
		sizes = append(sizes, 2+len(keys[i])+len(v))
	}
	cut, err := checkPairsWhole(attrs[3:], want, sizes, frameLen, pc.limit())
	return w.msg, cut || compact, err
}

// TestParityReceiverLimits asserts the receiver behaviours listed in
// docs/messages.md ("Receivers"). Frames the binary never sends (a raw NUL,
// trailing NULs, trailing LFs) go straight to both receivers, octet-counted
// over TCP and over UDP; the rest is shipped through the binary (RFC 5424,
// kv, octet-counting, BOM, nil HOSTNAME constant), one log per behaviour.
func TestParityReceiverLimits(t *testing.T) {
	rs := startParityRsyslog(t)
	ng := startParitySyslogNG(t)
	t.Run("raw", func(t *testing.T) { parityRawLimits(t, rs, ng) })
	t.Run("shipped", func(t *testing.T) { parityShippedLimits(t, rs, ng) })
}

// parityRawLimits sends each probe as the MSG of an RFC 5424 message to
// both receivers and compares the MSG each stored with what the
// behaviour says.
func parityRawLimits(t *testing.T, rs, ng *parityReceiver) {
	probes := []struct {
		name, msg, rsyslog, syslogNG string
	}{
		// A NUL byte for byte: rsyslog writes #000 and drops every control
		// character after it (tab, LF, \x01, CR, ESC); syslog-ng writes the
		// text \x00 and keeps the rest.
		{"nul", "a\x00b\tc\nd\x01e\rf\x1bg|end", "a#000bcdefg|end", `a\x00b` + "\tc\nd\x01e\rf\x1bg|end"},
		// A trailing NUL: both drop it; of two, rsyslog drops one.
		{"trailing-nul", "trailing nul\x00", "trailing nul", "trailing nul"},
		{"trailing-nuls", "trailing nuls\x00\x00", "trailing nuls#000", "trailing nuls"},
		// Trailing LFs: syslog-ng drops every one; rsyslog keeps them
		// (parser.dropTrailingLFOnReception="off").
		{"trailing-lfs", "trailing lfs\n\n\n", "trailing lfs\n\n\n", "trailing lfs"},
		// What sls2siem sends instead of a NUL: kept by both, and so is
		// every control character after it.
		{"nul-as-text", `a\0b` + "\tc\nd\x01e|end", `a\0b` + "\tc\nd\x01e|end", `a\0b` + "\tc\nd\x01e|end"},
	}
	for _, proto := range []string{"tcp", "udp"} {
		framing := map[string]string{"tcp": "octet-counting", "udp": "udp"}[proto]
		host := "raw-" + proto
		rsBefore, ngBefore := rs.Size(t), ng.Size(t)
		for _, r := range []*parityReceiver{rs, ng} {
			for i, p := range probes {
				frame := fmt.Sprintf("<14>1 2026-11-24T00:00:%02d.000000Z %s limits - - - %s", i, host, p.msg)
				c, err := net.Dial(proto, loopback(r.Port("rfc5424", framing)))
				if err != nil {
					t.Fatal(err)
				}
				if proto == "tcp" {
					frame = fmt.Sprintf("%d %s", len(frame), frame)
				}
				if _, err := c.Write([]byte(frame)); err != nil {
					t.Fatal(err)
				}
				c.Close()
			}
		}
		for _, r := range []struct {
			rcv    *parityReceiver
			before int64
		}{{rs, rsBefore}, {ng, ngBefore}} {
			got := map[string]string{}
			for _, m := range r.rcv.ParsedFrom(t, r.before, len(probes), 30*time.Second) {
				if m.Hostname == host && len(m.Timestamp) >= 19 {
					got[m.Timestamp[17:19]] = m.Msg
				}
			}
			for i, p := range probes {
				want := p.rsyslog
				if r.rcv == ng {
					want = p.syslogNG
				}
				if msg, ok := got[fmt.Sprintf("%02d", i)]; !ok || msg != want {
					t.Errorf("%s over %s, %s: stored %q (present %v), want %q", r.rcv.name, framing, p.name, msg, ok, want)
				}
			}
		}
	}
}

// parityShippedLimits ships one log per behaviour through the binary.
func parityShippedLimits(t *testing.T, rs, ng *parityReceiver) {
	pairs := func(kv ...string) []sample.Pair {
		var p []sample.Pair
		for i := 0; i < len(kv); i += 2 {
			p = append(p, sample.Pair{Key: kv[i], Value: kv[i+1]})
		}
		return p
	}
	ls := &sample.Logstore{Project: "sls2siem-parity", Logstore: "limits", Shards: [][]sample.LogGroup{{{Logs: []sample.Log{
		{Time: parityBase, Contents: pairs("host", "limits-host", "v", "a\x00b\t\nc\x01", "seq", "0")},     // NUL, then controls
		{Time: parityBase + 10, Contents: pairs("host", "limits-host", "seq", "1", "v", "ends with LF\n")}, // final LF
		{Time: parityBase + 20, Contents: pairs("seq", "2")},                                               // nil HOSTNAME
		{Time: 4102444800, Contents: pairs("host", "limits-host", "seq", "3")},                             // 2100-01-01
		{Time: parityBase + 40, Contents: pairs("host", "limits-host", "seq", "4", "v", "nul\x00")},        // final NUL
	}}}}}
	c := newParityCloud(t, ls)
	rsBefore, ngBefore := rs.Size(t), ng.Size(t)
	tee := startParityTee(t, false, loopback(rs.Port("rfc5424", "octet-counting")), loopback(ng.Port("rfc5424", "octet-counting")))
	fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{Timeout: 60 * time.Second, Env: []string{
		"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + strconv.Itoa(tee.Port()), "SYSLOG_FRAMING=octet-counting",
		"SYSLOG_HOSTNAME=-", "SYSLOG_HOSTNAME_KEY=host", "SYSLOG_TAG=sls2siem", "SYSLOG_BOM=true",
	}})
	res, err := fn.Invoke(t.Context(), c.storeEvent(t, ls, 0))
	if err != nil || res.Err != nil {
		t.Fatalf("invocation: %v %v", err, res.Err)
	}
	const n = 5
	frames := tee.WaitFrames(t, "octet-counting", n, 30*time.Second)
	rsMsgs, ngMsgs := rs.ParsedFrom(t, rsBefore, n, 30*time.Second), ng.ParsedFrom(t, ngBefore, n, 30*time.Second)
	if len(frames) != n || len(rsMsgs) != n || len(ngMsgs) != n {
		t.Fatalf("%d frames, rsyslog %d, syslog-ng %d messages, want %d", len(frames), len(rsMsgs), len(ngMsgs), n)
	}
	var wire []wireMsg
	for _, f := range frames {
		w, _, err := parseWire(f, parityConfig{syntax: "rfc5424"})
		if err != nil {
			t.Fatalf("go-syslog rejects %s: %v", shortQ(f), err)
		}
		wire = append(wire, w)
	}
	const bom = "\uFEFF"
	for _, i := range []int{0, 1, 2, 4} { // log 3: rsyslog does not parse it
		if !strings.HasPrefix(wire[i].msg, bom) || !strings.HasPrefix(rsMsgs[i].Msg, bom) || strings.HasPrefix(ngMsgs[i].Msg, bom) {
			t.Errorf("log %d: BOM: go-syslog %q rsyslog %q syslog-ng %q (syslog-ng removes it)", i, wire[i].msg, rsMsgs[i].Msg, ngMsgs[i].Msg)
		}
	}
	// A NUL is sent as the text \0 under octet-counting too: both
	// receivers keep it, and the tab, LF and \x01 after it.
	for i, got := range []string{wire[0].msg, rsMsgs[0].Msg, strings.TrimPrefix(ngMsgs[0].Msg, bom)} {
		if !strings.Contains(got, `||v=a\0b`+"\t\nc\x01||seq=0") {
			t.Errorf("NUL: %s stored %q", []string{"go-syslog", "rsyslog", "syslog-ng"}[i], got)
		}
	}
	// A final NUL too: nothing for the receivers to drop.
	for i, got := range []string{wire[4].msg, rsMsgs[4].Msg, ngMsgs[4].Msg} {
		if !strings.HasSuffix(got, `||v=nul\0`) {
			t.Errorf("final NUL: %s stored %q", []string{"go-syslog", "rsyslog", "syslog-ng"}[i], got)
		}
	}
	// A final LF: syslog-ng drops it (rsyslog keeps it only with
	// parser.dropTrailingLFOnReception="off").
	if !strings.HasSuffix(wire[1].msg, "LF\n") || !strings.HasSuffix(rsMsgs[1].Msg, "LF\n") || !strings.HasSuffix(ngMsgs[1].Msg, "LF") {
		t.Errorf("final LF: go-syslog %q rsyslog %q syslog-ng %q", wire[1].msg, rsMsgs[1].Msg, ngMsgs[1].Msg)
	}
	// The nil HOSTNAME: syslog-ng puts the sender's address in its place.
	if wire[2].host != "" || rsMsgs[2].Hostname != "-" || ngMsgs[2].Hostname != "127.0.0.1" {
		t.Errorf("nil HOSTNAME: go-syslog %q rsyslog %q syslog-ng %q", wire[2].host, rsMsgs[2].Hostname, ngMsgs[2].Hostname)
	}
	// Year 2100: rsyslog's RFC 5424 parser refuses it and falls back.
	// The header ends up in rsyslog's MSG.
	if wire[3].host != "limits-host" || ngMsgs[3].Hostname != "limits-host" ||
		rsMsgs[3].Hostname == "limits-host" || !strings.Contains(rsMsgs[3].Msg, "limits-host") {
		t.Errorf("year 2100: go-syslog host %q, syslog-ng %q, rsyslog %+v", wire[3].host, ngMsgs[3].Hostname, rsMsgs[3])
	}
}
