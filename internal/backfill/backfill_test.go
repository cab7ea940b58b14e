package backfill

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestParseWindow(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		from, to string
		want     Window
	}{
		{"1700000000", "now", Window{1700000000, now.Unix()}},
		{"2024-05-06T07:08:09Z", " 2024-05-06T15:08:10+08:00 ", Window{1714979289, 1714979290}},
		{"2024-05-06T07:08:09.25Z", "now", Window{1714979290, now.Unix()}}, // rounded up: receive times are whole seconds
		{"-2h", "-30m", Window{now.Add(-2 * time.Hour).Unix(), now.Add(-30 * time.Minute).Unix()}},
		{"-7d", "NOW", Window{now.Add(-7 * 24 * time.Hour).Unix(), now.Unix()}},
		{"2026-11-30", "2026-12-01", Window{now.Add(-36 * time.Hour).Unix(), now.Add(-12 * time.Hour).Unix()}},
		{"-1h", "2030-01-01", Window{now.Add(-time.Hour).Unix(), time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Unix()}}, // an end in the future is fine
	} {
		got, err := ParseWindow(c.from, c.to, now)
		if err != nil || got != c.want {
			t.Errorf("ParseWindow(%q, %q) = %+v, %v; want %+v", c.from, c.to, got, err, c.want)
		}
	}
	for _, c := range []struct{ from, to, want string }{
		{"1796645573000", "now", "-from is 1796645573000, which looks like milliseconds"},
		{"2030-01-01", "2030-02-01", "-from 2030-01-01T00:00:00Z is in the future"},
		{"-1h", "-2h", "is not before -to"},
		{"now", "now", "the window [from, to) is empty"},
		{"yesterday", "2024-05-06 07:08:09", `-from is "yesterday": want now, a time ago (-2h, -7d)`},
		{"-5", "now", `-from is "-5"`},
		{"-0h", "now", `-from is "-0h"`},
		{"", "now", "-from is empty"},
		{"1969-01-01T00:00:00Z", "now", "before 1970"},
	} {
		_, err := ParseWindow(c.from, c.to, now)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseWindow(%q, %q) = %v, want an error saying %q", c.from, c.to, err, c.want)
		}
	}
	// Both bounds wrong: both named.
	if _, err := ParseWindow("x", "y", now); err == nil || !strings.Contains(err.Error(), "-from") || !strings.Contains(err.Error(), "-to") {
		t.Errorf("both bounds wrong: %v", err)
	}
}

func TestParseShards(t *testing.T) {
	if got, err := ParseShards(" 0, 3,1"); err != nil || len(got) != 3 || got[1] != 3 {
		t.Errorf("ParseShards = %v, %v", got, err)
	}
	for _, in := range []string{"0,,1", "a", "-1"} {
		if _, err := ParseShards(in); err == nil {
			t.Errorf("ParseShards(%q) accepted", in)
		}
	}
}

func TestProgress(t *testing.T) {
	p := Progress{Total: 100, Done: 40, RunDone: 20, RunLogs: 2000, Elapsed: 2 * time.Second, Logs: 4000, Bytes: 1_500_000}
	if p.Fraction() != 0.4 || p.LogsPerSecond() != 1000 {
		t.Errorf("fraction %v rate %v", p.Fraction(), p.LogsPerSecond())
	}
	if d, ok := p.ETA(); !ok || d != 6*time.Second { // 60 groups left at 10 groups/s
		t.Errorf("ETA %v %v, want 6s", d, ok)
	}
	if _, ok := (Progress{Total: 10}).ETA(); ok {
		t.Error("ETA without a rate")
	}
	if got := p.Describe(); got != " 40.0% 40/100 log groups, 4000 logs, 1.5 MB, 1000 logs/s, ETA 6s" {
		t.Errorf("Describe = %q", got)
	}
	if s := Sum([]Progress{p, {Total: 50, Done: 50, Finished: true}}); s.Total != 150 || s.Done != 90 || s.Finished {
		t.Errorf("Sum = %+v", s)
	}
}

// Both reporters render the same progress: lines on Finish, bars with
// every shard and the total.
func TestReporters(t *testing.T) {
	shards := []Progress{{Shard: 0, Total: 10}, {Shard: 1, Total: 0, Finished: true}}
	var lb bytes.Buffer
	l := &Lines{W: &lb, Every: time.Hour}
	l.Start(shards)
	l.Update(Progress{Shard: 0, Total: 10, Done: 10, Logs: 55, Bytes: 2000, RunDone: 10, RunLogs: 55, Elapsed: time.Second, Finished: true})
	l.Finish(Result{}, nil)
	if got := lb.String(); !strings.Contains(got, "backfill progress: 100.0% 10/10 log groups, 55 logs, 2.0 kB") ||
		!strings.Contains(got, "shard 0 100.0% 55 logs, shard 1 100.0% 0 logs") || strings.Count(got, "\n") != 1 {
		t.Errorf("lines %q", got)
	}
	var bb bytes.Buffer
	b := &Bars{W: &bb}
	b.Start(shards)
	b.Update(Progress{Shard: 0, Total: 10, Done: 5, Logs: 25, RunDone: 5, RunLogs: 25, Elapsed: time.Second})
	b.Update(Progress{Shard: 0, Total: 10, Done: 10, Logs: 55, RunDone: 10, RunLogs: 55, Elapsed: time.Second, Finished: true})
	b.Finish(Result{}, nil)
	got := bb.String()
	for _, want := range []string{"shard 0", "shard 1", "total", "100 %", "55 logs"} {
		if !strings.Contains(got, want) {
			t.Errorf("bars %q lack %q", got, want)
		}
	}
}
