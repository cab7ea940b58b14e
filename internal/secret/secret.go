// Package secret keeps credentials and key material out of every output:
// the one Credentials type the function passes around prints redacted, and
// Quote shows an untrusted value in an error only when it does not look
// like a secret.
package secret

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
)

// Credentials are an AccessKey pair with an optional STS token: the ones
// FC hands an invocation, or the daemon's from ALIBABA_CLOUD_*. Every way
// of printing them (String, GoString, fmt verbs, slog) shows the AccessKey
// ID only.
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

// Redacted stands in for a secret value.
const Redacted = "<redacted>"

// String redacts the secret and the token.
func (c Credentials) String() string {
	return "Credentials{AccessKeyID:" + c.AccessKeyID + " AccessKeySecret:" + redactSet(c.AccessKeySecret) +
		" SecurityToken:" + redactSet(c.SecurityToken) + "}"
}

// GoString redacts like String.
func (c Credentials) GoString() string { return c.String() }

// Format redacts under every fmt verb (%v, %+v, %#v, %s, %q).
func (c Credentials) Format(f fmt.State, verb rune) {
	s := c.String()
	if verb == 'q' {
		s = fmt.Sprintf("%q", s)
	}
	_, _ = f.Write([]byte(s))
}

// LogValue redacts in structured logs.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("accessKeyId", c.AccessKeyID),
		slog.Bool("accessKeySecret", c.AccessKeySecret != ""),
		slog.Bool("securityToken", c.SecurityToken != ""),
	)
}

// Values returns the secret parts, for scrubbing text that may hold them.
func (c Credentials) Values() []string { return []string{c.AccessKeySecret, c.SecurityToken} }

func redactSet(v string) string {
	if v == "" {
		return "<empty>"
	}
	return Redacted
}

// maxQuote bounds how much of an untrusted value an error shows.
const maxQuote = 64

// Quote renders an untrusted value for an error message: Go-quoted and
// cut to 64 bytes, or a placeholder that says what it looks like when it
// looks like key material (PEM text, a private key, a long random token).
func Quote(v string) string {
	switch {
	case LooksLikePEM(v):
		return fmt.Sprintf("<PEM text, %d bytes, not shown>", len(v))
	case LooksLikeKey(v):
		return fmt.Sprintf("<%d-character value that looks like a key, not shown>", len(v))
	case len(v) > maxQuote:
		return fmt.Sprintf("%q… (%d bytes)", cutUTF8(v, maxQuote), len(v))
	}
	return fmt.Sprintf("%q", v)
}

// LooksLikePEM reports whether v holds PEM armour or a private key.
func LooksLikePEM(v string) bool {
	u := strings.ToUpper(v)
	return strings.Contains(u, "-----BEGIN") || strings.Contains(u, "PRIVATE KEY")
}

// LooksLikeKey reports whether v looks like a generated secret: at least
// 24 characters, all of the base64 or hex alphabets, with both letters and
// digits. SLS cursors (base64 of a decimal number) are not keys.
func LooksLikeKey(v string) bool {
	if len(v) < 24 {
		return false
	}
	letters, digits := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
			digits = true
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			letters = true
		case c == '+', c == '/', c == '=', c == '_', c == '-':
		default:
			return false
		}
	}
	return letters && digits && !isCursor(v)
}

// isCursor reports whether v is the base64 of a decimal number, as SLS
// cursors are.
func isCursor(v string) bool {
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
