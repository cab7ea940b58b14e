package format

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// attrKeys turns field names into CEF extension keys and LEEF attribute
// keys, which must be alphanumeric: punctuation ends a word and the next
// letter is capitalised (userIdentity.userName → userIdentityUserName,
// __tag__:__hostname__ → tagHostname); other characters become uNNNN (their
// code point in hex). Results are cached: field names repeat from log to
// log.
//
// Field names alias memory the log reader recycles, so whatever is kept
// across messages is a copy.
type attrKeys struct {
	cache    map[string]string
	used     []string // keys written in the current message
	reserved []string // keys the format itself writes
	clash    bool     // a key of this message was changed: check for repeats
	scratch  []byte

	// memo holds the previous message's names and keys by position: while
	// a message repeats its predecessor's names, its keys are the same.
	memo   []memoKey
	pos    int
	memoOK bool
}

type memoKey struct{ name, key string }

const maxKeyCache = 4096

func newAttrKeys(reserved ...string) *attrKeys {
	return &attrKeys{cache: map[string]string{}, reserved: reserved}
}

// start begins a message.
func (a *attrKeys) start() {
	a.used = append(a.used[:0], a.reserved...)
	a.clash = false
	a.pos, a.memoOK = 0, true
}

// key returns the key to write for field name k in the current message,
// unique within it.
func (a *attrKeys) key(k string) string {
	if a.memoOK && a.pos < len(a.memo) && a.memo[a.pos].name == k {
		out := a.memo[a.pos].key
		a.pos++
		a.used = append(a.used, out)
		if out != k {
			a.clash = true
		}
		return out
	}
	if a.memoOK {
		// Replay the clash state of the names matched so far.
		a.memoOK = false
		a.memo = a.memo[:a.pos]
	}
	out := a.uniqueKey(k)
	a.memo = append(a.memo, memoKey{strings.Clone(k), out})
	a.pos++
	return out
}

func (a *attrKeys) uniqueKey(k string) string {
	out, changed := a.sanitize(k)
	if changed {
		a.clash = true
	}
	if !a.clash && !a.isReserved(out) {
		a.used = append(a.used, out)
		return out
	}
	a.clash = true
	base := out
	for n := 2; a.isUsed(out); n++ {
		out = base + strconv.Itoa(n)
	}
	a.used = append(a.used, out)
	return out
}

func (a *attrKeys) isReserved(k string) bool {
	for _, r := range a.reserved {
		if k == r {
			return true
		}
	}
	return false
}

func (a *attrKeys) isUsed(k string) bool {
	for _, u := range a.used {
		if k == u {
			return true
		}
	}
	return false
}

// sanitize returns the alphanumeric form of k and whether it differs.
func (a *attrKeys) sanitize(k string) (string, bool) {
	if validAttrKey(k) {
		return k, false
	}
	if v, ok := a.cache[k]; ok {
		return v, true
	}
	b := a.scratch[:0]
	upper := false
	for i := 0; i < len(k); {
		c := k[i]
		switch {
		case isAlnum(c):
			if upper && len(b) > 0 && 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			b = append(b, c)
			upper = false
			i++
		case c < utf8.RuneSelf:
			upper = true
			i++
		default:
			r, size := utf8.DecodeRuneInString(k[i:])
			b = append(b, 'u')
			b = strconv.AppendUint(b, uint64(r), 16)
			upper = true
			i += size
		}
	}
	if len(b) == 0 {
		b = append(b, "field"...)
	}
	a.scratch = b
	v := string(b)
	if len(a.cache) >= maxKeyCache {
		clear(a.cache)
	}
	a.cache[strings.Clone(k)] = v
	return v, true
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func validAttrKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if !isAlnum(k[i]) {
			return false
		}
	}
	return true
}
