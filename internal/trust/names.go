// Package trust turns untrusted SLS coordinates (an endpoint, a project
// and a logstore name, from a trigger event or the environment) into ones
// the function may sign requests for. The SDK sends every request, with
// its Authorization and STS token headers, to <project>.<endpoint>: a name
// or endpoint that is not checked here can send the credentials anywhere.
package trust

import (
	"fmt"

	"sls2siem/internal/secret"
)

// Project checks an SLS project name: 3–63 characters of lower-case
// letters, digits and '-', starting and ending with a letter or digit.
func Project(name string) error {
	if !validName(name, 3, 63, false) {
		return fmt.Errorf("is %s: want an SLS project name: 3–63 characters of a-z, 0-9 and -, starting and ending with a letter or digit", secret.Quote(name))
	}
	return nil
}

// Logstore checks an SLS logstore name: 2–63 characters of lower-case
// letters, digits, '-' and '_', starting and ending with a letter or digit.
func Logstore(name string) error {
	if !validName(name, 2, 63, true) {
		return fmt.Errorf("is %s: want an SLS logstore name: 2–63 characters of a-z, 0-9, - and _, starting and ending with a letter or digit", secret.Quote(name))
	}
	return nil
}

func validName(s string, lo, hi int, underscore bool) bool {
	if len(s) < lo || len(s) > hi || !isLowerAlnum(s[0]) || !isLowerAlnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLowerAlnum(c) && c != '-' && !(underscore && c == '_') {
			return false
		}
	}
	return true
}

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
