package slsemu

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Query parsing accepts what real clients send:
//
//   - values URL-escaped or not (a cursor's "=" arrives as "%3D" from the Go
//     SDK and Node's querystring, raw from others): they are decoded once,
//     as url.ParseQuery does;
//   - a parameter repeated: handlers read its first value;
//   - a parameter without "=": its value is empty;
//   - booleans in any case ("true", "True", "TRUE", "1"): see queryBool.

// param is one query parameter with its values in the order sent.
type param struct {
	name   string
	values []string
	bare   []bool // values[i] was sent without "="
}

// parseQuery decodes a raw query into its parameters sorted by name. Pairs
// that do not decode (a bad escape, a ";") are skipped, as url.ParseQuery
// skips them.
func parseQuery(raw string) []param {
	byName := map[string]*param{}
	var out []*param
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, hasEq := strings.Cut(pair, "=")
		name, err1 := url.QueryUnescape(k)
		value, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			continue
		}
		p := byName[name]
		if p == nil {
			p = &param{name: name}
			byName[name] = p
			out = append(out, p)
		}
		p.values = append(p.values, value)
		p.bare = append(p.bare, !hasEq)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	params := make([]param, len(out))
	for i, p := range out {
		params[i] = *p
	}
	return params
}

// queryBool reads a boolean parameter the way the service's clients send
// it: "true"/"false" in any case ("True" from Python's str), or 1/0. An
// absent parameter is def; ok is false for a value that is no boolean.
func queryBool(q url.Values, name string, def bool) (v, ok bool) {
	s, present := q[name]
	if !present || len(s) == 0 || s[0] == "" {
		return def, true
	}
	b, err := strconv.ParseBool(strings.ToLower(s[0]))
	if err != nil {
		return false, false
	}
	return b, true
}
