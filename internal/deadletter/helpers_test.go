package deadletter

import (
	"unsafe"

	"sls2siem/internal/secret"
)

func secretCreds() secret.Credentials {
	return secret.Credentials{AccessKeyID: "LTAI", AccessKeySecret: "abcdef123", SecurityToken: "tok-xyz"}
}

// unsafeData is where a string's bytes are.
func unsafeData(s string) *byte { return unsafe.StringData(s) }
