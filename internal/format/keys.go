package format

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// attrKeys turns field names into CEF extension keys and LEEF attribute
// keys, which must be alphanumeric: every other ASCII character
// (punctuation, space, control characters) ends a word and the next letter
// is capitalised (userIdentity.userName → userIdentityUserName,
// __tag__:__hostname__ → tagHostname); a non-ASCII character becomes
// uXXXX, its code point in at least four lower-case hex digits (é →
// u00e9), and ends a word too. Results are cached: field names repeat from
// log to log.
//
// Field names alias memory the log reader recycles, so whatever is kept
// across messages is a copy.
type attrKeys struct {
	cache    map[string]string
	reserved []string    // keys the format itself writes
	used     []string    // keys of the current message, reserved first
	set      uniqueNames // used[:inSet], once a key must be checked
	inSet    int
	clash    bool // a key of this message was changed: check for repeats
	scratch  []byte

	// memo holds the previous message's names and keys by position: while
	// a message repeats its predecessor's names, its keys are the same.
	// Both are copies, never the log's memory.
	memo   []memoKey
	pos    int
	memoOK bool
}

// memoKey: a name, and its key unless same (the key is the name).
type memoKey struct {
	name, key string
	same      bool
}

const maxKeyCache = 4096

func newAttrKeys(reserved ...string) *attrKeys {
	return &attrKeys{cache: map[string]string{}, reserved: reserved}
}

// start begins a message.
func (a *attrKeys) start() {
	a.used = append(a.used[:0], a.reserved...)
	if a.inSet > 0 {
		a.set.reset()
		a.inSet = 0
	}
	a.clash = false
	a.pos, a.memoOK = 0, true
}

// key returns the key to write for field name k in the current message,
// unique within it.
func (a *attrKeys) key(k string) string {
	if a.memoOK && a.pos < len(a.memo) && a.memo[a.pos].name == k {
		m := &a.memo[a.pos]
		a.pos++
		out := k // this log's own memory: valid for this message
		if !m.same {
			out = m.key
			a.clash = true
		}
		a.used = append(a.used, out)
		return out
	}
	if a.memoOK {
		// Replay the clash state of the names matched so far.
		a.memoOK = false
		a.memo = a.memo[:a.pos]
	}
	out := a.uniqueKey(k)
	if out == k {
		a.memo = append(a.memo, memoKey{name: strings.Clone(k), same: true})
	} else {
		a.memo = append(a.memo, memoKey{name: strings.Clone(k), key: out}) // out is never the log's memory
	}
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
	for ; a.inSet < len(a.used); a.inSet++ {
		a.set.add(a.used[a.inSet])
	}
	out = a.set.unique(out, 0)
	a.used = append(a.used, out)
	a.inSet = len(a.used)
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

// uniqueNames makes the names of one message unique by the numbering rule
// every body shares: a name already used gets the smallest number n >= 2
// for which name+n is unused (rt, rt2, rt3…). Each name costs amortised
// O(1): the names are in a map, and each repeated name remembers the last
// number it took. Names may alias the log's memory: reset forgets them.
type uniqueNames struct {
	used    map[string]struct{}
	next    map[string]int
	peak    int
	scratch []byte
}

// reset forgets every name. Emptying the maps costs their capacity: maps
// much larger than the messages now using them are let go.
func (u *uniqueNames) reset() {
	n := len(u.used)
	u.peak = max(u.peak, n)
	if u.peak > 1024 && n*8 < u.peak {
		u.used, u.next, u.peak = nil, nil, 0
		return
	}
	clear(u.used)
	clear(u.next)
}

func (u *uniqueNames) add(name string) {
	if u.used == nil {
		u.used, u.next = map[string]struct{}{}, map[string]int{}
	}
	u.used[name] = struct{}{}
}

// unique returns name, or name numbered, marked used. With limit > 0 the
// result has at most limit bytes (name is ASCII): name is shortened to
// make room for the number.
func (u *uniqueNames) unique(name string, limit int) string {
	if _, dup := u.used[name]; !dup {
		u.add(name)
		return name
	}
	n := max(u.next[name], 2)
	for ; ; n++ {
		base := name
		if d := digits(n); limit > 0 && len(base)+d > limit {
			base = base[:limit-d]
		}
		c := strconv.AppendInt(append(u.scratch[:0], base...), int64(n), 10)
		u.scratch = c
		if _, dup := u.used[string(c)]; !dup { // no allocation to look up
			u.next[name] = n + 1
			s := string(c)
			u.add(s)
			return s
		}
	}
}

func digits(n int) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
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
			r, size := utf8.DecodeRuneInString(k[i:]) // an invalid byte is U+FFFD
			b = append(b, 'u')
			for d := digits16(r); d < 4; d++ {
				b = append(b, '0')
			}
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

// digits16 is the number of hex digits of r.
func digits16(r rune) int {
	d := 1
	for ; r >= 16; r >>= 4 {
		d++
	}
	return d
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
