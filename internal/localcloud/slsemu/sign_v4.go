package slsemu

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// V4 signatures (Request signatures (V4),
// https://help.aliyun.com/en/sls/developer-reference/request-signature-v4):
//
//	Authorization: SLS4-HMAC-SHA256 Credential=<AccessKeyId>/<yyyymmdd>/<region>/sls/aliyun_v4_request,Signature=<hex>
//	CanonicalRequest = VERB "\n" EscapedPath "\n" CanonicalQuery "\n"
//	                   CanonicalHeaders "\n" SignedHeaders "\n" x-log-content-sha256
//	StringToSign     = "SLS4-HMAC-SHA256\n" x-log-date "\n" scope "\n" hex(sha256(CanonicalRequest))
//	SigningKey       = HMAC(HMAC(HMAC(HMAC("aliyun_v4"+secret, yyyymmdd), region), "sls"), "aliyun_v4_request")
//	Signature        = hex(HMAC-SHA256(SigningKey, StringToSign))
//
// x-log-date is the request time in ISO 8601 basic form (20240902T060000Z);
// the Date header and x-log-signaturemethod are not needed (the Go SDK
// v0.1.127 and @alicloud/sls20201230 send neither with V4).
const (
	v4Algorithm   = "SLS4-HMAC-SHA256"
	v4Product     = "sls"
	v4Terminator  = "aliyun_v4_request"
	v4KeyPrefix   = "aliyun_v4"
	v4DateLayout  = "20060102T150405Z"
	emptySHA256   = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	v4HashHeader  = "x-log-content-sha256"
	v4DateHeader  = "x-log-date"
	v4ScopeLength = 4 // date/region/sls/aliyun_v4_request
)

// authenticateV4 checks a V4 signature; auth is the Authorization header.
func (s *Server) authenticateV4(r *http.Request, body []byte, auth string) *apiError {
	id, scope, sig, ok := parseAuthorizationV4(auth)
	if !ok {
		return errorf(401, codeUnauthorized, "The Authorization header is not a valid %s signature.", v4Algorithm)
	}
	dateStr := r.Header.Get(v4DateHeader)
	if dateStr == "" {
		return errorf(400, codeMissingDate, "%s does not exist in http header.", v4DateHeader)
	}
	date, err := time.Parse(v4DateLayout, dateStr)
	if err != nil {
		return errorf(400, codeInvalidDateFormat, "%s %s must follow ISO 8601 (%s).", v4DateHeader, dateStr, v4DateLayout)
	}
	cred, e := s.credential(r, id)
	if e != nil {
		return e
	}
	if e := checkAPIVersion(r); e != nil {
		return e
	}
	if m := r.Header.Get("x-log-signaturemethod"); m != "" && m != "hmac-sha256" {
		return errorf(400, codeInvalidSignatureMethod, "signature method %s is not supported with %s.", m, v4Algorithm)
	}
	if e := checkSkew(date, dateStr); e != nil {
		return e
	}
	parts := strings.Split(scope, "/")
	region := parts[1]
	switch {
	case parts[0] != dateStr[:8]:
		return errorf(401, codeSignatureNotMatch, "The credential scope date %s of AccessKeyId %s is not the date of %s.", parts[0], id, v4DateHeader)
	case parts[2] != v4Product || parts[3] != v4Terminator:
		return errorf(401, codeSignatureNotMatch, "The credential scope of AccessKeyId %s must end in /%s/%s.", id, v4Product, v4Terminator)
	}
	if want := s.Region(); want != "" && region != want {
		return errorf(401, codeSignatureNotMatch, "The credential scope region %s of AccessKeyId %s is not the region %s.", region, id, want)
	}

	payload := r.Header.Get(v4HashHeader)
	sum := sha256.Sum256(body)
	if actual := hex.EncodeToString(sum[:]); payload == "" {
		payload = actual
	} else if payload != actual && payload != emptySHA256 {
		// The empty-body hash marks an unsigned payload (the Go SDK sends
		// it for object uploads).
		return errorf(400, codeParameterInvalid, "%s does not match the body.", v4HashHeader)
	}

	canon := canonicalRequestV4(r, payload)
	h := sha256.Sum256([]byte(canon))
	toSign := v4Algorithm + "\n" + dateStr + "\n" + scope + "\n" + hex.EncodeToString(h[:])
	key := hmacSHA256([]byte(v4KeyPrefix+cred.AccessKeySecret), parts[0])
	for _, part := range []string{region, v4Product, v4Terminator} {
		key = hmacSHA256(key, part)
	}
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	if !hmac.Equal([]byte(strings.ToLower(sig)), []byte(want)) {
		return errorf(401, codeSignatureNotMatch, "Signature of AccessKeyId %s not matched.", id)
	}
	return nil
}

// parseAuthorizationV4 splits
// "SLS4-HMAC-SHA256 Credential=<id>/<scope>,Signature=<hex>".
func parseAuthorizationV4(h string) (id, scope, sig string, ok bool) {
	rest, ok := strings.CutPrefix(h, v4Algorithm+" ")
	if !ok {
		return "", "", "", false
	}
	var cred string
	for _, field := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(field), "=")
		switch k {
		case "Credential":
			cred = v
		case "Signature":
			sig = v
		}
	}
	parts := strings.Split(cred, "/")
	if len(parts) <= v4ScopeLength || sig == "" {
		return "", "", "", false
	}
	n := len(parts) - v4ScopeLength
	id = strings.Join(parts[:n], "/")
	scope = strings.Join(parts[n:], "/")
	if id == "" || strings.Contains(scope, "//") || strings.HasPrefix(scope, "/") {
		return "", "", "", false
	}
	return id, scope, sig, true
}

// canonicalRequestV4 builds the V4 canonical request of r.
//
// Signed headers: x-log-* (x-log-meta-* excepted) and x-acs-* headers, Host
// and Content-Type, names lowercased and sorted; as with v1, any other
// header may be added after signing. Query: the parameters sorted by name,
// the first value of each percent-encoded per RFC 3986 ("name" alone when
// the value is empty).
func canonicalRequestV4(r *http.Request, payload string) string {
	signed := map[string]string{"host": r.Host}
	for k, v := range r.Header {
		l := strings.ToLower(k)
		if len(v) == 0 || strings.HasPrefix(l, "x-log-meta-") {
			continue
		}
		if strings.HasPrefix(l, "x-log-") || strings.HasPrefix(l, "x-acs-") || l == "content-type" {
			signed[l] = strings.TrimSpace(v[0])
		}
	}
	names := make([]string, 0, len(signed))
	for k := range signed {
		names = append(names, k)
	}
	sort.Strings(names)

	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
	b.WriteByte('\n')
	for i, p := range parseQuery(r.URL.RawQuery) {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.name)
		if v := p.values[0]; v != "" {
			b.WriteByte('=')
			b.WriteString(percentEncode(v))
		}
	}
	b.WriteByte('\n')
	for _, k := range names {
		fmt.Fprintf(&b, "%s:%s\n", k, signed[k])
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(names, ";"))
	b.WriteByte('\n')
	b.WriteString(payload)
	return b.String()
}

// percentEncode escapes s per RFC 3986: everything but letters, digits and
// "-_.~"; a space is "%20".
func percentEncode(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
