package trust

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"sls2siem/internal/secret"
)

// DefaultAllowed is the allow-list when SLS_ALLOWED_ENDPOINTS is not set:
// Alibaba Cloud's public, intranet and accelerated SLS endpoints.
const DefaultAllowed = "*.log.aliyuncs.com,log-global.aliyuncs.com"

// Endpoints is the allow-list of SLS endpoint hosts and ports and the
// scheme rule. A pattern is a host name, an IP address, localhost, or "*."
// followed by a domain, which matches any host below that domain (not the
// domain itself, and never an IP address), optionally followed by ":port".
// A pattern without a port admits only the scheme's own port (80 for
// http, 443 for https); a pattern with a port admits that port only. So
// "127.0.0.1:18080" admits the local emulator and nothing else listening
// on loopback.
type Endpoints struct {
	patterns []pattern
	https    bool
}

// pattern is one entry of the allow-list: a host pattern and its port
// ("" for the scheme's own).
type pattern struct {
	host, port string
}

func (p pattern) String() string {
	switch {
	case p.port == "":
		return p.host
	case strings.Contains(p.host, ":"):
		return "[" + p.host + "]:" + p.port
	}
	return p.host + ":" + p.port
}

// ParseEndpoints reads a comma-separated allow-list. With https set, an
// http:// or scheme-less endpoint is upgraded to https://.
func ParseEndpoints(list string, https bool) (Endpoints, error) {
	e := Endpoints{https: https}
	for _, p := range strings.Split(list, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		pt, err := parsePattern(p)
		if err != nil {
			return Endpoints{}, fmt.Errorf("pattern %s: %w", secret.Quote(p), err)
		}
		e.patterns = append(e.patterns, pt)
	}
	if len(e.patterns) == 0 {
		return Endpoints{}, errors.New("lists no host: want host patterns such as " + DefaultAllowed)
	}
	return e, nil
}

// parsePattern reads one pattern: a host pattern, optionally followed by
// ":port" (an IPv6 address with a port in brackets).
func parsePattern(p string) (pattern, error) {
	if strings.Contains(p, "://") || strings.Contains(p, "/") {
		return pattern{}, errors.New("is a URL: want a host pattern without scheme or path, such as *.log.aliyuncs.com or 127.0.0.1:18080")
	}
	host, port := p, ""
	if h, pt, err := net.SplitHostPort(p); err == nil {
		host, port = h, pt
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port != strconv.Itoa(n) {
			return pattern{}, errors.New("port is not a number from 1 to 65535")
		}
	} else if strings.HasPrefix(p, "[") && strings.HasSuffix(p, "]") {
		host = strings.Trim(p, "[]")
	} else if strings.Count(p, ":") == 1 {
		return pattern{}, errors.New("port is not a number from 1 to 65535")
	}
	if err := checkHostPattern(host); err != nil {
		return pattern{}, err
	}
	return pattern{host: host, port: port}, nil
}

func checkHostPattern(p string) error {
	host := strings.TrimPrefix(p, "*.")
	switch {
	case net.ParseIP(host) != nil:
		if host != p {
			return errors.New("puts a wildcard before an IP address: name the address itself")
		}
		return nil
	case strings.Contains(host, ":"):
		return errors.New("is not a host name or IP address (an IPv6 address with a port goes in brackets: [::1]:18080)")
	case strings.Contains(host, "*"):
		return errors.New("has a wildcard that is not a leading \"*.\"")
	case !ValidHostName(host):
		return errors.New("is not a host name")
	case host != p && !strings.Contains(host, "."):
		return errors.New("wildcards a top-level domain: want at least *.example.com")
	}
	return nil
}

// Patterns returns the allow-list.
func (e Endpoints) Patterns() []string {
	out := make([]string, len(e.patterns))
	for i, p := range e.patterns {
		out[i] = p.String()
	}
	return out
}

func (e Endpoints) list() string { return strings.Join(e.Patterns(), ",") }

// HTTPS reports whether endpoints are upgraded to https.
func (e Endpoints) HTTPS() bool { return e.https }

// Endpoint is an admitted SLS endpoint.
type Endpoint struct {
	URL  string // scheme://host[:port], what the SDK is given
	Host string // lower case, without port or brackets
}

// Admit parses an untrusted endpoint (host[:port], optionally behind
// http:// or https://) and checks its host and port against the
// allow-list (the port the request would go to: the endpoint's, or its
// scheme's once upgraded to https). The error says what is wrong without
// quoting more than 64 bytes of it.
func (e Endpoints) Admit(raw string) (Endpoint, error) {
	u, err := parseEndpoint(raw)
	if err != nil {
		return Endpoint{}, fmt.Errorf("is %s: %w", secret.Quote(raw), err)
	}
	host := strings.ToLower(u.Hostname())
	scheme := u.Scheme
	if e.https {
		scheme = "https"
	}
	if !e.allowsHost(host) {
		return Endpoint{}, fmt.Errorf("is %s: host %s is not allowed by SLS_ALLOWED_ENDPOINTS (%s)",
			secret.Quote(raw), host, e.list())
	}
	if !e.allows(host, scheme, u.Port()) {
		return Endpoint{}, fmt.Errorf("is %s: %s", secret.Quote(raw), e.portRefusal(host, scheme, u.Port()))
	}
	hostport := host
	if net.ParseIP(host) != nil && strings.Contains(host, ":") {
		hostport = "[" + host + "]"
	}
	if p := u.Port(); p != "" {
		hostport = net.JoinHostPort(host, p)
	}
	return Endpoint{URL: scheme + "://" + hostport, Host: host}, nil
}

// defaultPort is the port of a scheme.
func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// allows reports whether a request to host over scheme, to port ("" for
// the scheme's own), is allowed.
func (e Endpoints) allows(host, scheme, port string) bool {
	if port == "" {
		port = defaultPort(scheme)
	}
	for _, p := range e.patterns {
		if p.matchesHost(host) && (p.port == port || p.port == "" && port == defaultPort(scheme)) {
			return true
		}
	}
	return false
}

// allowsHost reports whether some pattern names host, whatever the port.
func (e Endpoints) allowsHost(host string) bool {
	for _, p := range e.patterns {
		if p.matchesHost(host) {
			return true
		}
	}
	return false
}

// portRefusal says why host is allowed but not on that port.
func (e Endpoints) portRefusal(host, scheme, port string) string {
	implied := ""
	if port == "" {
		port, implied = defaultPort(scheme), " ("+scheme+"'s own)"
	}
	return fmt.Sprintf("host %s is allowed by SLS_ALLOWED_ENDPOINTS (%s), but not port %s%s over %s: a pattern without a port admits only 80 for http and 443 for https, one with a port that port only",
		host, e.list(), port, implied, scheme)
}

func (p pattern) matchesHost(host string) bool {
	if suffix, ok := strings.CutPrefix(p.host, "*"); ok {
		return net.ParseIP(host) == nil && strings.HasSuffix(host, suffix) && len(host) > len(suffix)
	}
	return host == p.host
}

// parseEndpoint accepts what the SLS SDK accepts and nothing more: an
// optional http:// or https:// scheme, a host name or IP address, an
// optional port, at most a trailing "/", no user, query or fragment.
func parseEndpoint(raw string) (*url.URL, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, errors.New("empty: want an SLS endpoint such as cn-hangzhou-intranet.log.aliyuncs.com")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return nil, errors.New("not a URL or host name")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("scheme %s: want http or https", secret.Quote(u.Scheme))
	case u.User != nil:
		return nil, errors.New("has user information: want a bare host")
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "", u.Opaque != "", strings.ContainsAny(s, "?#"):
		return nil, errors.New("has a path, query or fragment: want scheme://host[:port] only")
	}
	host := u.Hostname()
	if net.ParseIP(host) == nil && !ValidHostName(strings.ToLower(host)) {
		return nil, errors.New("host is not a valid host name or IP address")
	}
	if p := u.Port(); p != "" || strings.HasSuffix(u.Host, ":") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, errors.New("port is not a number from 1 to 65535")
		}
	}
	return u, nil
}

// ValidHostName checks a host name, the one rule of sls2siem for SLS
// endpoints, the syslog receiver and listen addresses alike (RFC 1123):
// dot-separated labels of 1–63 letters, digits and '-', not starting or
// ending with '-', 253 characters at most.
func ValidHostName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !isLowerAlnum(c) && c != '-' && !(c >= 'A' && c <= 'Z') {
				return false
			}
		}
	}
	return true
}

// RequestHost checks the host of an outgoing SLS request over scheme: the
// SDK builds it as <project>.<endpoint host>[:port]. It returns the
// endpoint host and port when the project label is a valid project name
// and the rest (its port included) is allowed, and reports whether the
// endpoint is an IP address or localhost (which the dialler must reach
// directly, as <project>.<ip> resolves nowhere). With scheme "" (a
// connection being dialled, its scheme unknown) a port-less pattern admits
// 80 and 443.
func (e Endpoints) RequestHost(scheme, hostport string) (endpointHost string, direct bool, err error) {
	host, port, splitErr := net.SplitHostPort(hostport)
	if splitErr != nil {
		host, port = hostport, ""
	}
	project, rest, ok := strings.Cut(host, ".")
	rest = strings.ToLower(rest)
	if !ok || Project(project) != nil {
		return "", false, fmt.Errorf("request host %s is not <project>.<endpoint>", secret.Quote(hostport))
	}
	allowed := e.allows(rest, scheme, port)
	if scheme == "" {
		allowed = e.allows(rest, "http", port) || e.allows(rest, "https", port)
	}
	if !allowed {
		return "", false, fmt.Errorf("request host %s: endpoint %s port %s is not allowed by SLS_ALLOWED_ENDPOINTS (%s)",
			secret.Quote(hostport), rest, cmp.Or(port, defaultPort(scheme)), e.list())
	}
	direct = rest == "localhost" || net.ParseIP(rest) != nil
	if port != "" {
		rest = net.JoinHostPort(rest, port)
	}
	return rest, direct, nil
}
