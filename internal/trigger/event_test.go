package trigger

import (
	"encoding/json"
	"strings"
	"testing"
)

const valid = `{"cursorTime":1732500000,"jobName":"job","parameter":{"k":"v"},
 "source":{"beginCursor":"MTYwMDAwMDAwMDAwMDAwMDAwMA==","endCursor":"MTYwMDAwMDAwMDAwMDAwMDEwMA==",
 "endpoint":"http://cn-hangzhou-intranet.log.aliyuncs.com","logstoreName":"audit","projectName":"demo","shardId":1},
 "taskId":"t-1"}`

func TestParseValid(t *testing.T) {
	e, err := Parse([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	s := e.Source
	if s.ProjectName != "demo" || s.LogstoreName != "audit" || s.ShardID != 1 ||
		s.BeginCursor != "MTYwMDAwMDAwMDAwMDAwMDAwMA==" || s.EndCursor != "MTYwMDAwMDAwMDAwMDAwMDEwMA==" ||
		s.Endpoint != "http://cn-hangzhou-intranet.log.aliyuncs.com" {
		t.Errorf("source = %+v", s)
	}
	if e.CursorTime != 1732500000 || e.JobName != "job" || e.TaskID != "t-1" || string(e.Parameter) != `{"k":"v"}` {
		t.Errorf("event = %+v", e)
	}
}

func TestParseRejectsBadInput(t *testing.T) {
	fields := []string{"projectName", "logstoreName", "endpoint", "shardId", "beginCursor", "endCursor"}
	cases := map[string]struct{ in, want string }{
		"empty":       {"", "event is empty"},
		"not json":    {"{source:", "not valid JSON"},
		"array":       {"[1]", "want an object"},
		"no source":   {`{"taskId":"x"}`, "field source is missing"},
		"shard type":  {strings.Replace(valid, `"shardId":1`, `"shardId":"1"`, 1), "source.shardId is a JSON string: want a whole number"},
		"cursor type": {strings.Replace(valid, `"beginCursor":"MTYwMDAwMDAwMDAwMDAwMDAwMA=="`, `"beginCursor":7`, 1), "source.beginCursor is a JSON number: want a string"},
		"neg shard":   {strings.Replace(valid, `"shardId":1`, `"shardId":-1`, 1), "source.shardId is -1"},
		"endpoint":    {strings.Replace(valid, `http://cn-hangzhou-intranet.log.aliyuncs.com`, `ftp://x/y`, 1), "source.endpoint is"},
	}
	for _, f := range fields {
		cases["missing "+f] = struct{ in, want string }{removeField(t, f), "field source." + f + " is missing"}
		if f != "shardId" {
			cases["empty "+f] = struct{ in, want string }{emptyField(t, f), "field source." + f + " is empty"}
		}
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(c.in))
			if err == nil {
				t.Fatalf("Parse accepted %q", c.in)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

// removeField deletes source.name from the valid event.
func removeField(t *testing.T, name string) string {
	return editSource(t, func(src map[string]any) { delete(src, name) })
}

// emptyField sets source.name to "".
func emptyField(t *testing.T, name string) string {
	return editSource(t, func(src map[string]any) { src[name] = "" })
}

func editSource(t *testing.T, edit func(map[string]any)) string {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal([]byte(valid), &ev); err != nil {
		t.Fatal(err)
	}
	edit(ev["source"].(map[string]any))
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
