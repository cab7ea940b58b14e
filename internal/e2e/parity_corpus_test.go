package e2e

import (
	"strconv"
	"strings"

	"sls2siem/internal/localcloud/sample"
)

// The adversarial corpus of the parity tests: control characters (NUL and
// C1 included, in every configuration: NUL is never sent raw), invalid
// UTF-8, 100 KB–1 MB values, 1 000+ fields, colliding keys, hostile values
// for every mapped header field, structured-data special characters,
// literal backslash sequences, an out-of-range __time_ns_part__.
//
// Log i has the time parityBase + 10·i (the key that matches a message
// across parsers) and ends with the field seq=i, so that no MSG ends with a
// line break (syslog-ng drops a final LF: see the receiver limits). Its
// header fields come from host, app, pid, msgid; the CEF/LEEF event ID from
// event; the severity from level.

const parityBase = 1795478400 // 2026-11-24T00:00:00Z

// parityHostile are header values that rsyslog or syslog-ng mis-parsed.
var parityHostile = []string{
	`a"b`, "a:b", "web[1]", "::1", "-", "", "${jndi:ldap://x/a}", "[1]", "fe80::1", "h:x", "host.", "web 1",
	"主机", "a/b", "x\xffy", strings.Repeat("h", 300), "h-" + strings.Repeat("9", 70), "1.2.3.4:5", "_", "...",
	"tab\there", "line\nbreak", `\`, "a]b", "%", "=", "@x", "2001:db8::1", "Fe80::A:1.2.3.4", "web-01.example.com",
	"a\x01b", "\x7f", "ok-host", "-host-", "😀", strings.Repeat("p", 130),
}

var parityLevels = []string{"INFO", "error", "warn", "DEBUG", "fatal", "loud", "", " notice ", "7", "crit", " 2\t", "07", "008", "+3", "0x3"}

// sameKeyNames returns n distinct names that all clean up to the CEF key k.
func sameKeyNames(n int) []string {
	const punct = ".-_:/@#%+,;~!?*"
	var out []string
	for i := range n {
		b := []byte{'k'}
		for j := i; ; j = j/len(punct) - 1 {
			b = append(b, punct[j%len(punct)])
			if j < len(punct) {
				break
			}
		}
		out = append(out, string(b))
	}
	return out
}

// parityCorpus returns the corpus as a logstore of one shard.
func parityCorpus(name string) *sample.Logstore {
	const z = "\x00"
	ctl := "c\x01\x02\x07\x08\t\x0b\x0c\x0e\x1b[31m\x1f\x7f\u0080\u0085\u009b1m\u009f\u00a0|\r|\n|\r\n|" + z + "\t\n\x01end"
	var logs [][]sample.Pair
	add := func(kv ...string) {
		var p []sample.Pair
		for i := 0; i+1 < len(kv); i += 2 {
			p = append(p, sample.Pair{Key: kv[i], Value: kv[i+1]})
		}
		logs = append(logs, p)
	}
	// Hostile header values, each in every mapped field in turn.
	n := len(parityHostile)
	for j, v := range parityHostile {
		add("host", v, "app", parityHostile[(j+1)%n], "pid", parityHostile[(j+2)%n], "msgid", parityHostile[(j+3)%n],
			"event", v, "level", parityLevels[j%len(parityLevels)], "user", "alice", "sd1", v)
	}
	// Control characters, in values and keys; line breaks of every kind.
	add("msg", ctl, "ctl\x1bkey", "v", "crlf", "a\r\nb", "cr", "a\rb", "lf", "\n", "level", "err", "sd1", ctl, "sd2", "x\ny\rz")
	add("nul", "a"+z+"b"+z, "host", "n"+z+"ul", "sd1", "v"+z, "after", "\t\x01\n|"+z, "event", "e"+z+"\u009b")
	add("c1\u009bkey", "\u009b", "event", "\u0085ev\u009b", "sd1", "\u009b", "level", "\u009b", "é", "ea", "éa", "e")
	// Invalid UTF-8 in values and keys; names that collide after repair.
	add("k\xff", "a\xffb", "k\xfe", "\xe4\xb8", "k\uFFFD", "\xc0\xaf", "bad", "\xed\xa0\x80\xf4\x90\x80\x80", "sd1", "\xff", "event", "e\xfe")
	// Huge values; truncation around escapes.
	add("big100k", strings.Repeat("0123456789\"]\\\n=|", 100<<10/16), "after", "x", "sd1", strings.Repeat("\"]\\", 400))
	add("big1m", "aaaa"+strings.Repeat("\n", 300)+strings.Repeat("x", 1<<20), "after", "y")
	add("lfs", "aaaa"+strings.Repeat("\n", 300), "ctls", strings.Repeat("\x01", 300), "sd2", strings.Repeat("\n", 300))
	add("v", strings.Repeat("x", 1000), "w", "after", "event", strings.Repeat("e", 2000))
	// Many fields; many repeated keys.
	var many []string
	for i := range 1200 {
		many = append(many, "f"+strconv.Itoa(i), "v"+strconv.Itoa(i))
	}
	add(many...)
	var rep []string
	for i := range 1500 {
		rep = append(rep, "r"+strconv.Itoa(i%750), strconv.Itoa(i))
	}
	add(rep...)
	// Colliding and reserved keys, keys of the flattening rules.
	add("a.b", "1", "a_b", "2", "a-b", "3", "aB", "4", "rt", "5", "devTime", "6", "sev", "7", "devTimeFormat", "8",
		"A B", "9", "中文键", "值", "", "empty key", "__time__", "1", "__topic__", "override", "__tag__:__hostname__", "tag override",
		"=", "eq", "|", "pipe", "||", "pipes")
	var same []string
	for _, k := range sameKeyNames(300) {
		same = append(same, k, "s")
	}
	add(same...)
	// Structured-data special characters; a trailing backslash.
	add("sd1", `"]\`, "sd2", `C:\Windows\`, "a.b", `\"quoted\"`, "a_b", "]]]", strings.Repeat("L", 40)+"1", "one",
		strings.Repeat("L", 40)+"2", "two")
	// Literal backslash sequences: kept, not escapes.
	add("path", `C:\Windows\n\x01`, "lit", `\n\r\0\t`, "sd1", `\n`)
	// Unicode.
	add("u", "😀 中文 e\u0301 \u202eRTL \u200d \ufeffbom \u2028", "ключ", "значение")
	// Empty values and fields only of the group.
	add("e1", "", "e2", "", "host", "", "level", "")
	add()

	groups := []sample.LogGroup{
		{Topic: "audit", Source: "10.0.0.1", Tags: []sample.Pair{{Key: "__hostname__", Value: "web-1"}, {Key: "__path__", Value: "/var/log/a"}}},
		{Topic: "hostile|topic\n", Source: "fe80::1", Tags: []sample.Pair{{Key: "__hostname__", Value: "web 1"},
			{Key: "__hostname__", Value: "dup"}, {Key: "bad\xff", Value: "v\x01"}}},
		{},
	}
	for i, p := range logs {
		l := sample.Log{Time: uint32(parityBase + 10*i), TimeNs: uint32(i * 7919 % 1e9), Contents: append(p, sample.Pair{Key: "seq", Value: strconv.Itoa(i)})}
		if i == 3 {
			l.TimeNs = 3_500_000_000 // out of range: carries 3 s into the time
		}
		g := &groups[i/8%len(groups)]
		g.Logs = append(g.Logs, l)
	}
	var shard []sample.LogGroup
	for _, g := range groups {
		if len(g.Logs) > 0 {
			shard = append(shard, g)
		}
	}
	return &sample.Logstore{Project: "sls2siem-parity", Logstore: name, Shards: [][]sample.LogGroup{shard}}
}
