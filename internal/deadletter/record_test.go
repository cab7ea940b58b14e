package deadletter

import (
	"strings"
	"testing"

	"sls2siem/internal/slsapi"
	"sls2siem/internal/trust"
)

var allowed = func() trust.Endpoints {
	e, err := trust.ParseEndpoints("127.0.0.1:8080,*.log.aliyuncs.com", false)
	if err != nil {
		panic(err)
	}
	return e
}()

func good() Record {
	return Record{State: StateFailed, Endpoint: "http://127.0.0.1:8080", Project: "demo", Logstore: "audit", Shard: 1,
		BeginCursor: slsapi.Cursor(1600000000000000000), EndCursor: slsapi.Cursor(1600000000000000100), CursorTime: 1732500000,
		RequestID: "r1", Error: "boom", LogsWritten: 12, LogsConfirmed: 10}
}

func TestRoundTrip(t *testing.T) {
	r := good()
	got, err := Parse(Topic, r.log(), allowed)
	if err != nil {
		t.Fatal(err)
	}
	got.Time = r.Time
	if got != r {
		t.Fatalf("got %+v, want %+v", got, r)
	}
}

func TestParseRejects(t *testing.T) {
	cases := []struct {
		name  string
		topic string
		edit  func(*Record)
		want  string
	}{
		{"another tool's log", "other", func(*Record) {}, "not a dead-letter record"},
		{"unknown state", Topic, func(r *Record) { r.State = "maybe" }, "field state"},
		{"bad project", Topic, func(r *Record) { r.Project = "x.evil:1?" }, "field project"},
		{"bad logstore", Topic, func(r *Record) { r.Logstore = "" }, "field logstore"},
		{"disallowed endpoint", Topic, func(r *Record) { r.Endpoint = "https://evil.example.com" }, "not allowed by SLS_ALLOWED_ENDPOINTS"},
		{"endpoint with a path", Topic, func(r *Record) { r.Endpoint = "http://127.0.0.1/x" }, "field endpoint"},
		{"bad cursor", Topic, func(r *Record) { r.BeginCursor = "not a cursor" }, "field beginCursor"},
		{"negative shard", Topic, func(r *Record) { r.Shard = -1 }, "field shard"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := good()
			tc.edit(&r)
			_, err := Parse(tc.topic, r.log(), allowed)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestScrubRemovesSecrets(t *testing.T) {
	if got := Scrub("token=abcdef123 failed", secretCreds()); strings.Contains(got, "abcdef123") {
		t.Fatalf("Scrub kept the secret: %q", got)
	}
}
