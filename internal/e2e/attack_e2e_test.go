package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/deadletter"
	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/fcemu"
	"sls2siem/internal/localcloud/slsemu"
	"sls2siem/internal/secret"
	"sls2siem/internal/slsapi"
)

// The red-team pass of issue 18, driven against the local cloud: whoever
// may write to the dead-letter logstore (log:PostLogStoreLogs there) or
// invoke the trigger function with a crafted event tries to make redrive
// re-ship forever, starve a real range, exhaust its memory, send the
// signed request elsewhere, or silence or fake a loss. Each test writes its
// records with the SDK's PutLogs, as such a writer would, and runs the real
// binary. The figures before the fix (main's code) are in each comment.

// attackerKeys sign records with a key that is not SHIP_DEADLETTER_KEY:
// what a writer of the logstore without the key can produce.
var attackerKeys = func() deadletter.Keys {
	k, err := deadletter.NewKeys("an-attacker-key-who-can-PutLogs-0123456789", "")
	if err != nil {
		panic(err)
	}
	return k
}()

// dlWriter is an SLS client with the loader's key: it may write to any
// logstore of the project.
func dlWriter(t *testing.T, c *cloud) *slsapi.Client {
	t.Helper()
	cl, err := slsapi.New(c.endpoint, secret.Credentials{AccessKeyID: c.loader.AccessKeyID, AccessKeySecret: c.loader.AccessKeySecret}, slsapi.NewTransport(localcloud.LocalEndpoints(c.endpoint)))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// dlForge writes recs to the dead-letter logstore signed with keys, with
// PutLogs.
func dlForge(t *testing.T, c *cloud, keys deadletter.Keys, recs ...deadletter.Record) {
	t.Helper()
	if err := deadletter.Append(context.Background(), dlWriter(t, c), c.data.Project, dlLogstore, keys, recs...); err != nil {
		t.Fatal(err)
	}
}

// dlForgeRaw writes one log of the records' topic with the given fields
// and no MAC, with PutLogs.
func dlForgeRaw(t *testing.T, c *cloud, fields ...string) {
	t.Helper()
	l := &sls.Log{Time: proto.Uint32(uint32(time.Now().Unix()))}
	for i := 0; i+1 < len(fields); i += 2 {
		l.Contents = append(l.Contents, &sls.LogContent{Key: proto.String(fields[i]), Value: proto.String(fields[i+1])})
	}
	lg := &sls.LogGroup{Topic: proto.String(deadletter.Topic), Logs: []*sls.Log{l}}
	if err := localcloud.NewSLSClient(c.endpoint, c.loader).PutLogs(c.data.Project, dlLogstore, lg); err != nil {
		t.Fatal(err)
	}
}

// rangeOf is a failed record of shard's whole range.
func (c *cloud) rangeOf(t *testing.T, shard int) deadletter.Record {
	b, e := c.shardRange(t, shard)
	return deadletter.Record{State: deadletter.StateFailed, Endpoint: c.endpoint, Project: c.data.Project, Logstore: c.data.Logstore,
		Shard: shard, BeginCursor: b, EndCursor: e, RequestID: "forged"}
}

// TestAttackForgedRecords: forged resolved records for the real failed
// ranges, a record without a MAC whose cursor lies before the shard's
// data, and one naming the dead-letter logstore itself are skipped with
// one warning each, counted as unsigned: the real ranges are shipped
// (3000 of 3000), no false "lost" alarm, nothing of the dead-letter
// logstore reaches the SIEM.
// Before: the forged resolved made the pass ship nothing (ranges 0, exit
// 0); the forged cursor raised "expired" (exit 3); the dead-letter
// logstore's records were shipped (2 logs).
func TestAttackForgedRecords(t *testing.T) {
	rs := startRsyslog(t)
	rs.Stop(t)
	c := dlCloud(t)
	dlFailAll(t, c, rs.Ports().TCP, 0)
	rs.start(t)
	for shard := range c.data.Shards {
		r := c.rangeOf(t, shard)
		r.State = deadletter.StateResolved
		dlForge(t, c, attackerKeys, r)
	}
	lost := c.rangeOf(t, 0)
	lost.BeginCursor = slsapi.Cursor(5) // long before the shard's data: a false "expired"
	dlForgeRaw(t, c, "state", "failed", "endpoint", c.endpoint, "project", c.data.Project, "logstore", c.data.Logstore,
		"shard", "0", "beginCursor", lost.BeginCursor, "endCursor", lost.EndCursor)
	db, _ := c.emu.Cursor(c.data.Project, dlLogstore, 0, "begin")
	de, _ := c.emu.Cursor(c.data.Project, dlLogstore, 0, "end")
	self := c.rangeOf(t, 0)
	self.Logstore, self.BeginCursor, self.EndCursor = dlLogstore, db, de
	dlForge(t, c, attackerKeys, self)

	code, res, stderr := runRedrive(t, c, dlEnv(rs.Ports().TCP), "-since", "1h")
	if code != 0 || res.Redriven != 2 || res.Unsigned != 4 || res.Skipped != 4 || res.Expired != 0 || res.Logs != 3000 {
		t.Fatalf("redrive exit %d, %+v: want the 2 real ranges shipped, the 4 forged records skipped as unsigned\n%s", code, res, stderr)
	}
	if n := strings.Count(stderr, `"rule":"unsigned"`); n != 4 {
		t.Errorf("%d warnings of unsigned records, want one per record", n)
	}
	if strings.Contains(stderr, "expired") && strings.Contains(stderr, `"level":"ERROR"`) {
		t.Errorf("a false loss was reported:\n%s", stderr)
	}
	run := trCount(t, c, rs.WaitForCount(t, 3000, 60*time.Second))
	if run.missing != 0 || run.received != 3000 {
		t.Errorf("%s: want every log once, nothing else", run)
	}
	t.Logf("forged resolved ×2, forged cursor, dead-letter logstore as source: %d skipped (unsigned), %d ranges redriven, %s",
		res.Skipped, res.Redriven, run)
}

// TestAttackStarvation: 400 forged records written ahead of the real
// failed ranges cannot use the pass: they are skipped unread, and the
// real ranges are shipped by the first pass. The warnings are bounded.
// Before (a 4 s pass): "redriven":0,"failed":401 every pass.
func TestAttackStarvation(t *testing.T) {
	rs := startRsyslog(t)
	c := dlCloud(t)
	var forged []deadletter.Record
	b1, e1 := c.shardRange(t, 1)
	e1n, _ := slsapi.CursorNumber(e1)
	for i := range 400 {
		r := c.rangeOf(t, 1)
		r.BeginCursor, r.EndCursor = b1, slsapi.Cursor(e1n+1+int64(i)) // distinct ranges, each past the end
		forged = append(forged, r)
	}
	dlForge(t, c, attackerKeys, forged...)
	rs.Stop(t)
	dlFailAll(t, c, rs.Ports().TCP, 0)
	rs.start(t)
	start := time.Now()
	code, res, stderr := runRedrive(t, c, dlEnv(rs.Ports().TCP), "-since", "1h", "-timeout", "20s")
	if code != 0 || res.Redriven != 2 || res.Unsigned != 400 || res.Failed != 0 {
		t.Fatalf("redrive exit %d, %+v: want the 2 real ranges shipped, 400 unsigned skipped\n%s", code, res, stderr)
	}
	if n := strings.Count(stderr, "\n"); n > 120 {
		t.Errorf("%d log lines for 400 forged records: the warnings are not bounded", n)
	}
	run := trCount(t, c, rs.WaitForCount(t, 3000, 60*time.Second))
	if run.missing != 0 {
		t.Errorf("%s", run)
	}
	t.Logf("400 forged records ahead of 2 real ranges: first pass redriven %d, failed %d, unsigned %d, in %s",
		res.Redriven, res.Failed, res.Unsigned, time.Since(start).Round(time.Millisecond))
}

// TestAttackEventPastTheShardEnd: an event whose end cursor lies past the
// shard's end fails at once, before anything is read, saying the range
// cannot exist; it is recorded once as invalid (its retries add none),
// and no redrive pass ships anything for it.
// Before: the function shipped the 1 500 logs of the shard, failed and
// dead-lettered the range, and every redrive pass shipped 1 500 logs again
// (7 500 after four passes).
func TestAttackEventPastTheShardEnd(t *testing.T) {
	rs := startRsyslog(t)
	c := dlCloud(t)
	fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{Timeout: 30 * time.Second, Env: dlEnv(rs.Ports().TCP)})
	b, e := c.shardRange(t, 0)
	en, _ := slsapi.CursorNumber(e)
	ev := c.event(0, b, slsapi.Cursor(en+150))
	for try := range 3 { // the trigger's retries
		res, err := fn.Invoke(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if res.Err == nil || !strings.Contains(res.Err.Message, "cannot exist") ||
			!strings.Contains(res.Err.Message, "150 log groups past the shard's end cursor") || !strings.Contains(res.Err.Message, "invalid") {
			t.Fatalf("try %d: %+v, want a failure saying the range cannot exist", try, res.Err)
		}
	}
	if n := c.emu.Requests(slsemu.OpPullLogs); n != 0 {
		t.Errorf("%d pulls: the range was read", n)
	}
	recs := dlRecords(t, c)
	if st := dlStates(recs); len(recs) != 1 || st[deadletter.StateInvalid] != 1 {
		t.Fatalf("records %v: want one invalid record for three failed invocations", st)
	}
	perPass := []int64{}
	for pass := range 4 {
		code, res, stderr := runRedrive(t, c, dlEnv(rs.Ports().TCP), "-since", "1h")
		if code != 0 || res.Ranges != 0 || res.Logs != 0 {
			t.Fatalf("pass %d: exit %d, %+v: want nothing to ship\n%s", pass+1, code, res, stderr)
		}
		perPass = append(perPass, res.Logs)
	}
	if got := len(rs.Messages(t)); got != 0 {
		t.Errorf("the SIEM received %d messages", got)
	}
	t.Logf("event 150 log groups past the shard's end: 3 invocations failed at once, 1 invalid record; logs shipped per redrive pass: %v", perPass)
}

// TestAttackRecordNamesAnotherPort: a record signed with the key that
// names an allowed host on another port (a listener there) is refused by
// the allow-list's port rule; and one whose endpoint the allow-list does
// admit is shipped from SLS_ENDPOINT all the same. No connection reaches
// the other port. Before: 15 connections from one record (and 9 from one
// event), each carrying the Authorization header and the STS token.
func TestAttackRecordNamesAnotherPort(t *testing.T) {
	rs := startRsyslog(t)
	c := dlCloud(t)
	trap := newConnCounter(t)
	r := c.rangeOf(t, 0)
	r.Endpoint = "http://" + trap.addr
	dlForge(t, c, dlKeys, r)
	code, res, stderr := runRedrive(t, c, dlEnv(rs.Ports().TCP), "-since", "1h")
	if code != 0 || res.Skipped != 1 || res.Ranges != 0 || !strings.Contains(stderr, "not port") {
		t.Fatalf("redrive exit %d, %+v: want the record skipped for its port\n%s", code, res, stderr)
	}
	// The allow-list admits the trap's port too: the record is valid, and
	// its range is read from SLS_ENDPOINT.
	env := append(dlEnv(rs.Ports().TCP), "SLS_ALLOWED_ENDPOINTS="+localcloud.AllowedPatterns(c.endpoint)+","+trap.addr)
	code, res, stderr = runRedrive(t, c, env, "-since", "1h")
	if code != 0 || res.Redriven != 1 || res.Logs != 1500 {
		t.Fatalf("redrive exit %d, %+v: want the range shipped from SLS_ENDPOINT\n%s", code, res, stderr)
	}
	if n := trap.conns.Load(); n != 0 {
		t.Errorf("%d connections reached the other port", n)
	}
	t.Logf("records naming 127.0.0.1 on another port: connections there %d", trap.conns.Load())
}

// TestAttackMemory: 3 000 records of 256 KB each (750 MB in the logstore)
// and one real failed range: redrive's peak RSS (the real binary, as the
// FC function with 512 MB) stays under 60 % of it, and the real range is
// shipped. Before: 770 MiB (10 records of 256 KB: 17 MiB).
func TestAttackMemory(t *testing.T) {
	rs := startRsyslog(t)
	c := dlCloud(t)
	big := strings.Repeat("x", 256<<10)
	forged := make([]deadletter.Record, 0, 100)
	for i := range 3000 {
		r := c.rangeOf(t, i%2)
		r.State, r.Error, r.RequestID = deadletter.StateResolved, big, "forged-"+strconv.Itoa(i)
		forged = append(forged, r)
		if len(forged) == cap(forged) {
			dlForge(t, c, attackerKeys, forged...)
			forged = forged[:0]
		}
	}
	dlForge(t, c, dlKeys, c.rangeOf(t, 1))
	const memoryMB = 512
	code, res, stderr, rss := runRedriveRSS(t, c, append(dlEnv(rs.Ports().TCP), "FC_FUNCTION_MEMORY_SIZE="+strconv.Itoa(memoryMB)), "-since", "1h")
	if code != 0 || res.Redriven != 1 || res.Unsigned != 3000 {
		t.Fatalf("redrive exit %d, %+v\n%s", code, res, stderr)
	}
	limit := int64(memoryMB) << 20 * 60 / 100
	if rss > limit {
		t.Errorf("peak RSS %d MiB, more than 60%% of %d MB (%d MiB)", rss>>20, memoryMB, limit>>20)
	}
	t.Logf("3000 records of 256 KB, FC_FUNCTION_MEMORY_SIZE=512: peak RSS %d MiB (limit %d MiB)", rss>>20, limit>>20)
}

// runRedriveRSS is runRedrive that also returns the process's peak RSS
// in bytes (VmHWM, read while it runs).
func runRedriveRSS(t *testing.T, c *cloud, env []string, args ...string) (int, redriveResult, string, int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, functionBinary, append([]string{"redrive"}, args...)...)
	cmd.Env = append(append(slices.Clone(os.Environ()), localcloud.TrustEnv(c.endpoint)...), env...)
	cmd.Env = append(cmd.Env, "SLS_ENDPOINT="+c.endpoint, "SLS_PROJECT="+c.data.Project, "SHIP_REDRIVE_LOGSTORES="+c.data.Logstore,
		"ALIBABA_CLOUD_ACCESS_KEY_ID="+c.role.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET="+c.role.AccessKeySecret,
		"ALIBABA_CLOUD_SECURITY_TOKEN="+c.role.SecurityToken)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var peak atomic.Int64
	done := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for {
			if kb := vmHWM(cmd.Process.Pid); kb<<10 > peak.Load() {
				peak.Store(kb << 10)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	<-polled
	c.output.Write(stdout.Bytes())
	c.output.Write(stderr.Bytes())
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var res redriveResult
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); err != nil {
		t.Fatalf("redrive printed %q, not its JSON result (stderr %s)", stdout.String(), stderr.String())
	}
	return code, res, stderr.String(), peak.Load()
}

// vmHWM is a process's peak resident set size in KiB (0 once it is gone).
func vmHWM(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}
