package slsemu

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"net/http"
	"sort"
	"strings"
)

// authenticateV1 checks a version 1 signature (Request signatures,
// https://www.alibabacloud.com/help/en/sls/developer-reference/request-signatures):
//
//	Authorization: LOG <AccessKeyId>:<base64(HMAC(AccessKeySecret, StringToSign))>
//	StringToSign = VERB "\n" Content-MD5 "\n" Content-Type "\n" Date "\n"
//	               CanonicalizedLOGHeaders "\n" CanonicalizedResource
//
// The HMAC is the one x-log-signaturemethod names: hmac-sha1, the method
// the reference documents (the Go SDK and @alicloud/log use it), or
// hmac-sha256, which @alicloud/sls20201230 sends by default for v1 and the
// V4 reference lists, so the service accepts it.
//
// Date is required even when x-log-date is present; x-log-date, when
// present, replaces Date as the time checked against the server clock and
// takes no part in the signature (common request headers).
func (s *Server) authenticateV1(r *http.Request, body []byte) *apiError {
	dateStr := r.Header.Get("Date")
	if dateStr == "" {
		return errorf(400, codeMissingDate, "Date does not exist in http header.")
	}
	date, err := http.ParseTime(dateStr)
	if err != nil {
		return errorf(400, codeInvalidDateFormat, "Date %s must follow RFC822.", dateStr)
	}
	shown := dateStr
	if ld := r.Header.Get("x-log-date"); ld != "" {
		if date, err = http.ParseTime(ld); err != nil {
			return errorf(400, codeInvalidDateFormat, "x-log-date %s must follow RFC822.", ld)
		}
		shown = ld
	}

	id, sig, ok := parseAuthorizationV1(r.Header.Get("Authorization"))
	if !ok {
		return errorf(401, codeUnauthorized, "The Authorization header is missing or is not a version 1 or V4 signature.")
	}
	cred, e := s.credential(r, id)
	if e != nil {
		return e
	}
	if e := checkAPIVersion(r); e != nil {
		return e
	}
	var newHash func() hash.Hash
	switch m := r.Header.Get("x-log-signaturemethod"); m {
	case "":
		return errorf(400, codeMissingSignatureMethod, "x-log-signaturemethod does not exist in http header.")
	case "hmac-sha1":
		newHash = sha1.New
	case "hmac-sha256":
		newHash = sha256.New
	default:
		return errorf(400, codeInvalidSignatureMethod, "signature method %s is not supported.", m)
	}
	if e := checkSkew(date, shown); e != nil {
		return e
	}

	mac := hmac.New(newHash, []byte(cred.AccessKeySecret))
	mac.Write([]byte(stringToSignV1(r)))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return errorf(401, codeSignatureNotMatch, "Signature of AccessKeyId %s not matched.", id)
	}
	return checkContentMD5(r, body)
}

// parseAuthorizationV1 splits "LOG <AccessKeyId>:<signature>".
func parseAuthorizationV1(h string) (id, sig string, ok bool) {
	rest, ok := strings.CutPrefix(h, "LOG ")
	if !ok {
		return "", "", false
	}
	id, sig, ok = strings.Cut(rest, ":")
	if !ok || id == "" || sig == "" {
		return "", "", false
	}
	return id, sig, true
}

// stringToSignV1 rebuilds the string a v1 signature signs.
//
// CanonicalizedLOGHeaders: the headers whose names start with x-log- or
// x-acs- (x-log-date excepted), names lowercased, values trimmed, sorted by
// name, "name:value" joined by "\n". Headers outside these prefixes (Host,
// User-Agent, Accept, Accept-Encoding, Content-Length, ...) are not signed,
// so a client or proxy may add or change them after signing.
//
// CanonicalizedResource: the escaped path; then, if the URL has a query,
// "?" and the parameters sorted by name, each "name=value" with its value
// URL-decoded (a cursor's "%3D" is signed as "="), joined by "&". A
// parameter sent without "=" is written as its name alone, as
// @alicloud/sls20201230 signs it; the values of a repeated parameter follow
// each other without separator, as the Go SDK signs them.
func stringToSignV1(r *http.Request) string {
	var keys []string
	vals := make(map[string]string)
	for k, v := range r.Header {
		l := strings.ToLower(strings.TrimSpace(k))
		if !strings.HasPrefix(l, "x-log-") && !strings.HasPrefix(l, "x-acs-") || l == "x-log-date" || len(v) == 0 {
			continue
		}
		if _, dup := vals[l]; !dup {
			keys = append(keys, l)
		}
		vals[l] = strings.TrimSpace(v[0])
	}
	sort.Strings(keys)

	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(r.Header.Get("Content-MD5"))
	b.WriteByte('\n')
	b.WriteString(r.Header.Get("Content-Type"))
	b.WriteByte('\n')
	b.WriteString(r.Header.Get("Date"))
	b.WriteByte('\n')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(k)
		b.WriteByte(':')
		b.WriteString(vals[k])
	}
	b.WriteByte('\n')
	b.WriteString(r.URL.EscapedPath())
	params := parseQuery(r.URL.RawQuery)
	if len(params) > 0 {
		b.WriteByte('?')
		for i, p := range params {
			if i > 0 {
				b.WriteByte('&')
			}
			for j, v := range p.values {
				b.WriteString(p.name)
				if p.bare[j] {
					continue
				}
				b.WriteByte('=')
				b.WriteString(v)
			}
		}
	}
	return b.String()
}
