package format

import (
	"hash/maphash"
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
	var m map[string]int // many tags: a map keeps this linear
	if len(g.LogTags) > indexFrom {
		m = make(map[string]int, len(g.LogTags))
	}
	for _, t := range g.LogTags {
		k := TagPrefix + t.GetKey()
		if m == nil {
			grp.tags = setField(grp.tags, k, t.GetValue())
		} else if i, ok := m[k]; ok {
			grp.tags[i].Value = t.GetValue()
		} else {
			m[k] = len(grp.tags)
			grp.tags = append(grp.tags, Field{k, t.GetValue()})
		}
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
	var idx fieldIndex
	dst, _ = grp.flatten(dst, l, ns, &idx)
	return dst
}

// indexFrom is the number of fields above which flatten finds repeated
// keys with idx: below it, a linear search costs less than hashing.
const indexFrom = 64

// fieldIndex finds a key among the fields being flattened: an open-
// addressing hash table of positions, one hash per key. A log of n fields
// uses (and first clears) only the first 1.5n slots, rounded up to a power
// of two, so a large table left by a large log costs later logs nothing;
// slots are 4 bytes, so that large logs stay in the caches. A slot also
// holds 8 bits of its key's hash, so that probing rarely reads another
// field's key. It holds positions, never the log's strings.
type fieldIndex struct {
	slots []uint32 // tag<<24 | position+1; 0 is empty
	mask  int
	seed  maphash.Seed
}

// maxIndexed is the most fields a fieldIndex takes (24-bit positions).
const maxIndexed = 1<<24 - 1

// begin starts a log of at most n (<= maxIndexed) distinct keys.
func (x *fieldIndex) begin(n int) {
	size := 128
	for size < n+n/2 {
		size *= 2
	}
	if size > len(x.slots) {
		if x.slots == nil {
			x.seed = maphash.MakeSeed()
		}
		x.slots = make([]uint32, size)
	} else {
		clear(x.slots[:size])
	}
	x.mask = size - 1
}

// lookupOrAdd returns the position of key k in fs, or records pos for it
// and returns -1.
func (x *fieldIndex) lookupOrAdd(fs []Field, k string, pos int) int {
	h := maphash.String(x.seed, k)
	tag := uint32(h>>56) << 24
	for i := int(h) & x.mask; ; i = (i + 1) & x.mask {
		s := x.slots[i]
		if s == 0 {
			x.slots[i] = tag | uint32(pos+1)
			return -1
		}
		if s&0xff000000 == tag {
			if p := int(s&0xffffff) - 1; fs[p].Key == k {
				return p
			}
		}
	}
}

// lookup returns the position of key k in fs, as indexed since the last
// begin, or -1.
func (x *fieldIndex) lookup(fs []Field, k string) int {
	h := maphash.String(x.seed, k)
	tag := uint32(h>>56) << 24
	for i := int(h) & x.mask; ; i = (i + 1) & x.mask {
		s := x.slots[i]
		if s == 0 {
			return -1
		}
		if s&0xff000000 == tag {
			if p := int(s&0xffffff) - 1; fs[p].Key == k {
				return p
			}
		}
	}
}

func (grp *Group) flatten(dst []Field, l *sls.Log, ns *[16]byte, idx *fieldIndex) (_ []Field, indexed bool) {
	base := len(dst)
	dst = append(dst, Field{KeyTopic, grp.topic}, Field{KeySource, grp.source})
	if n := l.GetTimeNs(); n != 0 {
		digits := strconv.AppendUint(ns[:0], uint64(n), 10)
		dst = append(dst, Field{KeyTimeNsPart, unsafeString(digits)})
	}
	dst = append(dst, grp.tags...)
	contents := len(dst)
	if n := len(dst) - base + len(l.Contents); n > indexFrom && idx != nil {
		if n > maxIndexed {
			return flattenMap(dst, base, l), false
		}
		return flattenIndexed(dst, base, l, idx, n), true
	}
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
			dst = setFieldFrom(dst, base, k, c.GetValue())
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
	return dst, false
}

// flattenIndexed appends the contents of a long log to dst, whose fields
// from base on have distinct keys, finding repeated keys with idx: the
// work stays linear.
func flattenIndexed(dst []Field, base int, l *sls.Log, idx *fieldIndex, n int) []Field {
	idx.begin(n)
	for i := base; i < len(dst); i++ {
		idx.lookupOrAdd(dst, dst[i].Key, i)
	}
	for _, c := range l.Contents {
		k := c.GetKey()
		if k == KeyTime {
			continue
		}
		if i := idx.lookupOrAdd(dst, k, len(dst)); i >= 0 {
			dst[i].Value = c.GetValue()
			continue
		}
		dst = append(dst, Field{k, c.GetValue()})
	}
	return dst
}

// flattenMap is flattenIndexed with a map, for logs too long for a
// fieldIndex.
func flattenMap(dst []Field, base int, l *sls.Log) []Field {
	m := make(map[string]int, len(dst)-base+len(l.Contents))
	for i := base; i < len(dst); i++ {
		m[dst[i].Key] = i
	}
	for _, c := range l.Contents {
		k := c.GetKey()
		if k == KeyTime {
			continue
		}
		if i, ok := m[k]; ok {
			dst[i].Value = c.GetValue()
			continue
		}
		m[k] = len(dst)
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

// unsafeString views b as a string without copying; b must not change while
// the string is in use.
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
