package sample_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	sls "github.com/aliyun/aliyun-log-go-sdk"

	"sls2siem/internal/localcloud/sample"
)

// committedDir is testdata/logstore at the module root.
var committedDir = filepath.Join("..", "..", "..", "testdata", "logstore")

// Parameters recorded in doc.go and gen/main.go for the committed sample.
const (
	seed   = 20261124
	shards = 2
	groups = 100
)

// loadCommitted loads the committed sample once per test binary; callers
// must not modify it.
var loadCommitted = func() func(t *testing.T) *sample.Logstore {
	var (
		once sync.Once
		ls   *sample.Logstore
		err  error
	)
	return func(t *testing.T) *sample.Logstore {
		t.Helper()
		once.Do(func() { ls, err = sample.Load(committedDir) })
		if err != nil {
			t.Fatalf("Load(%s): %v", committedDir, err)
		}
		return ls
	}
}()

func TestDefaultsMatchRecordedParameters(t *testing.T) {
	if sample.DefaultSeed != seed || sample.DefaultShards != shards || sample.DefaultGroupsPerShard != groups {
		t.Fatalf("defaults = (%d, %d, %d), want (%d, %d, %d) as recorded in the gen command",
			sample.DefaultSeed, sample.DefaultShards, sample.DefaultGroupsPerShard, seed, shards, groups)
	}
}

func TestCommittedMatchesGenerate(t *testing.T) {
	got := loadCommitted(t)
	want := sample.Generate(seed, shards, groups)
	if got.Project != "sls2siem-demo" || got.Logstore != "audit" {
		t.Errorf("project/logstore = %q/%q, want sls2siem-demo/audit", got.Project, got.Logstore)
	}
	if len(got.Shards) != shards {
		t.Fatalf("got %d shards, want %d", len(got.Shards), shards)
	}
	for i, gs := range got.Shards {
		if len(gs) != groups {
			t.Errorf("shard %d has %d groups, want %d", i, len(gs), groups)
		}
	}
	if n := got.LogCount(); n != 3000 {
		t.Errorf("LogCount = %d, want 3000", n)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("committed testdata/logstore differs from Generate; regenerate with the command in doc.go")
	}

	// Byte for byte: the files Write produces are the committed files.
	dir := t.TempDir()
	if err := want.Write(dir); err != nil {
		t.Fatal(err)
	}
	names := []string{sample.MetaFile}
	for i := range shards {
		names = append(names, sample.ShardFile(i))
	}
	for _, name := range names {
		a, err := os.ReadFile(filepath.Join(committedDir, name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: committed file differs from Write output", name)
		}
	}
	meta, _ := os.ReadFile(filepath.Join(committedDir, sample.MetaFile))
	if string(meta) != `{"project":"sls2siem-demo","logstore":"audit","shards":2}`+"\n" {
		t.Errorf("logstore.json = %q", meta)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	a := sample.Generate(7, 2, 10)
	b := sample.Generate(7, 2, 10)
	if !reflect.DeepEqual(a, b) {
		t.Error("Generate with the same arguments gave different data")
	}
	c := sample.Generate(8, 2, 10)
	if reflect.DeepEqual(a, c) {
		t.Error("Generate with different seeds gave the same data")
	}
	if n := a.LogCount(); n != 2*10*15 {
		t.Errorf("LogCount = %d, want %d", n, 2*10*15)
	}
}

// TestLinesRoundTrip checks every committed line: decoding and encoding it
// gives the same bytes, and so does a trip through the SDK's protobuf.
func TestLinesRoundTrip(t *testing.T) {
	for i := range shards {
		path := filepath.Join(committedDir, sample.ShardFile(i))
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 16<<20)
		for n := 1; sc.Scan(); n++ {
			line := sc.Bytes()
			g, err := sample.DecodeGroup(line)
			if err != nil {
				t.Fatalf("%s:%d: %v", path, n, err)
			}
			again, err := sample.EncodeGroup(g)
			if err != nil {
				t.Fatalf("%s:%d: %v", path, n, err)
			}
			if !bytes.Equal(again, line) {
				t.Fatalf("%s:%d: re-encoded line differs:\n got %s\nwant %s", path, n, again, line)
			}

			pb := g.SLS()
			for j, l := range pb.Logs {
				if (l.TimeNs != nil) != (g.Logs[j].TimeNs != 0) {
					t.Fatalf("%s:%d: log %d: TimeNs set = %v, but TimeNs = %d", path, n, j, l.TimeNs != nil, g.Logs[j].TimeNs)
				}
			}
			wire, err := pb.Marshal()
			if err != nil {
				t.Fatalf("%s:%d: marshal: %v", path, n, err)
			}
			var back sls.LogGroup
			if err := back.Unmarshal(wire); err != nil {
				t.Fatalf("%s:%d: unmarshal: %v", path, n, err)
			}
			if got := sample.FromSLS(&back); !reflect.DeepEqual(got, g) {
				t.Fatalf("%s:%d: protobuf round trip differs:\n got %+v\nwant %+v", path, n, got, g)
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// features records which tricky properties a shard's data has.
type features map[string]bool

func scan(gs []sample.LogGroup) (features, int, int) {
	f := features{}
	var logs, withNs int
	has := func(name string, cond bool) {
		if cond {
			f[name] = true
		}
	}
	for _, g := range gs {
		has("empty topic", g.Topic == "")
		has("topic "+g.Topic, g.Topic != "")
		for _, tag := range g.Tags {
			has("tag "+tag.Key, true)
		}
		for _, l := range g.Logs {
			logs++
			if l.TimeNs != 0 {
				withNs++
			}
			has("zero timeNs", l.TimeNs == 0)
			has("non-zero timeNs", l.TimeNs != 0)
			seen := map[string]bool{}
			for _, c := range l.Contents {
				has("repeated key", seen[c.Key])
				seen[c.Key] = true
				has("tag-like key", strings.HasPrefix(c.Key, "__") || strings.HasPrefix(c.Key, "__tag__:"))
				has("empty value", c.Value == "")
				for _, s := range []string{c.Key, c.Value} {
					has("invalid UTF-8", !utf8.ValidString(s))
					has("LF", strings.Contains(s, "\n"))
					has("CRLF", strings.Contains(s, "\r\n"))
					has("tab", strings.Contains(s, "\t"))
					has("]", strings.Contains(s, "]"))
					has("|", strings.Contains(s, "|"))
					has("||", strings.Contains(s, "||"))
					has("=", strings.Contains(s, "="))
					has(`"`, strings.Contains(s, `"`))
					has(`\`, strings.Contains(s, `\`))
					has("query a=b|c", strings.Contains(s, "?q=a=b|c"))
					for _, r := range s {
						has("Chinese", unicode.Is(unicode.Han, r))
						has("accented", r >= 0xC0 && r <= 0x17F)
						has("emoji", r >= 0x1F300 && r <= 0x1FAFF)
					}
				}
			}
		}
	}
	return f, logs, withNs
}

func TestCorpusFeatures(t *testing.T) {
	ls := loadCommitted(t)
	want := []string{
		"empty topic", "topic actiontrail_audit_event", "topic nginx_access", "topic slb_layer7_access_log",
		"tag __hostname__", "tag __path__", "tag __pack_id__", "tag __receive_time__", "tag __client_ip__",
		"zero timeNs", "non-zero timeNs", "repeated key", "tag-like key", "empty value",
		"LF", "CRLF", "tab", "]", "|", "||", "=", `"`, `\`, "query a=b|c",
		"Chinese", "accented", "emoji",
	}
	for i, gs := range ls.Shards {
		f, logs, withNs := scan(gs)
		for _, name := range want {
			if !f[name] {
				t.Errorf("shard %d has no %s", i, name)
			}
		}
		if f["invalid UTF-8"] {
			t.Errorf("shard %d has invalid UTF-8", i)
		}
		if withNs*10 < logs*8 {
			t.Errorf("shard %d: only %d of %d logs have a nanosecond part, want most", i, withNs, logs)
		}
	}
}

// TestRepeatedKeyEdgeLog pins the log that tests of flattening rely on.
func TestRepeatedKeyEdgeLog(t *testing.T) {
	ls := loadCommitted(t)
	for i, gs := range ls.Shards {
		l := gs[2].Logs[0]
		want := []sample.Pair{{"level", "INFO"}, {"msg", "retry scheduled"}, {"level", "WARN"}, {"attempt", "3"}}
		if !reflect.DeepEqual(l.Contents, want) || l.TimeNs != 0 || gs[2].Topic != "" {
			t.Errorf("shard %d group 2 log 0 = %+v (topic %q), want contents %v, timeNs 0, empty topic", i, l, gs[2].Topic, want)
		}
	}
}

func TestTimesWithinOneDayAndIncreasing(t *testing.T) {
	const day = 1795478400 // 2026-11-24T00:00:00Z
	ls := loadCommitted(t)
	for i, gs := range ls.Shards {
		var prevFirst uint32
		for j, g := range gs {
			if g.Logs[0].Time <= prevFirst {
				t.Errorf("shard %d group %d starts at %d, not after the previous group (%d)", i, j, g.Logs[0].Time, prevFirst)
			}
			prevFirst = g.Logs[0].Time
			var recv string
			for _, tag := range g.Tags {
				if tag.Key == "__receive_time__" {
					recv = tag.Value
				}
			}
			r, err := strconv.ParseUint(recv, 10, 32)
			if err != nil {
				t.Fatalf("shard %d group %d: __receive_time__ %q: %v", i, j, recv, err)
			}
			for k, l := range g.Logs {
				if l.Time < day-2 || l.Time > day+86400+2 {
					t.Errorf("shard %d group %d log %d: time %d outside the sample day", i, j, k, l.Time)
				}
				if uint64(l.Time) >= r {
					t.Errorf("shard %d group %d log %d: time %d not before __receive_time__ %d", i, j, k, l.Time, r)
				}
				if l.TimeNs >= 1e9 {
					t.Errorf("shard %d group %d log %d: timeNs %d", i, j, k, l.TimeNs)
				}
			}
		}
	}
}
