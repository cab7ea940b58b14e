package trust

import (
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

// Endpoints is the allow-list of SLS endpoint hosts and the scheme rule.
// A pattern is a host name, an IP address, localhost, or "*." followed by
// a domain, which matches any host below that domain (not the domain
// itself, and never an IP address). A pattern matches whatever the port.
type Endpoints struct {
	patterns []string
	https    bool
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
		if err := checkPattern(p); err != nil {
			return Endpoints{}, fmt.Errorf("pattern %s: %w", secret.Quote(p), err)
		}
		e.patterns = append(e.patterns, strings.Trim(p, "[]"))
	}
	if len(e.patterns) == 0 {
		return Endpoints{}, errors.New("lists no host: want host patterns such as " + DefaultAllowed)
	}
	return e, nil
}

func checkPattern(p string) error {
	host := strings.TrimPrefix(p, "*.")
	switch {
	case strings.Contains(p, "://"), strings.Contains(p, "/"):
		return errors.New("is a URL: want a host pattern without scheme or path")
	case net.ParseIP(strings.Trim(host, "[]")) != nil:
		if host != p {
			return errors.New("puts a wildcard before an IP address: name the address itself")
		}
		return nil
	case strings.Contains(host, ":"):
		return errors.New("has a port: a pattern matches the host whatever its port")
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
func (e Endpoints) Patterns() []string { return append([]string(nil), e.patterns...) }

// HTTPS reports whether endpoints are upgraded to https.
func (e Endpoints) HTTPS() bool { return e.https }

// Endpoint is an admitted SLS endpoint.
type Endpoint struct {
	URL  string // scheme://host[:port], what the SDK is given
	Host string // lower case, without port or brackets
}

// Admit parses an untrusted endpoint (host[:port], optionally behind
// http:// or https://) and checks its host against the allow-list. The
// error says what is wrong without quoting more than 64 bytes of it.
func (e Endpoints) Admit(raw string) (Endpoint, error) {
	u, err := parseEndpoint(raw)
	if err != nil {
		return Endpoint{}, fmt.Errorf("is %s: %w", secret.Quote(raw), err)
	}
	host := strings.ToLower(u.Hostname())
	if !e.allows(host) {
		return Endpoint{}, fmt.Errorf("is %s: host %s is not allowed by SLS_ALLOWED_ENDPOINTS (%s)",
			secret.Quote(raw), host, strings.Join(e.patterns, ","))
	}
	scheme := u.Scheme
	if e.https {
		scheme = "https"
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

func (e Endpoints) allows(host string) bool {
	isIP := net.ParseIP(host) != nil
	for _, p := range e.patterns {
		if suffix, ok := strings.CutPrefix(p, "*"); ok {
			if !isIP && strings.HasSuffix(host, suffix) && len(host) > len(suffix) {
				return true
			}
			continue
		}
		if host == p {
			return true
		}
	}
	return false
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

// RequestHost checks the host of an outgoing SLS request: the SDK builds
// it as <project>.<endpoint host>[:port]. It returns the endpoint host and
// port when the project label is a valid project name and the rest is
// allowed, and reports whether the endpoint is an IP address or localhost
// (which the dialler must reach directly, as <project>.<ip> resolves
// nowhere).
func (e Endpoints) RequestHost(hostport string) (endpointHost string, direct bool, err error) {
	host, port, splitErr := net.SplitHostPort(hostport)
	if splitErr != nil {
		host, port = hostport, ""
	}
	project, rest, ok := strings.Cut(host, ".")
	rest = strings.ToLower(rest)
	if !ok || Project(project) != nil {
		return "", false, fmt.Errorf("request host %s is not <project>.<endpoint>", secret.Quote(hostport))
	}
	if !e.allows(rest) {
		return "", false, fmt.Errorf("request host %s: endpoint %s is not allowed by SLS_ALLOWED_ENDPOINTS", secret.Quote(hostport), rest)
	}
	direct = rest == "localhost" || net.ParseIP(rest) != nil
	if port != "" {
		rest = net.JoinHostPort(rest, port)
	}
	return rest, direct, nil
}
