package deadletter

import "sls2siem/internal/secret"

func secretCreds() secret.Credentials {
	return secret.Credentials{AccessKeyID: "LTAI", AccessKeySecret: "abcdef123", SecurityToken: "tok-xyz"}
}
