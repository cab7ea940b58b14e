package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/leodido/go-syslog/v4/rfc5424"

	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/slsemu"
)

// bfLogstore is the logstore of the backfill tests: groups at known
// receive times, so that a window selects a known subset.
const bfLogstore = "backfill"

// bfStore is what the test wrote: per shard, the cursor and receive time
// of every group; every group holds logsPer logs.
type bfStore struct {
	base    int64 // receive time of group 0
	step    int64 // seconds between groups
	logsPer int
	cursors [][]string
}

// bfKey names one log by its origin stamp.
type bfKey struct {
	shard  int
	cursor string
	index  int
}

// bfLoad appends groups groups per shard to the backfill logstore, group
// g received at base+g*step.
func bfLoad(t *testing.T, c *cloud, shards, groups, logsPer int) *bfStore {
	t.Helper()
	if err := c.emu.CreateLogstore(c.data.Project, bfLogstore, shards); err != nil {
		t.Fatal(err)
	}
	st := &bfStore{base: time.Now().Add(-2*time.Hour).Unix() / 100 * 100, step: 10, logsPer: logsPer, cursors: make([][]string, shards)}
	for s := range shards {
		for g := range groups {
			lg := &sls.LogGroup{Topic: ptrTo("bf")}
			for l := range logsPer {
				lg.Logs = append(lg.Logs, &sls.Log{Time: ptrTo(uint32(st.base + int64(g)*st.step)), Contents: []*sls.LogContent{
					{Key: ptrTo("id"), Value: ptrTo(fmt.Sprintf("s%d-g%d-l%d", s, g, l))}}})
			}
			cur, err := c.emu.Append(c.data.Project, bfLogstore, s, lg, time.Unix(st.base+int64(g)*st.step, 0))
			if err != nil {
				t.Fatal(err)
			}
			st.cursors[s] = append(st.cursors[s], cur)
		}
	}
	return st
}

func ptrTo[T any](v T) *T { return &v }

// want returns the logs received in [from, to): one count each.
func (st *bfStore) want(from, to int64) map[bfKey]int {
	out := map[bfKey]int{}
	for s, curs := range st.cursors {
		for g, cur := range curs {
			if at := st.base + int64(g)*st.step; at >= from && at < to {
				for i := range st.logsPer {
					out[bfKey{s, cur, i}] = 1
				}
			}
		}
	}
	return out
}

// bfCount counts the received logs of the backfill logstore by their
// origin stamp.
func bfCount(t *testing.T, got []received) map[bfKey]int {
	t.Helper()
	p := rfc5424.NewParser()
	n := map[bfKey]int{}
	for _, r := range got {
		m, err := p.Parse([]byte(r.Raw))
		if err != nil {
			t.Fatalf("message does not parse: %v: %q", err, r.Raw)
		}
		sm := m.(*rfc5424.SyslogMessage)
		if sm.StructuredData == nil {
			continue // the sentinel
		}
		o := (*sm.StructuredData)["origin@32473"]
		if o["logstore"] != bfLogstore {
			t.Fatalf("message from logstore %q: %q", o["logstore"], r.Raw)
		}
		shard, err1 := strconv.Atoi(o["shard"])
		index, err2 := strconv.Atoi(o["index"])
		if err1 != nil || err2 != nil {
			t.Fatalf("origin stamp %v", o)
		}
		n[bfKey{shard, o["cursor"], index}]++
	}
	return n
}

// bfCompare returns the logs missing, those received that are not in
// the window, and the duplicates (keys received more than once).
func bfCompare(want, got map[bfKey]int) (missing int, extra int, dups []bfKey) {
	for k := range want {
		if got[k] == 0 {
			missing++
		}
	}
	for k, n := range got {
		if want[k] == 0 {
			extra += n
		} else if n > 1 {
			for range n - 1 {
				dups = append(dups, k)
			}
		}
	}
	return missing, extra, dups
}

// bfReceived waits for n messages and then for a sentinel sent after
// them, so that no late duplicate is missed, and counts them.
func bfReceived(t *testing.T, rs *rsyslogd, n int) map[bfKey]int {
	t.Helper()
	rs.WaitForCount(t, n, 30*time.Second)
	sendStream(t, loopback(rs.Ports().TCP), octetFrame, "<13>1 2024-05-06T07:08:09Z host app - SENTINEL - end of the backfill")
	got := rs.WaitForCount(t, n+1, 30*time.Second)
	return bfCount(t, got)
}

type bfResult struct {
	Resumed   bool
	Done      bool
	Logs      int64
	LogGroups int64
	Shards    []struct {
		Shard           int
		Logs, LogGroups int64
		Total           int64 `json:"totalLogGroups"`
		Done            bool
		NextCursor      string
	}
}

// bfCommand returns `sls2siem backfill args...` with the role's
// credentials against the emulator and the receiver at port.
func bfCommand(ctx context.Context, c *cloud, port int, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, functionBinary, append([]string{"backfill"}, args...)...)
	cmd.Env = append(append(slices.Clone(os.Environ()), localcloud.TrustEnv(c.endpoint)...),
		trEnv(port, "SYSLOG_ORIGIN_SD=true", "SYSLOG_MAX_RETRIES=2", "SYSLOG_DIAL_TIMEOUT=500ms")...)
	cmd.Env = append(cmd.Env, "SLS_ENDPOINT="+c.endpoint,
		"ALIBABA_CLOUD_ACCESS_KEY_ID="+c.role.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET="+c.role.AccessKeySecret,
		"ALIBABA_CLOUD_SECURITY_TOKEN="+c.role.SecurityToken)
	return cmd
}

// runBackfill runs the backfill to its end: exit status, result, stderr.
func runBackfill(t *testing.T, c *cloud, port int, args ...string) (int, bfResult, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := bfCommand(ctx, c, port, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	c.output.Write(stdout.Bytes())
	c.output.Write(stderr.Bytes())
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var res bfResult
	if s := bytes.TrimSpace(stdout.Bytes()); len(s) > 0 {
		if err := json.Unmarshal(s, &res); err != nil {
			t.Fatalf("backfill printed %q, not its JSON result (stderr %s)", stdout.String(), stderr.String())
		}
	}
	return code, res, stderr.String()
}

func bfWindowArgs(st *bfStore, fromGroup, toGroup int) []string {
	from := time.Unix(st.base+int64(fromGroup)*st.step, 0).UTC().Format(time.RFC3339)
	return []string{"-project", "sls2siem-demo", "-logstore", bfLogstore, "-from", from,
		"-to", strconv.FormatInt(st.base+int64(toGroup)*st.step, 10)}
}

// TestBackfillWindow: the backfill of a window ships exactly the logs
// received in it, each once, none outside it.
func TestBackfillWindow(t *testing.T) {
	rs := startRsyslog(t)
	c := newCloud(t)
	st := bfLoad(t, c, 2, 60, 5)
	// Groups 15..44 of each shard: [base+150, base+450).
	want := st.want(st.base+150, st.base+450)
	code, res, stderr := runBackfill(t, c, rs.Ports().TCP, append(bfWindowArgs(st, 15, 45), "-chunk", "7", "-parallel", "2")...)
	if code != 0 || !res.Done || res.Logs != int64(len(want)) || len(res.Shards) != 2 {
		t.Fatalf("backfill exit %d, result %+v: want done, %d logs\n%s", code, res, len(want), stderr)
	}
	for _, s := range res.Shards {
		if s.Logs != 150 || s.LogGroups != 30 || s.Total != 30 || !s.Done {
			t.Errorf("shard %d: %+v, want 150 logs in 30 log groups", s.Shard, s)
		}
	}
	got := bfReceived(t, rs, len(want))
	missing, extra, dups := bfCompare(want, got)
	if missing != 0 || extra != 0 || len(dups) != 0 {
		t.Fatalf("window of %d logs: %d missing, %d outside the window, %d duplicates", len(want), missing, extra, len(dups))
	}
	if !strings.Contains(stderr, "backfill summary:") || !strings.Contains(stderr, "shard 1: 150 logs, 30 of 30 log groups") {
		t.Errorf("no per-shard summary:\n%s", stderr)
	}
	if !strings.Contains(stderr, "backfill progress: 100.0% 60/60 log groups, 300 logs") {
		t.Errorf("no final progress line:\n%s", stderr)
	}
	t.Logf("window [base+150, base+450) of the 600 logs: %d logs expected, %d received, 0 missing, 0 outside, 0 duplicates", len(want), len(want)-missing)
}

// TestBackfillInterruptedAndResumed: SIGINT once the state file shows
// progress stops the backfill at a chunk boundary (exit 130, the resume
// command printed); the resume command ships the rest: every log of the
// window, duplicates only within the interrupted chunk.
func TestBackfillInterruptedAndResumed(t *testing.T) {
	rs := startRsyslog(t)
	c := newCloud(t)
	const chunk, logsPer = 2, 2
	st := bfLoad(t, c, 2, 200, logsPer)
	want := st.want(st.base, st.base+2000)
	// Slow pulls: the backfill is still running when the state shows progress.
	c.emu.InjectFault(slsemu.Fault{Op: slsemu.OpPullLogs, Logstore: bfLogstore, Delay: 10 * time.Millisecond, Times: -1})
	state := filepath.Join(t.TempDir(), "bf state.json")
	args := append(bfWindowArgs(st, 0, 200), "-state", state, "-chunk", strconv.Itoa(chunk), "-parallel", "2")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := bfCommand(ctx, c, rs.Ports().TCP, args...)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	tick := time.NewTicker(2 * time.Millisecond) // polling the state file
	defer tick.Stop()
	for progressed := false; !progressed; {
		select {
		case err := <-exited:
			t.Fatalf("backfill exited (%v) before the state showed progress:\n%s", err, stderr.String())
		case <-tick.C:
			if s, err := readBFState(state); err == nil && s.Logs > 0 {
				progressed = true
			}
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := <-exited
	c.output.Write([]byte(stdout.String() + stderr.String()))
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("interrupted backfill: %v, want exit status 130\n%s", err, stderr.String())
	}
	first, err := readBFState(state)
	if err != nil {
		t.Fatal(err)
	}
	if first.Done || first.Logs <= 0 || first.Logs >= int64(len(want)) {
		t.Fatalf("state after the interruption: %+v: want part of the %d logs", first, len(want))
	}
	resume := resumeLine(stderr.String())
	if resume == "" || !strings.Contains(resume, "-state '"+state+"'") || !strings.HasPrefix(resume, functionBinary+" backfill ") {
		t.Fatalf("no resume command naming the state file:\n%s", stderr.String())
	}
	// The resume command as printed, through a shell.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel2()
	rcmd := bfCommand(ctx2, c, rs.Ports().TCP)
	rcmd.Args = []string{"sh", "-c", resume}
	rcmd.Path, _ = exec.LookPath("sh")
	var rout, rerr bytes.Buffer
	rcmd.Stdout, rcmd.Stderr = &rout, &rerr
	if err := rcmd.Run(); err != nil {
		t.Fatalf("resumed backfill: %v\n%s", err, rerr.String())
	}
	c.output.Write(append(rout.Bytes(), rerr.Bytes()...))
	var res bfResult
	if err := json.Unmarshal(bytes.TrimSpace(rout.Bytes()), &res); err != nil {
		t.Fatal(err)
	}
	if !res.Resumed || !res.Done || res.Logs != int64(len(want)) {
		t.Fatalf("resumed result %+v: want resumed, done, %d logs", res, len(want))
	}
	// Every log of the window arrived; a duplicate may only be a log of
	// the chunk in flight at the interruption (from the next cursor the
	// state saved).
	got := bfReceived(t, rs, len(want))
	missing, extra, dups := bfCompare(want, got)
	if missing != 0 || extra != 0 {
		t.Fatalf("%d of %d logs missing, %d outside the window", missing, len(want), extra)
	}
	inChunk := map[bfKey]bool{}
	for _, s := range first.Shards {
		for g, cur := range st.cursors[s.Shard] {
			if cur == s.NextCursor {
				for k := g; k < min(g+chunk, len(st.cursors[s.Shard])); k++ {
					for i := range logsPer {
						inChunk[bfKey{s.Shard, st.cursors[s.Shard][k], i}] = true
					}
				}
			}
		}
	}
	for _, k := range dups {
		if !inChunk[k] {
			t.Errorf("duplicate %+v is not in the chunk interrupted", k)
		}
	}
	if len(dups) > len(first.Shards)*chunk*logsPer {
		t.Errorf("%d duplicates: more than one chunk per shard", len(dups))
	}
	t.Logf("interrupted after %d of %d logs (exit 130), resumed: %d more; %d received, %d duplicates, 0 missing",
		first.Logs, len(want), res.Logs-first.Logs, len(want)+len(dups), len(dups))
}

func readBFState(path string) (bfResult, error) {
	var s bfResult
	b, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, err
	}
	s.Done = true
	for _, sh := range s.Shards {
		s.Logs += sh.Logs
		s.Done = s.Done && sh.Done
	}
	return s, nil
}

// resumeLine is the command printed after "resume with:".
func resumeLine(stderr string) string {
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		if strings.HasSuffix(sc.Text(), "resume with:") && sc.Scan() {
			return strings.TrimSpace(sc.Text())
		}
	}
	return ""
}

// TestBackfillBadInput: -from after -to, an unparsable time, an unknown
// shard and a state file made for another window fail with an error that
// says so, before any log is read.
func TestBackfillBadInput(t *testing.T) {
	c := newCloud(t)
	st := bfLoad(t, c, 2, 10, 1)
	other := filepath.Join(t.TempDir(), "other.json")
	if code, _, stderr := runBackfill(t, c, 1, append(bfWindowArgs(st, 0, 5), "-state", other, "-shards", "1", "-chunk", "1", "-parallel", "1", "-progress", "none")...); code != 1 {
		// port 1: nothing listens, the shipping fails; the state exists.
		t.Fatalf("setup backfill: exit %d, want 1 (no receiver)\n%s", code, stderr)
	}
	pulls := c.emu.Requests(slsemu.OpPullLogs)
	cases := []struct {
		name, want string
		args       []string
		noRequest  bool
	}{
		{"from after to", "is not before -to", bfWindowArgs(st, 5, 2), true},
		{"from equal to", "is not before -to", bfWindowArgs(st, 5, 5), true},
		{"unparsable time", `-to is "yesterday": want now, a time ago (-2h, -7d), a date (2024-05-06), RFC 3339`, []string{"-project", "sls2siem-demo", "-logstore", bfLogstore, "-from", "0", "-to", "yesterday"}, true},
		{"unparsable shard list", `-shards "x" is not a shard id`, append(bfWindowArgs(st, 0, 5), "-shards", "0,x"), true},
		{"unknown shard", "shard 7 is not a shard of project sls2siem-demo logstore backfill (its shards: 0, 1)", append(bfWindowArgs(st, 0, 5), "-shards", "0,7"), false},
		{"state of another window", "was made for another backfill", append(bfWindowArgs(st, 0, 6), "-state", other, "-shards", "1"), false},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			lists := c.emu.Requests(slsemu.OpListShards)
			code, _, stderr := runBackfill(t, c, 1, tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q: want exit 2 and %q", code, stderr, tc.want)
			}
			if n := c.emu.Requests(slsemu.OpPullLogs); n != pulls {
				t.Errorf("%d pulls: logs were read", n-pulls)
			}
			if n := c.emu.Requests(slsemu.OpListShards); tc.noRequest && n != lists {
				t.Errorf("SLS was asked (%d ListShards) before the arguments were checked", n-lists)
			}
		})
	}
}

// TestBackfillStateIsChecked: a state file is trusted only for the
// backfill it was made for, and only as far as SLS agrees: made with
// -shards 0 and resumed over every shard, edited to say a shard is done,
// or listing no shard, it is refused (exit 2, nothing read); every log of
// the window arrives once the right state or a new one is used.
func TestBackfillStateIsChecked(t *testing.T) {
	rs := startRsyslog(t)
	c := newCloud(t)
	st := bfLoad(t, c, 2, 10, 3)
	want := st.want(st.base, st.base+100)
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	window := append(bfWindowArgs(st, 0, 10), "-chunk", "2", "-progress", "none")
	// Shard 0 alone, stopped by a receiver that is not there: the state
	// holds shard 0 half done.
	if code, _, stderr := runBackfill(t, c, 1, append(window, "-state", state, "-shards", "0")...); code != 1 {
		t.Fatalf("setup: exit %d, want 1\n%s", code, stderr)
	}
	raw, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(name string, f func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		p := filepath.Join(dir, name+".json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	shard0 := func(m map[string]any) map[string]any { return m["shards"].([]any)[0].(map[string]any) }
	doneEarly := edit("done", func(m map[string]any) { shard0(m)["done"] = true })
	endMoved := edit("end-moved", func(m map[string]any) {
		s := shard0(m)
		s["endCursor"], s["nextCursor"], s["done"], s["totalLogGroups"] = s["beginCursor"], s["beginCursor"], true, 0
	})
	empty := edit("empty", func(m map[string]any) { m["shards"] = []any{} })
	pulls := c.emu.Requests(slsemu.OpPullLogs)
	for _, tc := range []struct {
		name, state, want string
		shards            []string
	}{
		{"made for shard 0, resumed over every shard", state, "was made for another backfill (shards 0, not 0, 1)", nil},
		{"done before its end", doneEarly, "says shard 0 is done=true", []string{"-shards", "0"}},
		{"end moved to the beginning", endMoved, "says shard 0 ends at cursor", []string{"-shards", "0"}},
		{"no shard", empty, "lists no shard", nil},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			code, res, stderr := runBackfill(t, c, rs.Ports().TCP, append(append(window, "-state", tc.state), tc.shards...)...)
			if code != 2 || !strings.Contains(stderr, tc.want) || res.Done {
				t.Errorf("exit %d, %+v, stderr %q: want exit 2 saying %q", code, res, stderr, tc.want)
			}
		})
	}
	if n := c.emu.Requests(slsemu.OpPullLogs); n != pulls {
		t.Errorf("%d pulls for refused state files", n-pulls)
	}
	// The state resumed as made (shard 0), then shard 1 on its own: every
	// log of the window, none lost (shard 0's interrupted chunk may repeat).
	if code, res, stderr := runBackfill(t, c, rs.Ports().TCP, append(window, "-state", state, "-shards", "0")...); code != 0 || !res.Done || !res.Resumed {
		t.Fatalf("resume of shard 0: exit %d, %+v\n%s", code, res, stderr)
	}
	if code, res, stderr := runBackfill(t, c, rs.Ports().TCP, append(window, "-shards", "1")...); code != 0 || !res.Done {
		t.Fatalf("shard 1: exit %d, %+v\n%s", code, res, stderr)
	}
	got := bfReceived(t, rs, len(want))
	if missing, extra, _ := bfCompare(want, got); missing != 0 || extra != 0 {
		t.Errorf("%d of %d logs missing, %d outside the window", missing, len(want), extra)
	}
}
