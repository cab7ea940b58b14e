package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// parser reads variables and collects one error per bad variable.
type parser struct {
	getenv func(string) string
	errs   []error
}

func (p *parser) fail(name, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s %s", name, fmt.Sprintf(format, args...)))
}

func (p *parser) str(name string) string {
	return strings.TrimSpace(p.getenv(name))
}

func (p *parser) oneOf(name, def string, accepted ...string) string {
	v := strings.ToLower(p.str(name))
	if v == "" {
		return def
	}
	for _, a := range accepted {
		if v == a {
			return v
		}
	}
	p.fail(name, "is %q: accepted values are %s", v, strings.Join(accepted, ", "))
	return def
}

func (p *parser) intRange(name string, def, lo, hi int) int {
	v := p.str(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.fail(name, "is %q: want a whole number from %d to %d", v, lo, hi)
		return def
	}
	return n
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	v := p.str(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		p.fail(name, "is %q: want a duration such as 500ms, 5s or 2m", v)
		return def
	}
	return d
}

// code parses a facility or severity given as a number or a name.
func (p *parser) code(name string, def int, names []string) int {
	v := strings.ToLower(p.str(name))
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
	p.fail(name, "is %q: want 0 to %d or one of %s", v, len(names)-1, strings.Join(names, ", "))
	return def
}

// headerField reads an RFC 5424 header field: printable US-ASCII, no
// spaces, at most max characters.
func (p *parser) headerField(name, def string, max int) string {
	v := p.str(name)
	if v == "" {
		return sanitizeHeader(def, max)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 33 || v[i] > 126 {
			p.fail(name, "is %q: want printable US-ASCII without spaces (RFC 5424)", v)
			return "-"
		}
	}
	if len(v) > max {
		p.fail(name, "is %d characters long: RFC 5424 allows at most %d", len(v), max)
		return "-"
	}
	return v
}

// sanitizeHeader makes a default value (such as the machine's host name)
// fit an RFC 5424 header field.
func sanitizeHeader(v string, max int) string {
	b := []byte(v)
	for i, c := range b {
		if c < 33 || c > 126 {
			b[i] = '_'
		}
	}
	if len(b) > max {
		b = b[:max]
	}
	if len(b) == 0 {
		return "-"
	}
	return string(b)
}

func joinHostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
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
