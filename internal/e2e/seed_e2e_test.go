package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"sls2siem/internal/localcloud/sample"
)

// The expected message body, computed here from the loaded data the way
// Alibaba's reference function computes it (loggroups_to_flattern_list:
// an insertion-ordered dict with __time__, __topic__, __source__, the
// non-zero __time_ns_part__, the tags, then the contents; a repeated key
// keeps its place and takes the new value; then __time__ is deleted and
// each pair written as "||k=v"). It deliberately shares no code with
// internal/format.

type orderedDict struct {
	keys []string
	vals map[string]string
}

func (d *orderedDict) set(k, v string) {
	if d.vals == nil {
		d.vals = map[string]string{}
	}
	if _, ok := d.vals[k]; !ok {
		d.keys = append(d.keys, k)
	}
	d.vals[k] = v
}

func (d *orderedDict) del(k string) {
	delete(d.vals, k)
	for i, key := range d.keys {
		if key == k {
			d.keys = append(d.keys[:i:i], d.keys[i+1:]...)
			return
		}
	}
}

func seedBody(g sample.LogGroup, l sample.Log) string {
	var d orderedDict
	d.set("__time__", strconv.FormatUint(uint64(l.Time), 10))
	d.set("__topic__", g.Topic)
	d.set("__source__", g.Source)
	if l.TimeNs != 0 {
		d.set("__time_ns_part__", strconv.FormatUint(uint64(l.TimeNs), 10))
	}
	tags := orderedDict{}
	for _, t := range g.Tags {
		tags.set("__tag__:"+t.Key, t.Value)
	}
	for _, k := range tags.keys {
		d.set(k, tags.vals[k])
	}
	for _, c := range l.Contents {
		d.set(c.Key, c.Value)
	}
	d.del("__time__")
	var b strings.Builder
	for _, k := range d.keys {
		b.WriteString("||" + k + "=" + d.vals[k])
	}
	return b.String()
}

// lfEscaped is the documented LF-framing rule: CR, LF and NUL inside a
// message are written as \r, \n and \0 so a log stays one message.
func lfEscaped(s string) string {
	return strings.NewReplacer("\n", `\n`, "\r", `\r`, "\x00", `\0`).Replace(s)
}

// expectedLog is one log of the sample with its place and its message.
type expectedLog struct {
	shard, index int
	body         string
	time         time.Time
}

// expectations indexes the sample's logs by expected body; a body that
// occurs more than once maps to its occurrences in order.
func expectations(data *sample.Logstore, body func(string) string) (map[string][]expectedLog, int) {
	m := map[string][]expectedLog{}
	n := 0
	for shard, groups := range data.Shards {
		i := 0
		for _, g := range groups {
			for _, l := range g.Logs {
				b := body(seedBody(g, l))
				ts := time.Unix(int64(l.Time), int64(l.TimeNs)/1000*1000).UTC()
				m[b] = append(m[b], expectedLog{shard: shard, index: i, body: b, time: ts})
				i++
				n++
			}
		}
	}
	return m, n
}

func randomHex(t testing.TB) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
