package slsemu

import (
	"crypto/md5"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Authentication follows the SLS API reference:
//
//   - Request signatures (v1, "LOG <AccessKeyId>:<signature>"):
//     https://www.alibabacloud.com/help/en/sls/developer-reference/request-signatures
//   - Request signatures (V4, "SLS4-HMAC-SHA256 Credential=...,Signature=..."):
//     https://help.aliyun.com/en/sls/developer-reference/request-signature-v4
//   - Common request headers (Date, x-log-date, x-log-apiversion,
//     x-log-signaturemethod, x-acs-security-token, the 15-minute skew):
//     https://www.alibabacloud.com/help/en/sls/developer-reference/common-request-headers
//   - Error codes and statuses (MissingDate, InvalidDateFormat,
//     RequestTimeExpired, MissingAPIVersion, SignatureNotMatch, ...):
//     https://www.alibabacloud.com/help/en/sls/developer-reference/error-codes
//
// The v1 rules are in sign_v1.go, the V4 rules in sign_v4.go.

// maxClockSkew is how far a request's time may be from the server clock
// (common request headers: "the maximum acceptable error is 15 minutes").
const maxClockSkew = 15 * time.Minute

// authenticate checks the request's signature (v1 or V4, chosen by the
// Authorization scheme), its credential, security token and time, and that
// body matches its Content-MD5 or x-log-content-sha256. Messages never
// contain secrets or tokens.
func (s *Server) authenticate(r *http.Request, body []byte) *apiError {
	if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, v4Algorithm+" ") {
		return s.authenticateV4(r, body, auth)
	}
	return s.authenticateV1(r, body)
}

// credential returns the credential of id, checking the request's
// x-acs-security-token against it.
func (s *Server) credential(r *http.Request, id string) (Credential, *apiError) {
	s.mu.RLock()
	cred, found := s.creds[id]
	s.mu.RUnlock()
	if !found {
		return cred, errorf(401, codeUnauthorized, "AccessKeyId not found: %s", id)
	}
	token := r.Header.Get("x-acs-security-token")
	switch {
	case cred.SecurityToken == "" && token != "":
		return cred, errorf(401, codeUnauthorized, "AccessKeyId %s is not an STS credential but the request carries a security token.", id)
	case cred.SecurityToken != "" && token == "":
		return cred, errorf(401, codeUnauthorized, "AccessKeyId %s is an STS credential but the request carries no security token.", id)
	case cred.SecurityToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(cred.SecurityToken)) != 1:
		return cred, errorf(401, codeUnauthorized, "The security token of AccessKeyId %s is invalid.", id)
	}
	return cred, nil
}

// checkAPIVersion checks x-log-apiversion, which both signature versions
// require (0.6.0 is the only version).
func checkAPIVersion(r *http.Request) *apiError {
	switch v := r.Header.Get("x-log-apiversion"); v {
	case "":
		return errorf(400, codeMissingAPIVersion, "x-log-apiversion does not exist in http header.")
	case "0.6.0":
		return nil
	default:
		return errorf(400, codeInvalidAPIVersion, "x-log-apiversion %s is not supported.", v)
	}
}

// checkSkew refuses a request time more than maxClockSkew from now; shown
// is the time as the request wrote it.
func checkSkew(t time.Time, shown string) *apiError {
	now := time.Now()
	if d := now.Sub(t); d > maxClockSkew || d < -maxClockSkew {
		return errorf(400, codeRequestTimeExpired, "Request time %s has been expired while server time is %s.",
			shown, now.UTC().Format(http.TimeFormat))
	}
	return nil
}

// checkContentMD5 refuses a body that does not match its Content-MD5 (the
// uppercase hex MD5 the common request headers describe), when both are
// present.
func checkContentMD5(r *http.Request, body []byte) *apiError {
	got := r.Header.Get("Content-MD5")
	if len(body) == 0 || got == "" {
		return nil
	}
	if sum := fmt.Sprintf("%X", md5.Sum(body)); !strings.EqualFold(got, sum) {
		return errorf(400, codeParameterInvalid, "Content-MD5 %s does not match the body.", got)
	}
	return nil
}
