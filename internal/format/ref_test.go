package format

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

// Reference implementations of what the encoder must produce, written
// plainly (runes, maps, strings.Builder) and sharing no code with it.

// refFlatten flattens like loggroups_to_flattern_list: an insertion-ordered
// dict of __time__, __topic__, __source__, non-zero __time_ns_part__, the
// tags, the contents; a repeated key keeps its place; __time__ removed.
func refFlatten(g *sls.LogGroup, l *sls.Log) []Field {
	var keys []string
	vals := map[string]string{}
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			keys = append(keys, k)
		}
		vals[k] = v
	}
	set("__time__", strconv.FormatUint(uint64(l.GetTime()), 10))
	set("__topic__", g.GetTopic())
	set("__source__", g.GetSource())
	if l.GetTimeNs() != 0 {
		set("__time_ns_part__", strconv.FormatUint(uint64(l.GetTimeNs()), 10))
	}
	for _, t := range g.LogTags {
		set("__tag__:"+t.GetKey(), t.GetValue())
	}
	for _, c := range l.Contents {
		set(c.GetKey(), c.GetValue())
	}
	var out []Field
	for _, k := range keys {
		if k != "__time__" {
			out = append(out, Field{k, vals[k]})
		}
	}
	return out
}

// refText replaces invalid UTF-8 by U+FFFD and the runes of repl by their
// replacement.
func refText(s string, repl map[rune]string) string {
	var b strings.Builder
	for _, r := range s {
		if r2, ok := repl[r]; ok {
			b.WriteString(r2)
			continue
		}
		b.WriteRune(r) // invalid bytes come as RuneError: U+FFFD
	}
	return b.String()
}

var (
	breaksRepl = map[rune]string{'\n': `\n`, '\r': `\r`, 0: `\0`}
	nulRepl    = map[rune]string{0: `\0`} // NUL is never written raw
)

// refHeader is a header field: characters outside [lo, hi] (and in
// except) written '_', cut to max, "" for the nil value.
func refHeader(v string, max int, ok func(r rune) bool) string {
	if v == "" || v == "-" {
		return ""
	}
	var b strings.Builder
	n := 0
	for _, r := range v {
		if n == max {
			break
		}
		if ok(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
		n++
	}
	return b.String()
}

func isPrintUSASCII(r rune) bool { return r >= 33 && r <= 126 }

// refMapped returns the value of the first of keys with a non-empty value
// in fs, else def.
func refMapped(fs []Field, keys []string, def string) string {
	for _, k := range keys {
		for _, f := range fs {
			if f.Key == k && f.Value != "" {
				return f.Value
			}
		}
	}
	return def
}

// refSeverity is the documented severity vocabulary.
func refSeverity(v string, def int) int {
	words := map[string]int{
		"0": 0, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6, "7": 7,
		"emerg": 0, "emergency": 0, "panic": 0, "alert": 1, "crit": 2, "critical": 2, "fatal": 2,
		"err": 3, "error": 3, "severe": 3, "warn": 4, "warning": 4, "notice": 5,
		"info": 6, "informational": 6, "information": 6,
		"debug": 7, "trace": 7, "verbose": 7, "fine": 7, "finer": 7, "finest": 7,
	}
	w := strings.ToLower(strings.Trim(v, " \t"))
	if n, err := strconv.ParseUint(w, 10, 64); err == nil && !strings.HasPrefix(w, "+") && len(w) <= 16 {
		if n <= 7 {
			return int(n)
		}
		return def
	}
	if n, ok := words[w]; ok && utf8.ValidString(v) && isASCII(v) {
		return n
	}
	return def
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// refKV is the seed's body.
func refKV(fs []Field, repl map[rune]string) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("||" + refText(f.Key, repl) + "=" + refText(f.Value, repl))
	}
	return b.String()
}

// refAttrKeys names CEF/LEEF keys: alphanumeric runs kept, a run after
// punctuation capitalised, other runes as u<hex>, "field" when nothing is
// left, and a number appended to a key already used.
func refAttrKeys(fs []Field, reserved ...string) []string {
	used := map[string]bool{}
	for _, r := range reserved {
		used[r] = true
	}
	var out []string
	for _, f := range fs {
		var b strings.Builder
		upper := false
		for _, r := range f.Key {
			switch {
			case r < 128 && isAlnum(byte(r)):
				if upper && b.Len() > 0 && r >= 'a' && r <= 'z' {
					r -= 'a' - 'A'
				}
				b.WriteRune(r)
				upper = false
			case r < 128:
				upper = true
			default:
				b.WriteString(fmt.Sprintf("u%04x", r))
				upper = true
			}
		}
		k := b.String()
		if k == "" {
			k = "field"
		}
		base := k
		for n := 2; used[k]; n++ {
			k = base + strconv.Itoa(n)
		}
		used[k] = true
		out = append(out, k)
	}
	return out
}

// Header rules (docs/messages.md), written from the rules, not the code.

// refChars keeps the runes ok accepts, writes others '_', cut to max.
func refChars(v string, max int, ok func(r rune) bool) string {
	var b strings.Builder
	n := 0
	for _, r := range v {
		if n == max {
			break
		}
		if ok(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
		n++
	}
	return b.String()
}

func isAlnumRune(r rune) bool { return r < 128 && isAlnum(byte(r)) }

// A refRule makes one header field's value; "" means unusable.
type refRule func(v string, max int) string

func refHostRule(bsd bool) refRule {
	return func(v string, max int) string {
		s := refChars(v, max, func(r rune) bool { return isAlnumRune(r) || strings.ContainsRune(".-_", r) || !bsd && r == ':' })
		if i := strings.LastIndex(s, ":"); i >= 0 && strings.Trim(s[:i], "0123456789abcdefABCDEF:") != "" {
			s = strings.ReplaceAll(s, ":", "_")
		}
		if bsd {
			s = strings.TrimRightFunc(s, func(r rune) bool { return !isAlnumRune(r) })
		}
		return refUsable(s)
	}
}

// refTokenRule: APP-NAME, TAG (no space, ", /, :, [, ]) and PROCID, PID (/ allowed).
func refTokenRule(slash bool) refRule {
	return func(v string, max int) string {
		return refUsable(refChars(v, max, func(r rune) bool {
			return isPrintUSASCII(r) && !strings.ContainsRune(`":[]`, r) && (slash || r != '/')
		}))
	}
}

func refMsgIDRule(v string, max int) string { return refUsable(refChars(v, max, isPrintUSASCII)) }

func refUsable(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// refField is a mapped header field: the first of keys present with a
// value the rule leaves usable, else the constant made so, else "".
func refField(fs []Field, keys []string, constant string, rule refRule, max int) string {
	for _, k := range keys {
		for _, f := range fs {
			if f.Key == k && f.Value != "" {
				if s := rule(f.Value, max); s != "" {
					return s
				}
			}
		}
	}
	return rule(constant, max)
}

// refNumbered makes names unique: a name already used gets the smallest
// n >= 2 with name+n unused, the name shortened so that the result has at
// most max bytes (max 0: no limit).
func refNumbered(names []string, max int) []string {
	used := map[string]bool{}
	var out []string
	for _, n := range names {
		c := n
		for i := 2; used[c]; i++ {
			num := strconv.Itoa(i)
			base := n
			if max > 0 && len(base)+len(num) > max {
				base = base[:max-len(num)]
			}
			c = base + num
		}
		used[c] = true
		out = append(out, c)
	}
	return out
}

// refSDParamNames: the SD keys without repeats, made PARAM-NAMEs (no '.',
// "-" when empty) and numbered. Returns the keys and their names.
func refSDParamNames(keys []string) ([]string, []string) {
	var ks, names []string
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		n := refChars(k, 32, func(r rune) bool { return isPrintUSASCII(r) && !strings.ContainsRune(`="].`, r) })
		if n == "" {
			n = "-"
		}
		ks, names = append(ks, k), append(names, n)
	}
	return ks, refNumbered(names, 32)
}

// refJSONNames: the keys with invalid UTF-8 replaced, numbered.
func refJSONNames(fs []Field) []string {
	var names []string
	for _, f := range fs {
		names = append(names, refText(f.Key, nil))
	}
	return refNumbered(names, 0)
}

// refUnits is the encoding of s split into what a cut may not split: one
// unit per character of s (its replacement, U+FFFD for an invalid byte).
func refUnits(s string, repl map[rune]string) []string {
	var out []string
	for _, r := range s {
		if r2, ok := repl[r]; ok {
			out = append(out, r2)
		} else {
			out = append(out, string(r))
		}
	}
	return out
}

// refKVUnits are the units of the kv body.
func refKVUnits(fs []Field, repl map[rune]string) []string {
	var out []string
	for _, f := range fs {
		out = append(out, "||")
		out = append(out, refUnits(f.Key, repl)...)
		out = append(out, "=")
		out = append(out, refUnits(f.Value, repl)...)
	}
	return out
}

// unitPrefix reports whether got is the concatenation of a prefix of
// units, and returns the unit after it ("" when all are used).
func unitPrefix(got string, units []string) (ok bool, next string) {
	n := 0
	for _, u := range units {
		if n == len(got) {
			return true, u
		}
		if !strings.HasPrefix(got[n:], u) {
			return false, u
		}
		n += len(u)
	}
	return n == len(got), ""
}

// ref3164Repl is RFC 3164 content under any framing: CR, LF, NUL as \r \n
// \0, other controls but tab, DEL and the C1 controls (U+0080–U+009F) as
// \xHH of their code point.
var ref3164Repl = func() map[rune]string {
	m := map[rune]string{'\n': `\n`, '\r': `\r`, 0: `\0`, 0x7f: `\x7f`}
	for c := rune(1); c < 0xa0; c++ {
		if c != '\t' && c != '\n' && c != '\r' && (c < 0x20 || c >= 0x80) {
			m[c] = `\x` + strconv.FormatInt(int64(c)+0x100, 16)[1:]
		}
	}
	return m
}()

// refCtlSpace is CEF and LEEF header text: every control character (C0,
// DEL, C1) a space.
func refCtlSpace(extra map[rune]string) map[rune]string {
	m := map[rune]string{0x7f: " "}
	for c := rune(0); c < 0xa0; c++ {
		if c < 0x20 || c >= 0x80 {
			m[c] = " "
		}
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}
