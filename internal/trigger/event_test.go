package trigger

import (
	"encoding/json"
	"strings"
	"testing"

	"sls2siem/internal/trust"
)

var allowed = func() trust.Endpoints {
	e, err := trust.ParseEndpoints(trust.DefaultAllowed, true)
	if err != nil {
		panic(err)
	}
	return e
}()

const valid = `{"cursorTime":1732500000,"jobName":"job","parameter":{"k":"v"},
 "source":{"beginCursor":"MTYwMDAwMDAwMDAwMDAwMDAwMA==","endCursor":"MTYwMDAwMDAwMDAwMDAwMDEwMA==",
 "endpoint":"http://cn-hangzhou-intranet.log.aliyuncs.com","logstoreName":"audit","projectName":"demo","shardId":1},
 "taskId":"t-1"}`

func TestParseValid(t *testing.T) {
	e, err := Parse([]byte(valid), allowed)
	if err != nil {
		t.Fatal(err)
	}
	s := e.Source
	if s.ProjectName != "demo" || s.LogstoreName != "audit" || s.ShardID != 1 ||
		s.BeginCursor != "MTYwMDAwMDAwMDAwMDAwMDAwMA==" || s.EndCursor != "MTYwMDAwMDAwMDAwMDAwMDEwMA==" ||
		s.Endpoint != "https://cn-hangzhou-intranet.log.aliyuncs.com" {
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
		"big shard":   {strings.Replace(valid, `"shardId":1`, `"shardId":99999999`, 1), "source.shardId is 99999999: want a shard number from 0 to"},
		"loopback":    {strings.Replace(valid, `http://cn-hangzhou-intranet.log.aliyuncs.com`, `127.0.0.1:43555`, 1), "source.endpoint is \"127.0.0.1:43555\": host 127.0.0.1 is not allowed by SLS_ALLOWED_ENDPOINTS"},
		"foreign":     {strings.Replace(valid, `cn-hangzhou-intranet.log.aliyuncs.com`, `log.evil.example`, 1), "not allowed by SLS_ALLOWED_ENDPOINTS"},
		"inject":      {strings.Replace(valid, `"projectName":"demo"`, `"projectName":"127.0.0.1:43555?"`, 1), "source.projectName is \"127.0.0.1:43555?\": want an SLS project name"},
		"slash":       {strings.Replace(valid, `"projectName":"demo"`, `"projectName":"a/b"`, 1), "source.projectName is \"a/b\""},
		"at":          {strings.Replace(valid, `"projectName":"demo"`, `"projectName":"a@bcd"`, 1), "source.projectName is"},
		"dotted":      {strings.Replace(valid, `"projectName":"demo"`, `"projectName":"x.127.0.0.1"`, 1), "source.projectName is"},
		"upper":       {strings.Replace(valid, `"projectName":"demo"`, `"projectName":"Demo"`, 1), "source.projectName is"},
		"label":       {strings.Replace(valid, `"projectName":"demo"`, `"projectName":"a..b"`, 1), "source.projectName is"},
		"logstore":    {strings.Replace(valid, `"logstoreName":"audit"`, `"logstoreName":"audit?x=1"`, 1), "source.logstoreName is \"audit?x=1\": want an SLS logstore name"},
		"cursor":      {strings.Replace(valid, `"beginCursor":"MTYwMDAwMDAwMDAwMDAwMDAwMA=="`, `"beginCursor":"abc&type=x"`, 1), "source.beginCursor is \"abc&type=x\": want an SLS cursor"},
	}
	for _, f := range fields {
		cases["missing "+f] = struct{ in, want string }{removeField(t, f), "field source." + f + " is missing"}
		if f != "shardId" {
			cases["empty "+f] = struct{ in, want string }{emptyField(t, f), "field source." + f + " is empty"}
		}
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(c.in), allowed)
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
