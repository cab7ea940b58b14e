package slsemu

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// maxClockSkew is how far a request's Date may be from the server clock.
const maxClockSkew = 15 * time.Minute

// authenticate checks the request's signature (version 1, as SignerV1 of the
// SDK computes it), its credential, security token and date, and that body
// matches its Content-MD5. Messages never contain secrets or tokens.
func (s *Server) authenticate(r *http.Request, body []byte) *apiError {
	dateStr := r.Header.Get("Date")
	if dateStr == "" {
		return errorf(400, codeMissingDate, "Date does not exist in http header.")
	}
	date, err := http.ParseTime(dateStr)
	if err != nil {
		return errorf(400, codeInvalidDateFormat, "Date %s must follow RFC822.", dateStr)
	}

	id, sig, ok := parseAuthorization(r.Header.Get("Authorization"))
	if !ok {
		return errorf(401, codeUnauthorized, "The Authorization header is missing or is not a version 1 signature.")
	}
	s.mu.RLock()
	cred, found := s.creds[id]
	s.mu.RUnlock()
	if !found {
		return errorf(401, codeUnauthorized, "AccessKeyId not found: %s", id)
	}
	token := r.Header.Get("x-acs-security-token")
	switch {
	case cred.SecurityToken == "" && token != "":
		return errorf(401, codeUnauthorized, "AccessKeyId %s is not an STS credential but the request carries a security token.", id)
	case cred.SecurityToken != "" && token == "":
		return errorf(401, codeUnauthorized, "AccessKeyId %s is an STS credential but the request carries no security token.", id)
	case cred.SecurityToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(cred.SecurityToken)) != 1:
		return errorf(401, codeUnauthorized, "The security token of AccessKeyId %s is invalid.", id)
	}

	switch v := r.Header.Get("x-log-apiversion"); v {
	case "":
		return errorf(400, codeMissingAPIVersion, "x-log-apiversion does not exist in http header.")
	case "0.6.0":
	default:
		return errorf(400, codeInvalidAPIVersion, "x-log-apiversion %s is not supported.", v)
	}
	switch m := r.Header.Get("x-log-signaturemethod"); m {
	case "":
		return errorf(400, codeMissingSignatureMethod, "x-log-signaturemethod does not exist in http header.")
	case "hmac-sha1":
	default:
		return errorf(400, codeInvalidSignatureMethod, "signature method %s is not supported.", m)
	}

	now := time.Now()
	if d := now.Sub(date); d > maxClockSkew || d < -maxClockSkew {
		return errorf(400, codeRequestTimeExpired, "Request time %s has been expired while server time is %s.",
			dateStr, now.UTC().Format(http.TimeFormat))
	}

	mac := hmac.New(sha1.New, []byte(cred.AccessKeySecret))
	mac.Write([]byte(stringToSign(r)))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return errorf(401, codeSignatureNotMatch, "Signature of AccessKeyId %s not matched.", id)
	}

	if len(body) > 0 {
		sum := fmt.Sprintf("%X", md5.Sum(body))
		if got := r.Header.Get("Content-MD5"); got != "" && !strings.EqualFold(got, sum) {
			return errorf(400, codeParameterInvalid, "Content-MD5 %s does not match the body.", got)
		}
	}
	return nil
}

// parseAuthorization splits "LOG <AccessKeyId>:<signature>".
func parseAuthorization(h string) (id, sig string, ok bool) {
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

// stringToSign rebuilds the string SignerV1 signs:
//
//	VERB \n Content-MD5 \n Content-Type \n Date \n CanonicalizedHeaders \n CanonicalizedResource
//
// The headers are those starting with x-log- or x-acs-, lowercased, sorted,
// "k:v" joined by "\n". The resource is the escaped path, then, if there is
// a query, "?" and the sorted keys as "k=v" with decoded values joined by
// "&" (repeated values of one key are concatenated without separator, as
// the SDK does).
func stringToSign(r *http.Request) string {
	var keys []string
	vals := make(map[string]string)
	for k, v := range r.Header {
		l := strings.ToLower(strings.TrimSpace(k))
		if !strings.HasPrefix(l, "x-log-") && !strings.HasPrefix(l, "x-acs-") || len(v) == 0 {
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
	if r.URL.RawQuery != "" {
		q := r.URL.Query()
		qkeys := make([]string, 0, len(q))
		for k := range q {
			qkeys = append(qkeys, k)
		}
		sort.Strings(qkeys)
		b.WriteByte('?')
		for i, k := range qkeys {
			if i > 0 {
				b.WriteByte('&')
			}
			for _, v := range q[k] {
				b.WriteString(k)
				b.WriteByte('=')
				b.WriteString(v)
			}
		}
	}
	return b.String()
}
