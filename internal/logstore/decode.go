package logstore

import (
	"errors"
	"fmt"
	"unsafe"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

// decoder turns the raw LogGroupList bytes of one pull into sls.LogGroup
// values without copying: every string aliases the buffer, and the structs
// come from chunks recycled from one batch to the next, so decoding
// allocates nothing per log in steady state (the SDK's own decoder costs
// tens of allocations per log). A decoder's output is valid until its
// next decode.
type decoder struct {
	groups   arena[sls.LogGroup]
	logs     arena[sls.Log]
	contents arena[sls.LogContent]
	tags     arena[sls.LogTag]
	strs     arena[string]
	u32s     arena[uint32]
	// Pointer slices handed out as Logs, Contents, LogTags and the result,
	// and how many of them each group and log owns.
	gptrs     []*sls.LogGroup
	lptrs     []*sls.Log
	cptrs     []*sls.LogContent
	tptrs     []*sls.LogTag
	nlogs     []int // per group
	ntags     []int // per group
	ncontents []int // per log
}

// arena hands out stable pointers to T from fixed-size chunks: a full
// chunk is never reallocated, so earlier pointers stay valid. reset keeps
// the chunks for the next batch.
type arena[T any] struct {
	chunks [][]T
	cur    int // index of the chunk in use
}

const chunkLen = 4096

func (a *arena[T]) new() *T {
	if len(a.chunks) == 0 {
		a.chunks = append(a.chunks, make([]T, 0, chunkLen))
	}
	c := a.chunks[a.cur]
	if len(c) == cap(c) {
		a.cur++
		if a.cur == len(a.chunks) {
			a.chunks = append(a.chunks, make([]T, 0, chunkLen))
		}
		c = a.chunks[a.cur]
	}
	var zero T
	c = append(c, zero)
	a.chunks[a.cur] = c
	return &c[len(c)-1]
}

// footprint is the memory the arena's chunks hold.
func (a *arena[T]) footprint() int64 {
	var zero T
	return int64(len(a.chunks)) * chunkLen * int64(unsafe.Sizeof(zero))
}

func (a *arena[T]) reset() {
	for i := range a.chunks[:min(a.cur+1, len(a.chunks))] {
		clear(a.chunks[i])
		a.chunks[i] = a.chunks[i][:0]
	}
	a.cur = 0
}

// footprint is the memory the decoder holds: its arenas and pointer
// slices (the strings alias the answer, counted by the caller).
func (d *decoder) footprint() int64 {
	const ptr = int64(unsafe.Sizeof(uintptr(0)))
	return d.groups.footprint() + d.logs.footprint() + d.contents.footprint() + d.tags.footprint() +
		d.strs.footprint() + d.u32s.footprint() +
		ptr*int64(cap(d.gptrs)+cap(d.lptrs)+cap(d.cptrs)+cap(d.tptrs)+cap(d.nlogs)+cap(d.ntags)+cap(d.ncontents))
}

// errMalformed prefixes every decoding error.
var errMalformed = errors.New("malformed LogGroupList from SLS")

func malformed(what string, err error) error {
	if err == nil {
		return fmt.Errorf("%w: %s", errMalformed, what)
	}
	return fmt.Errorf("%w: %s: %w", errMalformed, what, err)
}

// decode parses buf, a serialized LogGroupList. The groups it returns
// alias buf and the decoder's memory.
func (d *decoder) decode(buf []byte) ([]*sls.LogGroup, error) {
	d.groups.reset()
	d.logs.reset()
	d.contents.reset()
	d.tags.reset()
	d.strs.reset()
	d.u32s.reset()
	clear(d.gptrs)
	clear(d.lptrs)
	clear(d.cptrs)
	clear(d.tptrs)
	d.gptrs, d.lptrs, d.cptrs, d.tptrs = d.gptrs[:0], d.lptrs[:0], d.cptrs[:0], d.tptrs[:0]
	d.nlogs, d.ntags, d.ncontents = d.nlogs[:0], d.ntags[:0], d.ncontents[:0]
	for b := buf; len(b) > 0; {
		num, typ, n, err := tag(b)
		if err != nil {
			return nil, malformed("log group list", err)
		}
		if num != 1 {
			if n, err = skip(b); err != nil {
				return nil, malformed(fmt.Sprintf("log group list field %d", num), err)
			}
			b = b[n:]
			continue
		}
		if typ != 2 {
			return nil, malformed(fmt.Sprintf("log groups have wire type %d", typ), nil)
		}
		v, m, err := bytesField(b[n:])
		if err != nil {
			return nil, malformed("log group", err)
		}
		if err := d.group(v); err != nil {
			return nil, err
		}
		b = b[n+m:]
	}
	// The per-group Logs and LogTags and per-log Contents slices are cut
	// only now: appending may have moved the pointer arrays.
	li, ti := 0, 0
	for i, g := range d.gptrs {
		nl, nt := d.nlogs[i], d.ntags[i]
		if nl > 0 {
			g.Logs = d.lptrs[li : li+nl : li+nl]
		}
		if nt > 0 {
			g.LogTags = d.tptrs[ti : ti+nt : ti+nt]
		}
		li, ti = li+nl, ti+nt
	}
	ci := 0
	for i, l := range d.lptrs {
		nc := d.ncontents[i]
		if nc > 0 {
			l.Contents = d.cptrs[ci : ci+nc : ci+nc]
		}
		ci += nc
	}
	return d.gptrs, nil
}

func (d *decoder) str(b []byte) *string {
	s := d.strs.new()
	*s = unsafe.String(unsafe.SliceData(b), len(b))
	return s
}

func (d *decoder) group(b []byte) error {
	g := d.groups.new()
	d.gptrs = append(d.gptrs, g)
	nlogs, ntags := 0, 0
	for len(b) > 0 {
		num, typ, n, err := tag(b)
		if err != nil {
			return malformed("log group", err)
		}
		if num > 6 {
			if n, err = skip(b); err != nil {
				return malformed(fmt.Sprintf("log group field %d", num), err)
			}
			b = b[n:]
			continue
		}
		if typ != 2 {
			return malformed(fmt.Sprintf("log group field %d has wire type %d", num, typ), nil)
		}
		v, m, err := bytesField(b[n:])
		if err != nil {
			return malformed(fmt.Sprintf("log group field %d", num), err)
		}
		b = b[n+m:]
		switch num {
		case 1:
			if err := d.log(v); err != nil {
				return err
			}
			nlogs++
		case 6:
			k, val, err := pair(v)
			if err != nil {
				return err
			}
			t := d.tags.new()
			t.Key, t.Value = d.str(k), d.str(val)
			d.tptrs = append(d.tptrs, t)
			ntags++
		case 2:
			g.Category = d.str(v)
		case 3:
			g.Topic = d.str(v)
		case 4:
			g.Source = d.str(v)
		case 5:
			g.MachineUUID = d.str(v)
		}
	}
	d.nlogs = append(d.nlogs, nlogs)
	d.ntags = append(d.ntags, ntags)
	return nil
}

func (d *decoder) log(b []byte) error {
	l := d.logs.new()
	d.lptrs = append(d.lptrs, l)
	ncontents := 0
	hasTime := false
	for len(b) > 0 {
		num, typ, n, err := tag(b)
		if err != nil {
			return malformed("log", err)
		}
		switch {
		case num == 2 && typ == 2: // Contents
			v, m, err := bytesField(b[n:])
			if err != nil {
				return malformed("log content", err)
			}
			b = b[n+m:]
			k, val, err := pair(v)
			if err != nil {
				return err
			}
			c := d.contents.new()
			c.Key, c.Value = d.str(k), d.str(val)
			d.cptrs = append(d.cptrs, c)
			ncontents++
		case num == 1 && typ == 0: // Time
			v, m, err := varint(b[n:])
			if err != nil {
				return malformed("log time", err)
			}
			b = b[n+m:]
			t := d.u32s.new()
			*t = uint32(v)
			l.Time = t
			hasTime = true
		case num == 4 && typ == 5: // TimeNs
			v, m, err := fixed32(b[n:])
			if err != nil {
				return malformed("log time_ns", err)
			}
			b = b[n+m:]
			t := d.u32s.new()
			*t = v
			l.TimeNs = t
		case num == 1 || num == 2 || num == 4:
			return malformed(fmt.Sprintf("log field %d has wire type %d", num, typ), nil)
		default:
			if n, err = skip(b); err != nil {
				return malformed(fmt.Sprintf("log field %d", num), err)
			}
			b = b[n:]
		}
	}
	if !hasTime {
		return malformed("a log has no time (a required field)", nil)
	}
	d.ncontents = append(d.ncontents, ncontents)
	return nil
}

// pair parses a LogContent or LogTag: required string Key=1 and Value=2.
func pair(b []byte) (key, value []byte, err error) {
	hasKey, hasValue := false, false
	for len(b) > 0 {
		num, typ, n, err := tag(b)
		if err != nil {
			return nil, nil, malformed("key/value pair", err)
		}
		if num != 1 && num != 2 {
			if n, err = skip(b); err != nil {
				return nil, nil, malformed(fmt.Sprintf("key/value pair field %d", num), err)
			}
			b = b[n:]
			continue
		}
		if typ != 2 {
			return nil, nil, malformed(fmt.Sprintf("key/value pair field %d has wire type %d", num, typ), nil)
		}
		v, m, err := bytesField(b[n:])
		if err != nil {
			return nil, nil, malformed("key/value pair", err)
		}
		b = b[n+m:]
		if num == 1 {
			key, hasKey = v, true
		} else {
			value, hasValue = v, true
		}
	}
	if !hasKey || !hasValue {
		return nil, nil, malformed("a key/value pair lacks its key or value (required fields)", nil)
	}
	return key, value, nil
}
