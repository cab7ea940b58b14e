package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"sls2siem/internal/format"
	"sls2siem/internal/secret"
)

// parser reads variables and collects one error per bad variable, and
// the warnings of settings that are valid but weaken security.
type parser struct {
	getenv func(string) string
	errs   []error
	warns  []string
}

// q shows an environment value in an error: quoted and cut, or described
// when it looks like key material (never echoed).
func q(v string) string { return secret.Quote(v) }

func (p *parser) warn(name, format string, args ...any) {
	p.warns = append(p.warns, name+" "+fmt.Sprintf(format, args...))
}

func (p *parser) fail(name, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s %s", name, fmt.Sprintf(format, args...)))
}

func (p *parser) str(name string) string {
	return strings.TrimSpace(p.getenv(name))
}

func (p *parser) oneOf(name, def string, accepted ...string) string {
	raw := p.str(name)
	v := strings.ToLower(raw)
	if v == "" {
		return def
	}
	for _, a := range accepted {
		if v == a {
			return v
		}
	}
	p.fail(name, "is %s: accepted values are %s", q(raw), strings.Join(accepted, ", "))
	return def
}

func (p *parser) intRange(name string, def, lo, hi int) int {
	v := p.str(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.fail(name, "is %s: want a whole number from %d to %d", q(v), lo, hi)
		return def
	}
	return n
}

// duration reads a duration from 0 to an hour.
func (p *parser) duration(name string, def time.Duration) time.Duration {
	return p.durationRange(name, def, 0, time.Hour)
}

// timeout reads a duration that must be positive: a zero timeout would
// mean "wait forever" or "fail at once", neither of which is wanted.
func (p *parser) timeout(name string, def, hi time.Duration) time.Duration {
	return p.durationRange(name, def, time.Millisecond, hi)
}

func (p *parser) durationRange(name string, def, lo, hi time.Duration) time.Duration {
	v := p.str(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		p.fail(name, "is %s: want a duration from %s to %s, such as 500ms, 5s or 2m", q(v), lo, hi)
		return def
	}
	return d
}

// code parses a facility or severity given as a number or a name.
func (p *parser) code(name string, def int, names []string) int {
	raw := p.str(name)
	v := strings.ToLower(raw)
	if v == "" {
		return def
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 && n < len(names) {
		return n
	}
	for i, n := range names {
		if v == n {
			return i
		}
	}
	p.fail(name, "is %s: want 0 to %d or one of %s", q(raw), len(names)-1, strings.Join(names, ", "))
	return def
}

// headerField reads an RFC 5424 header field: printable US-ASCII, no
// spaces, at most max characters.
func (p *parser) headerField(name, def string, max int) string {
	v := p.str(name)
	if v == "" {
		return format.SanitizeHeader(def, max)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 33 || v[i] > 126 {
			p.fail(name, "is %s: want printable US-ASCII without spaces (RFC 5424)", q(v))
			return "-"
		}
	}
	if len(v) > max {
		p.fail(name, "is %d characters long: RFC 5424 allows at most %d", len(v), max)
		return "-"
	}
	return v
}

func joinHostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// host reads the receiver's host: a host name or an IP address, without a
// port (that is SYSLOG_PORT's) or brackets.
func (p *parser) host(name, portVar string) string {
	v := p.str(name)
	if v == "" {
		p.fail(name, "is not set: give the host name or IP address of the syslog receiver")
		return ""
	}
	if ip := net.ParseIP(strings.Trim(v, "[]")); ip != nil {
		if strings.HasPrefix(v, "[") {
			p.fail(name, "is %s: give the IPv6 address without brackets", q(v))
		}
		return ip.String()
	}
	if h, port, err := net.SplitHostPort(v); err == nil {
		p.fail(name, "is %s, which has a port: set %s=%s and %s=%s", q(v), name, h, portVar, port)
		return ""
	}
	if !validHost(v) {
		p.fail(name, "is %s: want a host name (letters, digits, '-' and '.') or an IP address", q(v))
		return ""
	}
	return v
}

func validHost(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

const (
	facilityUser = 1
	severityInfo = 6
)

var facilities = []string{
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
}

var severities = []string{
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
}
