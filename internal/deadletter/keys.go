package deadletter

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
)

// MinKeyLen is the shortest SHIP_DEADLETTER_KEY accepted, in bytes:
// HMAC-SHA256 wants at least its output's length of key material.
const MinKeyLen = 32

// Keys sign and verify dead-letter records: records are signed with the
// current key (SHIP_DEADLETTER_KEY) and accepted when signed with it or
// with the previous one (SHIP_DEADLETTER_KEY_PREVIOUS, for a rotation
// window). Every way of printing Keys (String, GoString, fmt verbs, slog)
// says only which keys are set: the key material never reaches a log, an
// error or a golden file.
type Keys struct {
	current, previous []byte
}

// NewKeys returns the keys; previous may be empty. Both must be at least
// MinKeyLen bytes (the configuration checks it, naming the variable).
func NewKeys(current, previous string) (Keys, error) {
	if len(current) < MinKeyLen {
		return Keys{}, fmt.Errorf("the dead-letter key has %d bytes: want at least %d", len(current), MinKeyLen)
	}
	if previous != "" && len(previous) < MinKeyLen {
		return Keys{}, fmt.Errorf("the previous dead-letter key has %d bytes: want at least %d", len(previous), MinKeyLen)
	}
	k := Keys{current: []byte(current)}
	if previous != "" {
		k.previous = []byte(previous)
	}
	return k, nil
}

// Set reports whether there is a key to sign with.
func (k Keys) Set() bool { return len(k.current) > 0 }

// sign returns the hex HMAC-SHA256 of msg with the current key.
func (k Keys) sign(msg []byte) string { return hex.EncodeToString(mac(k.current, msg)) }

// verify reports whether sum (hex) is msg's MAC under the current or the
// previous key, comparing in constant time.
func (k Keys) verify(msg []byte, sum string) bool {
	got, err := hex.DecodeString(sum)
	if err != nil || len(got) != sha256.Size || len(k.current) == 0 {
		return false
	}
	if hmac.Equal(got, mac(k.current, msg)) {
		return true
	}
	return len(k.previous) > 0 && hmac.Equal(got, mac(k.previous, msg))
}

func mac(key, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(nil)
}

// String says which keys are set, never their value.
func (k Keys) String() string {
	return fmt.Sprintf("deadletter.Keys{current:%s previous:%s}", shown(k.current), shown(k.previous))
}

// GoString redacts like String.
func (k Keys) GoString() string { return k.String() }

// Format redacts under every fmt verb.
func (k Keys) Format(f fmt.State, verb rune) {
	s := k.String()
	if verb == 'q' {
		s = fmt.Sprintf("%q", s)
	}
	_, _ = f.Write([]byte(s))
}

// LogValue redacts in structured logs.
func (k Keys) LogValue() slog.Value {
	return slog.GroupValue(slog.Bool("current", len(k.current) > 0), slog.Bool("previous", len(k.previous) > 0))
}

func shown(b []byte) string {
	if len(b) == 0 {
		return "<unset>"
	}
	return "<set>"
}
