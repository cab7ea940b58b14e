package sample_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sls2siem/internal/localcloud/sample"
)

const goodMeta = `{"project":"p","logstore":"l","shards":1}`
const goodLine = `{"topic":"t","source":"1.2.3.4","tags":[["__pack_id__","A-1"]],"logs":[{"time":1,"timeNs":5,"contents":[["k","v"],["k","w"]]}]}`

func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadSmall(t *testing.T) {
	dir := writeDir(t, map[string]string{
		"logstore.json": goodMeta,
		"shard-0.jsonl": goodLine + "\n" + `{"topic":"","source":"","tags":[],"logs":[{"time":2,"contents":[]}]}`, // no final newline
	})
	ls, err := sample.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := &sample.Logstore{Project: "p", Logstore: "l", Shards: [][]sample.LogGroup{{
		{Topic: "t", Source: "1.2.3.4", Tags: []sample.Pair{{"__pack_id__", "A-1"}},
			Logs: []sample.Log{{Time: 1, TimeNs: 5, Contents: []sample.Pair{{"k", "v"}, {"k", "w"}}}}},
		{Logs: []sample.Log{{Time: 2}}},
	}}}
	if !reflect.DeepEqual(ls, want) {
		t.Fatalf("Load = %+v\nwant %+v", ls, want)
	}
	if n := ls.LogCount(); n != 2 {
		t.Errorf("LogCount = %d, want 2", n)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error
	}{
		{"no meta", map[string]string{"shard-0.jsonl": goodLine}, []string{"logstore.json"}},
		{"meta not JSON", map[string]string{"logstore.json": "{", "shard-0.jsonl": goodLine}, []string{"logstore.json"}},
		{"meta unknown field", map[string]string{"logstore.json": `{"project":"p","logstore":"l","shards":1,"x":1}`, "shard-0.jsonl": goodLine}, []string{"logstore.json", `"x"`}},
		{"zero shards", map[string]string{"logstore.json": `{"project":"p","logstore":"l","shards":0}`}, []string{"logstore.json", "shards"}},
		{"no project", map[string]string{"logstore.json": `{"logstore":"l","shards":1}`, "shard-0.jsonl": goodLine}, []string{"logstore.json", "project"}},
		{"missing shard file", map[string]string{"logstore.json": `{"project":"p","logstore":"l","shards":2}`, "shard-0.jsonl": goodLine}, []string{"shard-1.jsonl"}},
		{"extra shard file", map[string]string{"logstore.json": goodMeta, "shard-0.jsonl": goodLine, "shard-1.jsonl": goodLine}, []string{"shard-1.jsonl", "unexpected"}},
		{"empty shard", map[string]string{"logstore.json": goodMeta, "shard-0.jsonl": ""}, []string{"shard-0.jsonl", "no log groups"}},
		{"bad JSON line", map[string]string{"logstore.json": goodMeta, "shard-0.jsonl": goodLine + "\n{not json\n"}, []string{"shard-0.jsonl:2:"}},
		{"blank line", map[string]string{"logstore.json": goodMeta, "shard-0.jsonl": goodLine + "\n\n" + goodLine}, []string{"shard-0.jsonl:2:", "empty line"}},
		{"trailing data", map[string]string{"logstore.json": goodMeta, "shard-0.jsonl": goodLine + " {}"}, []string{"shard-0.jsonl:1:", "trailing"}},
		{"unknown field", map[string]string{"logstore.json": goodMeta, "shard-0.jsonl": `{"topic":"","source":"","tags":[],"logs":[{"time":1,"contents":[]}],"category":""}`}, []string{"shard-0.jsonl:1:", "category"}},
		{"missing topic", map[string]string{"logstore.json": goodMeta, "shard-0.jsonl": `{"source":"","tags":[],"logs":[{"time":1,"contents":[]}]}`}, []string{"shard-0.jsonl:1:", "topic"}},
		{"no logs", map[string]string{"logstore.json": goodMeta, "shard-0.jsonl": `{"topic":"","source":"","tags":[],"logs":[]}`}, []string{"shard-0.jsonl:1:", "no logs"}},
		{"missing time", map[string]string{"logstore.json": goodMeta, "shard-0.jsonl": `{"topic":"","source":"","tags":[],"logs":[{"contents":[]}]}`}, []string{"shard-0.jsonl:1:", "logs[0]", "time"}},
		{"time overflows", map[string]string{"logstore.json": goodMeta, "shard-0.jsonl": `{"topic":"","source":"","tags":[],"logs":[{"time":4294967296,"contents":[]}]}`}, []string{"shard-0.jsonl:1:"}},
		{"timeNs too big", map[string]string{"logstore.json": goodMeta, "shard-0.jsonl": `{"topic":"","source":"","tags":[],"logs":[{"time":1,"timeNs":1000000000,"contents":[]}]}`}, []string{"shard-0.jsonl:1:", "timeNs"}},
		{"pair of three", map[string]string{"logstore.json": goodMeta, "shard-0.jsonl": `{"topic":"","source":"","tags":[["a","b","c"]],"logs":[{"time":1,"contents":[]}]}`}, []string{"shard-0.jsonl:1:", "2 elements"}},
		{"pair with number", map[string]string{"logstore.json": goodMeta, "shard-0.jsonl": `{"topic":"","source":"","tags":[],"logs":[{"time":1,"contents":[["a",1]]}]}`}, []string{"shard-0.jsonl:1:", "string"}},
		{"pair with null", map[string]string{"logstore.json": goodMeta, "shard-0.jsonl": `{"topic":"","source":"","tags":[],"logs":[{"time":1,"contents":[[null,"v"]]}]}`}, []string{"shard-0.jsonl:1:", "string"}},
		{"pair as object", map[string]string{"logstore.json": goodMeta, "shard-0.jsonl": `{"topic":"","source":"","tags":[],"logs":[{"time":1,"contents":[{"k":"v"}]}]}`}, []string{"shard-0.jsonl:1:", "pair"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeDir(t, tt.files)
			_, err := sample.Load(dir)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestWriteLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	// A stale shard file from a larger logstore must not survive Write.
	if err := os.WriteFile(filepath.Join(dir, "shard-5.jsonl"), []byte(goodLine), 0o644); err != nil {
		t.Fatal(err)
	}
	want := sample.Generate(42, 3, 4)
	if err := want.Write(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "shard-5.jsonl")); !os.IsNotExist(err) {
		t.Errorf("stale shard-5.jsonl still exists (stat err %v)", err)
	}
	got, err := sample.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("Load(Write(ls)) differs from ls")
	}
}

func TestGeneratePanicsOnBadArguments(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Generate(1, 0, 1) did not panic")
		}
	}()
	sample.Generate(1, 0, 1)
}
