package sample_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/aliyun/fc-runtime-go-sdk/events"
)

var eventsDir = filepath.Join("..", "..", "..", "testdata", "events")

// firstCursor is the cursor of the first group of every emulated shard.
const firstCursor = 1600000000000000000

func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(eventsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func decodeEvent(data []byte) (*events.SlsEvent, error) {
	var ev events.SlsEvent
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(&ev)
	return &ev, err
}

func cursorNumber(t *testing.T, c string) int64 {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		t.Fatalf("cursor %q: %v", c, err)
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		t.Fatalf("cursor %q: %v", c, err)
	}
	return n
}

func TestTriggerEventMatchesSample(t *testing.T) {
	ev, err := decodeEvent(readEvent(t, "sls-trigger.json"))
	if err != nil {
		t.Fatalf("sls-trigger.json: %v", err)
	}
	if ev.Source == nil || ev.Source.ShardID == nil || ev.Source.BeginCursor == nil || ev.Source.EndCursor == nil ||
		ev.Source.Endpoint == nil || ev.Source.ProjectName == nil || ev.Source.LogstoreName == nil ||
		ev.CursorTime == nil || ev.JobName == nil || ev.TaskID == nil {
		t.Fatalf("sls-trigger.json lacks fields: %+v", ev)
	}
	ls := loadCommitted(t)
	src := ev.Source
	if *src.ProjectName != ls.Project || *src.LogstoreName != ls.Logstore || *src.ShardID != 0 {
		t.Errorf("source = %s/%s shard %d, want %s/%s shard 0", *src.ProjectName, *src.LogstoreName, *src.ShardID, ls.Project, ls.Logstore)
	}
	if *src.Endpoint != "http://cn-hangzhou-intranet.log.aliyuncs.com" {
		t.Errorf("endpoint = %q", *src.Endpoint)
	}
	begin, end := cursorNumber(t, *src.BeginCursor), cursorNumber(t, *src.EndCursor)
	if begin != firstCursor {
		t.Errorf("beginCursor = %d, want %d", begin, firstCursor)
	}
	if n := int64(len(ls.Shards[0])); end-begin != n {
		t.Errorf("endCursor - beginCursor = %d, want the %d groups of shard 0", end-begin, n)
	}
	last := ls.Shards[0][len(ls.Shards[0])-1]
	var recv string
	for _, tag := range last.Tags {
		if tag.Key == "__receive_time__" {
			recv = tag.Value
		}
	}
	if strconv.Itoa(*ev.CursorTime) != recv {
		t.Errorf("cursorTime = %d, want the last group's __receive_time__ %s", *ev.CursorTime, recv)
	}
}

func TestBadEvents(t *testing.T) {
	if data := readEvent(t, "malformed.json"); json.Valid(data) {
		t.Error("malformed.json is valid JSON")
	}

	ev, err := decodeEvent(readEvent(t, "missing-source.json"))
	if err != nil || ev.Source != nil || ev.CursorTime == nil {
		t.Errorf("missing-source.json: err %v, source %+v; want a decodable event without source", err, ev.Source)
	}

	ev, err = decodeEvent(readEvent(t, "empty-begin-cursor.json"))
	if err != nil || ev.Source == nil || ev.Source.BeginCursor == nil || *ev.Source.BeginCursor != "" ||
		ev.Source.EndCursor == nil || *ev.Source.EndCursor == "" {
		t.Errorf("empty-begin-cursor.json: err %v; want a decodable event with beginCursor \"\" and an endCursor", err)
	}

	data := readEvent(t, "wrong-types.json")
	if !json.Valid(data) {
		t.Error("wrong-types.json is not valid JSON")
	}
	var ute *json.UnmarshalTypeError
	if _, err := decodeEvent(data); err == nil {
		t.Error("wrong-types.json decoded into events.SlsEvent")
	} else if !errors.As(err, &ute) || ute.Field != "source.shardId" {
		t.Errorf("wrong-types.json: err %v, want a type error on source.shardId", err)
	}
}
