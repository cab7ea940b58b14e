package format

import (
	"strconv"
	"testing"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"
)

// Scaling benchmarks: one log of N fields per iteration, reported as
// ns/field, which must stay flat (within 2×) from 10 to 40 000 fields:
// per-log work is linear in the log's size.

var scaleSizes = []int{10, 100, 1000, 10000, 40000}

// scaleLog returns a log of n fields named by name(i).
func scaleLog(n int, name func(i int) string) *sls.Log {
	kv := make([]string, 0, 2*n)
	for i := range n {
		kv = append(kv, name(i), "value-"+strconv.Itoa(i))
	}
	return &sls.Log{Time: proto.Uint32(1732500000), TimeNs: proto.Uint32(5), Contents: pairs(kv...)}
}

// benchScale encodes logs in turn, n fields each.
func benchScale(b *testing.B, o Options, n int, logs ...*sls.Log) {
	o.Hostname, o.AppName, o.EscapeBreaks = "host", "app", true
	o.Vendor, o.Product, o.Version = "Alibaba Cloud", "SLS", "1.0"
	enc := NewEncoder(o)
	grp := enc.NewGroup(testGroup(), "")
	var buf []byte
	for _, l := range logs {
		buf, _ = enc.Append(buf[:0], grp, 0, l)
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		buf, _ = enc.Append(buf[:0], grp, 0, logs[i%len(logs)])
		i++
	}
	b.SetBytes(int64(len(buf)))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/field")
}

// distinctName is an ordinary field name, valid as a CEF key.
func distinctName(i int) string { return "field" + strconv.Itoa(i) }

// BenchmarkFields: N distinct fields, per body.
func BenchmarkFields(b *testing.B) {
	for _, body := range []string{BodyKV, BodyJSON, BodyCEF, BodyLEEF} {
		for _, n := range scaleSizes {
			l := scaleLog(n, distinctName)
			b.Run(body+"/"+strconv.Itoa(n), func(b *testing.B) { benchScale(b, Options{Body: body}, n, l) })
		}
	}
}

// BenchmarkFieldsRepeated: N fields, each name twice (the second
// occurrence replaces the first in place, like the reference's dict).
func BenchmarkFieldsRepeated(b *testing.B) {
	for _, n := range scaleSizes {
		l := scaleLog(n, func(i int) string { return distinctName(i % max(1, n/2)) })
		b.Run(strconv.Itoa(n), func(b *testing.B) { benchScale(b, Options{}, n, l) })
	}
}

// sameKeyName is the i-th of many distinct names that all clean up to the
// CEF/LEEF key "k": "k" followed by punctuation.
func sameKeyName(i int) string {
	const punct = ".-_:/@#%+,;~!?*"
	b := []byte{'k'}
	for {
		b = append(b, punct[i%len(punct)])
		i /= len(punct)
		if i == 0 {
			return string(b)
		}
		i--
	}
}

// BenchmarkCEFSameKey: N distinct fields whose names all clean up to the
// same CEF key. Two logs with different names alternate, so that no log
// repeats its predecessor's names (which the encoder remembers).
func BenchmarkCEFSameKey(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 4000} {
		l1 := scaleLog(n, sameKeyName)
		l2 := scaleLog(n, func(i int) string { return sameKeyName(i + n) })
		b.Run(strconv.Itoa(n), func(b *testing.B) { benchScale(b, Options{Body: BodyCEF}, n, l1, l2) })
	}
}
