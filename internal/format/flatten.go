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

// Group holds the fields a log group contributes to each of its logs,
// computed once per group.
type Group struct {
	topic, source string
	tags          []Field
}

// NewGroup prepares g for flattening. Tags are keyed __tag__:KEY; a repeated
// tag key keeps its first position and takes the last value.
func NewGroup(g *sls.LogGroup) *Group {
	grp := &Group{topic: g.GetTopic(), source: g.GetSource()}
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
	for _, c := range l.Contents {
		k := c.GetKey()
		if k == KeyTime {
			continue
		}
		dst = setField(dst, k, c.GetValue())
	}
	return dst
}

// setField replaces the value of key in fs, or appends it.
func setField(fs []Field, key, value string) []Field {
	for i := range fs {
		if fs[i].Key == key {
			fs[i].Value = value
			return fs
		}
	}
	return append(fs, Field{key, value})
}

// unsafeString views b as a string without copying; b must not change while
// the string is in use.
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
