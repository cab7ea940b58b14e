package slsemu

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// opNames maps the operation names of the API reference to the emulator's
// where they differ.
var opNames = map[string]string{
	"ConsumerGroupHeartBeat":        OpHeartBeat,
	"ConsumerGroupUpdateCheckPoint": OpUpdateCheckpoint,
}

// TestOperationTable holds the emulator to the SLS operation table of
// docs/local-cloud.md: every listed request is sent, and the answer must be
// what the table says (served by the named operation; the query API's
// IndexConfigNotExist; or the JSON ParameterInvalid of an operation the
// emulator does not implement).
func TestOperationTable(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/local-cloud.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| \\[?(\\w+)\\]?(?:\\([^)]*\\))? \\| `(GET|POST|PUT|DELETE) ([^`]+)` \\| ([^|]+?) \\|")
	rows := row.FindAllStringSubmatch(string(doc), -1)
	if len(rows) < 190 {
		t.Fatalf("the table lists %d operations; the API 2020-12-30 has 197", len(rows))
	}

	s, addr := startServer(t, 1)
	c := newClient(t, addr, longAK, longSecret, "")
	createGroup(t, c, 60)
	subst := strings.NewReplacer("{logstore}", testLogstore, "{logStore}", testLogstore, "{logstoreName}", testLogstore,
		"{shardId}", "0", "{shard}", "0", "{consumerGroup}", testGroupName)
	placeholder := regexp.MustCompile(`\{\w+\}`)
	now := time.Now()
	seen := map[string]bool{}
	for _, r := range rows {
		name, method, path, status := r[1], r[2], r[3], r[4]
		if seen[name] {
			t.Errorf("%s listed twice", name)
		}
		seen[name] = true
		uri := placeholder.ReplaceAllString(subst.Replace(path), "x")
		var body []byte
		if method == "POST" || method == "PUT" {
			body = []byte(`{}`)
		}
		op := name
		if o, ok := opNames[name]; ok {
			op = o
		}
		before := s.Requests(op)
		unknown, query := s.Requests(OpUnknown), s.Requests(OpGetLogs)
		st, eb, _ := newV1Request(t, method, uri, body, now).send(t, addr, "", nil)
		what := name + " " + method + " " + uri
		switch status {
		case "implemented", "partial":
			if s.Requests(op) != before+1 || s.Requests(OpUnknown) != unknown {
				t.Errorf("%s (%s in the table): not served as %s: %d %s %s", what, status, op, st, eb.Code, eb.Message)
			}
		case "not implemented: query":
			if s.Requests(OpGetLogs) != query+1 || st != 400 || eb.Code != codeIndexConfigNotExist {
				t.Errorf("%s: %d %s, want 400 %s", what, st, eb.Code, codeIndexConfigNotExist)
			}
		case "not implemented":
			if s.Requests(OpUnknown) != unknown+1 || st != 400 || eb.Code != codeParameterInvalid || !strings.Contains(eb.Message, "does not implement") {
				t.Errorf("%s: %d %s (%s), want the JSON ParameterInvalid of an unimplemented operation", what, st, eb.Code, eb.Message)
			}
		default:
			t.Errorf("%s: unknown status %q in the table", name, status)
		}
	}

	// Every operation the emulator serves is in the table as such.
	for _, op := range []string{"ListShards", "GetCursor", "GetCursorTime", "PullLogs", "PutLogs", "ListLogStores", "GetLogStore",
		"ListConsumerGroup", "CreateConsumerGroup", "UpdateConsumerGroup", "DeleteConsumerGroup",
		"ConsumerGroupHeartBeat", "ConsumerGroupUpdateCheckPoint", "GetCheckPoint", "GetLogs", "GetHistograms", "GetLogsV2"} {
		if !seen[op] {
			t.Errorf("%s is missing from the table", op)
		}
	}
}
