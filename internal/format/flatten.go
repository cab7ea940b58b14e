package format

import (
	"strconv"
	"unsafe"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

// Field is one key=value pair of a flattened log.
type Field struct {
	Key   string
	Value string
}

// Well-known keys of a flattened log.
const (
	KeyTime       = "__time__"
	KeyTopic      = "__topic__"
	KeySource     = "__source__"
	KeyTimeNsPart = "__time_ns_part__"
	TagPrefix     = "__tag__:"
)

// Group holds what a log group contributes to each of its logs, computed
// once per group.
type Group struct {
	topic, source string
	tags          []Field
	cursor        string
	origin        []byte // origin SD element up to the log's index, when enabled
}

// NewGroup prepares g for flattening. Tags are keyed __tag__:KEY; a repeated
// tag key keeps its first position and takes the last value.
func NewGroup(g *sls.LogGroup) *Group {
	grp := &Group{topic: g.GetTopic(), source: g.GetSource(), cursor: g.GetCursor()}
	for _, t := range g.LogTags {
		grp.tags = setField(grp.tags, TagPrefix+t.GetKey(), t.GetValue())
	}
	return grp
}

// Flatten appends the fields of l to dst in the reference function's
// order: __topic__, __source__, __time_ns_part__ (only when non-zero), the
// group's tags, then the contents in stored order. A key seen again
// replaces the earlier value in place. A content named __time__ is dropped:
// the reference removes __time__ from the body (the log time is the
// message's timestamp). ns is scratch space for the __time_ns_part__ digits.
func (grp *Group) Flatten(dst []Field, l *sls.Log, ns *[16]byte) []Field {
	dst = append(dst, Field{KeyTopic, grp.topic}, Field{KeySource, grp.source})
	if n := l.GetTimeNs(); n != 0 {
		digits := strconv.AppendUint(ns[:0], uint64(n), 10)
		dst = append(dst, Field{KeyTimeNsPart, unsafeString(digits)})
	}
	dst = append(dst, grp.tags...)
	contents := len(dst)
	// Every key before the contents starts with "__": a content key that
	// does not can only repeat an earlier content key. seen is a one-word
	// Bloom filter of those keys, so a key is searched for only when it
	// may be a repeat.
	var seen uint64
	for _, c := range l.Contents {
		k := c.GetKey()
		if len(k) >= 2 && k[0] == '_' && k[1] == '_' {
			if k == KeyTime {
				continue
			}
			dst = setField(dst, k, c.GetValue())
			continue
		}
		bit := keyBit(k)
		if seen&bit != 0 {
			dst = setFieldFrom(dst, contents, k, c.GetValue())
			continue
		}
		seen |= bit
		dst = append(dst, Field{k, c.GetValue()})
	}
	return dst
}

// keyBit hashes a key to one bit of a 64-bit set.
func keyBit(k string) uint64 {
	if len(k) == 0 {
		return 1
	}
	h := uint(len(k))*0x9e + uint(k[0])*7 + uint(k[len(k)-1])*31 + uint(k[len(k)/2])
	return 1 << (h & 63)
}

// setField replaces the value of key in fs, or appends it.
func setField(fs []Field, key, value string) []Field {
	return setFieldFrom(fs, 0, key, value)
}

// setFieldFrom replaces the value of key in fs[from:], or appends it.
func setFieldFrom(fs []Field, from int, key, value string) []Field {
	for i := from; i < len(fs); i++ {
		if fs[i].Key == key {
			fs[i].Value = value
			return fs
		}
	}
	return append(fs, Field{key, value})
}

// lookup returns the value of the first of keys present in fs with a
// non-empty value.
func lookup(fs []Field, keys []string) (string, bool) {
	for _, k := range keys {
		for i := range fs {
			if fs[i].Key == k {
				if fs[i].Value != "" {
					return fs[i].Value, true
				}
				break
			}
		}
	}
	return "", false
}

// unsafeString views b as a string without copying; b must not change while
// the string is in use.
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
