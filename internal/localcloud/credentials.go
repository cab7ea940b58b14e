package localcloud

import (
	"crypto/rand"
	"encoding/hex"
)

// randomID returns n random bytes, hex encoded, prefixed: local cloud
// credentials are made at run time, never committed.
func randomID(prefix string, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return prefix + hex.EncodeToString(b)
}

// newDeadLetterKey is a SHIP_DEADLETTER_KEY made up for one run of the
// local cloud: 32 random bytes, hex.
func newDeadLetterKey() string { return randomID("", 32) }
