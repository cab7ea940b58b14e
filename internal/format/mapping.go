package format

import "strings"

// Facility names, indexed by code (RFC 5424 §6.2.1, with the names of
// SYSLOG_FACILITY).
var facilityNames = [24]string{
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
}

// ParseSeverity reads a severity given as a decimal number 0–7 (leading
// zeros allowed: 07), an RFC 5424 name or a common level word (fatal,
// critical, error, warn, warning, notice, info, debug, trace, …),
// case-insensitively, spaces and tabs around it ignored. ok is false for
// anything else.
func ParseSeverity(v string) (sev int, ok bool) {
	if len(v) == 1 && v[0] >= '0' && v[0] <= '7' {
		return int(v[0] - '0'), true
	}
	var buf [16]byte
	w, ok := lowerWord(&buf, v)
	if !ok {
		return 0, false
	}
	if n, isNum := decimal(w); isNum {
		return n, n <= 7
	}
	switch w {
	case "emerg", "emergency", "panic":
		return 0, true
	case "alert":
		return 1, true
	case "crit", "critical", "fatal":
		return 2, true
	case "err", "error", "severe":
		return 3, true
	case "warn", "warning":
		return 4, true
	case "notice":
		return 5, true
	case "info", "informational", "information":
		return 6, true
	case "debug", "trace", "verbose", "fine", "finer", "finest":
		return 7, true
	}
	return 0, false
}

// ParseFacility reads a facility given as a decimal number 0–23 (leading
// zeros allowed) or a name (kern, user, …, local0–local7; security is 13,
// as in syslog-ng), case-insensitively, spaces and tabs around it ignored.
// ok is false for anything else.
func ParseFacility(v string) (fac int, ok bool) {
	var buf [16]byte
	w, ok := lowerWord(&buf, v)
	if !ok {
		return 0, false
	}
	if n, isNum := decimal(w); isNum {
		return n, n <= 23
	}
	for i, n := range facilityNames {
		if w == n {
			return i, true
		}
	}
	return 0, false
}

// decimal reads w when it is all ASCII digits (at most 16 of them, as
// lowerWord leaves it: no overflow).
func decimal(w string) (n int, ok bool) {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(w) > 0
}

// lowerWord lower-cases a short trimmed ASCII word into buf. The result
// aliases buf.
func lowerWord(buf *[16]byte, v string) (string, bool) {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	if len(v) == 0 || len(v) > len(buf) {
		return "", false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return unsafeString(buf[:len(v)]), true
}

// keyFilter chooses the body's fields: a key is kept when it matches the
// include list (if any) and not the exclude list. A pattern ending in *
// matches every key with that prefix.
type keyFilter struct {
	include, exclude patterns
}

type patterns struct {
	exact    []string
	prefixes []string
}

func newPatterns(list []string) patterns {
	var p patterns
	for _, s := range list {
		if strings.HasSuffix(s, "*") {
			p.prefixes = append(p.prefixes, strings.TrimSuffix(s, "*"))
		} else {
			p.exact = append(p.exact, s)
		}
	}
	return p
}

func (p *patterns) empty() bool { return len(p.exact) == 0 && len(p.prefixes) == 0 }

func (p *patterns) match(k string) bool {
	for _, e := range p.exact {
		if k == e {
			return true
		}
	}
	for _, pre := range p.prefixes {
		if strings.HasPrefix(k, pre) {
			return true
		}
	}
	return false
}

func (f *keyFilter) active() bool { return !f.include.empty() || !f.exclude.empty() }

func (f *keyFilter) keep(k string) bool {
	if !f.include.empty() && !f.include.match(k) {
		return false
	}
	return !f.exclude.match(k)
}
