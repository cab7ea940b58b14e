package config

import (
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // SYSLOG_TIMEZONE works on runtimes without a zoneinfo database

	"sls2siem/internal/deadletter"
	"sls2siem/internal/format"
	"sls2siem/internal/secret"
	"sls2siem/internal/trust"
)

// A parser reads a variable's value (trimmed, not empty). Its error says
// what is accepted, to follow "NAME is VALUE: ".
type parser func(v string) (any, error)

func text(v string) (any, error) { return v, nil }

func oneOf(accepted ...string) parser {
	return func(v string) (any, error) {
		l := strings.ToLower(v)
		for _, a := range accepted {
			if l == a {
				return l, nil
			}
		}
		return nil, fmt.Errorf("accepted values are %s", strings.Join(accepted, ", "))
	}
}

func boolean(v string) (any, error) {
	b, err := oneOf("true", "false")(v)
	if err != nil {
		return nil, err
	}
	return b == "true", nil
}

func intIn(lo, hi int) parser {
	return func(v string) (any, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return nil, fmt.Errorf("want a whole number from %d to %d", lo, hi)
		}
		return n, nil
	}
}

func durationIn(lo, hi time.Duration) parser {
	return func(v string) (any, error) {
		d, err := time.ParseDuration(v)
		if v == "0" {
			d, err = 0, nil
		}
		if err != nil || d < lo || d > hi {
			return nil, fmt.Errorf("want a duration from %s to %s, such as 500ms, 5s or 2m", lo, hi)
		}
		return d, nil
	}
}

// seconds reads whole seconds, from 1s to an hour.
func seconds(v string) (any, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second || d > time.Hour || d%time.Second != 0 {
		return nil, errors.New("want whole seconds from 1s to 1h, such as 20s")
	}
	return d, nil
}

// list reads a comma-separated list of field names.
func list(v string) (any, error) {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// hostName reads a host name (RFC 1123) or an IP address, without a port
// or brackets.
func hostName(v string) (any, error) {
	if ip := net.ParseIP(strings.Trim(v, "[]")); ip != nil {
		if strings.HasPrefix(v, "[") {
			return nil, errors.New("give the IPv6 address without brackets")
		}
		return ip.String(), nil
	}
	if h, port, err := net.SplitHostPort(v); err == nil {
		return nil, &portError{host: h, port: port}
	}
	if !trust.ValidHostName(v) {
		return nil, errors.New("want a host name (letters, digits, '-' and '.') or an IP address")
	}
	return v, nil
}

// hostList reads SYSLOG_HOST: one host (hostName) or several,
// comma-separated, each a host name or an IP address without a port.
func hostList(v string) (any, error) {
	entries := strings.Split(v, ",")
	if len(entries) == 1 {
		h, err := hostName(v)
		if err != nil {
			return nil, err
		}
		return []string{h.(string)}, nil
	}
	hosts := make([]string, 0, len(entries))
	for i, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			return nil, fmt.Errorf("entry %d is empty: want host names or IP addresses separated by commas", i+1)
		}
		h, err := hostName(e)
		var pe *portError
		switch {
		case errors.As(err, &pe):
			return nil, &listPortError{entry: i + 1, host: pe.host}
		case err != nil:
			return nil, fmt.Errorf("entry %d (%s): %w", i+1, secret.Quote(e), err)
		}
		hosts = append(hosts, h.(string))
	}
	return hosts, nil
}

// listPortError is an entry of a list of hosts that carries a port.
type listPortError struct {
	entry int
	host  string
}

func (e *listPortError) Error() string { return fmt.Sprintf("entry %d has a port", e.entry) }

func (e *listPortError) forVar(name string) string {
	return fmt.Sprintf("entry %d has a port: give the hosts alone in %s and the ports in %s (one for all hosts, or one per host in the same order)",
		e.entry, VarSyslogHost, VarSyslogPort)
}

// portList reads SYSLOG_PORT: one port, or one per host, comma-separated.
func portList(v string) (any, error) {
	entries := strings.Split(v, ",")
	ports := make([]int, 0, len(entries))
	for i, e := range entries {
		n, err := intIn(1, 65535)(strings.TrimSpace(e))
		switch {
		case err != nil && len(entries) == 1:
			return nil, err
		case err != nil:
			return nil, fmt.Errorf("entry %d (%s): want whole numbers from 1 to 65535 separated by commas, one for all hosts or one per host", i+1, secret.Quote(e))
		}
		ports = append(ports, n.(int))
	}
	return ports, nil
}

// portError is a host name that carries a port.
type portError struct{ host, port string }

func (e *portError) Error() string { return "it has a port" }

func facility(v string) (any, error) {
	if n, ok := format.ParseFacility(v); ok {
		return n, nil
	}
	return nil, fmt.Errorf("want 0 to 23 or a name: %s", strings.Join(format.FacilityNames(), ", "))
}

func severity(v string) (any, error) {
	if n, ok := format.ParseSeverity(v); ok {
		return n, nil
	}
	return nil, fmt.Errorf("want 0 to 7, a name (%s) or a level word (fatal, error, warn, trace, …)", strings.Join(format.SeverityNames, ", "))
}

func headerField(max int) parser {
	return func(v string) (any, error) { return v, format.CheckHeaderField(v, max) }
}

func constant(v string) (any, error) { return v, format.CheckConstant(v) }

func sdID(v string) (any, error) { return v, format.CheckSDID(v) }

func leefDelimiter(v string) (any, error) {
	d, err := format.ParseLEEFDelimiter(v)
	return d, err
}

// timezone reads an IANA zone name (Asia/Shanghai), UTC, or a fixed offset
// (+08:00, -0530).
func timezone(v string) (any, error) {
	if strings.EqualFold(v, "UTC") || v == "Z" {
		return time.UTC, nil
	}
	if loc, ok := fixedZone(v); ok {
		return loc, nil
	}
	loc, err := time.LoadLocation(v)
	if err != nil || v == "Local" {
		return nil, errors.New("want an IANA time zone such as Asia/Shanghai, UTC, or an offset such as +08:00")
	}
	return loc, nil
}

// fixedZone parses ±hh:mm or ±hhmm.
func fixedZone(v string) (*time.Location, bool) {
	if len(v) < 5 || (v[0] != '+' && v[0] != '-') {
		return nil, false
	}
	digits := strings.Replace(v[1:], ":", "", 1)
	if len(digits) != 4 {
		return nil, false
	}
	h, err1 := strconv.Atoi(digits[:2])
	m, err2 := strconv.Atoi(digits[2:])
	if err1 != nil || err2 != nil || h > 14 || m > 59 {
		return nil, false
	}
	off := h*3600 + m*60
	if v[0] == '-' {
		off = -off
	}
	return time.FixedZone(v, off), true
}

func projectName(v string) (any, error) { return v, nameError(trust.Project(v)) }

func logstoreName(v string) (any, error) { return v, nameError(trust.Logstore(v)) }

// nameError keeps what a trust name check accepts, not its "is VALUE".
func nameError(err error) error {
	if err == nil {
		return nil
	}
	_, want, _ := strings.Cut(err.Error(), ": ")
	return errors.New(want)
}

// deadLetterKey reads the key of the dead-letter records' MACs.
func deadLetterKey(v string) (any, error) {
	if len(v) < deadletter.MinKeyLen {
		return nil, fmt.Errorf("want at least %d bytes of key material, such as the output of openssl rand -base64 32", deadletter.MinKeyLen)
	}
	return v, nil
}

// logstoreList reads a comma-separated list of logstore names, each once.
func logstoreList(v string) (any, error) {
	var out []string
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" || slices.Contains(out, s) {
			continue
		}
		if err := trust.Logstore(s); err != nil {
			return nil, fmt.Errorf("%s %w", secret.Quote(s), nameError(err))
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, errors.New("names no logstore: want a comma-separated list of logstore names")
	}
	return out, nil
}

func allowedEndpoints(v string) (any, error) {
	if _, err := trust.ParseEndpoints(v, true); err != nil {
		return nil, err
	}
	return v, nil
}

// CursorStart is where a shard without a checkpoint starts:
// CursorBegin, CursorEnd, or a receive time.
type CursorStart struct {
	Position string // CursorBegin, CursorEnd, or "" with Time
	Time     int64  // unix seconds
}

// Cursor positions of a consumer group with no checkpoint yet.
const (
	CursorBegin = "begin"
	CursorEnd   = "end"
)

func cursorPosition(v string) (any, error) {
	switch l := strings.ToLower(v); l {
	case CursorBegin, CursorEnd:
		return CursorStart{Position: l}, nil
	}
	t, err := strconv.ParseInt(v, 10, 64)
	if err != nil || t <= 0 {
		return nil, errors.New("accepted values are begin, end or a unix time in seconds")
	}
	return CursorStart{Time: t}, nil
}

// listenAddr reads a TCP listen address: host:port, the host empty (every
// interface), an IP address or a host name, the port 1-65535.
func listenAddr(v string) (any, error) {
	host, port, err := net.SplitHostPort(v)
	switch {
	case err != nil:
		return nil, errors.New("not host:port; want host:port, such as 127.0.0.1:9464")
	case !validPort(port):
		return nil, errors.New("the port must be a number from 1 to 65535; want host:port, such as 127.0.0.1:9464")
	case host != "" && net.ParseIP(host) == nil && !trust.ValidHostName(host):
		return nil, errors.New("the host must be empty, an IP address or a host name; want host:port, such as 127.0.0.1:9464")
	}
	return v, nil
}

// allowedHostList reads SHIP_METRICS_ALLOWED_HOSTS: a comma-separated
// list of host names or IP addresses, without ports.
func allowedHostList(v string) (any, error) {
	var out []string
	for _, h := range strings.Split(v, ",") {
		h = strings.ToLower(strings.Trim(strings.TrimSpace(h), "[]"))
		if h == "" {
			continue
		}
		if net.ParseIP(h) == nil && !trust.ValidHostName(h) {
			return nil, fmt.Errorf("%s is not a host name or IP address (without a port): want names such as localhost,127.0.0.1,metrics.example.com", secret.Quote(h))
		}
		out = append(out, h)
	}
	if len(out) == 0 {
		return nil, errors.New("names no host: want names such as localhost,127.0.0.1")
	}
	return out, nil
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// pemText reads PEM text (its contents are checked when it is used); a
// value that looks like a file path gets a hint to the file variable.
func pemText(fileVar string) parser {
	return func(v string) (any, error) {
		if block, _ := pem.Decode([]byte(v)); block == nil {
			hint := ""
			if !secret.LooksLikePEM(v) && !strings.ContainsAny(v, "\n") && len(v) < 4096 {
				hint = fmt.Sprintf("; it looks like a file path: did you mean %s?", fileVar)
			}
			return nil, errors.New("want PEM text (-----BEGIN …)" + hint)
		}
		return []byte(v), nil
	}
}

// filePath reads the path of a PEM file (read when it is used); PEM text
// given by mistake is refused with a hint to the inline variable.
func filePath(inlineVar string) parser {
	return func(v string) (any, error) {
		if secret.LooksLikePEM(v) || strings.ContainsRune(v, '\n') {
			return nil, fmt.Errorf("want a file path, not PEM text: did you mean %s?", inlineVar)
		}
		return v, nil
	}
}

// forVar says the problem with the variable's name.
func (e *portError) forVar(name string) string {
	if name == VarSyslogHost {
		return fmt.Sprintf("it has a port: set %s=%s and %s=%s", name, e.host, VarSyslogPort, e.port)
	}
	return fmt.Sprintf("it has a port: give the host %s alone", e.host)
}
