package redrive

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/config"
	"sls2siem/internal/deadletter"
	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/receiver"
	"sls2siem/internal/localcloud/slsemu"
	"sls2siem/internal/secret"
	"sls2siem/internal/ship"
	"sls2siem/internal/slsapi"
	"sls2siem/internal/trust"
)

// The tests run passes against the SLS emulator, through the real SDK,
// shipping to a loopback receiver that counts what it gets.

const (
	project = "proj"
	source  = "audit"
	dl      = "deadletter"
	group   = "redrive-test"
	logsPer = 4 // logs per log group
	groups  = 5 // log groups per source shard
)

var creds = secret.Credentials{AccessKeyID: "LTAI-redrive", AccessKeySecret: "redrive-secret"}

// key signs the records of the tests (SHIP_DEADLETTER_KEY).
const key = "redrive-test-key-0123456789abcdef0123"

type env struct {
	emu      *slsemu.Server
	endpoint string
	client   *slsapi.Client
	rcv      *receiver.Receiver
	got      chan struct{} // a message received
	logs     *bytes.Buffer
	opts     Options
}

// newEnv starts the emulator (a two-shard source of groups×logsPer logs
// per shard, an empty dead-letter logstore) and a receiver.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{emu: slsemu.New(), logs: &bytes.Buffer{}}
	e.emu.AddCredential(slsemu.Credential{AccessKeyID: creds.AccessKeyID, AccessKeySecret: creds.AccessKeySecret})
	var err error
	if e.endpoint, err = e.emu.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.emu.Close() })
	for _, ls := range []string{source, dl} {
		if err := e.emu.CreateLogstore(project, ls, 2); err != nil {
			t.Fatal(err)
		}
	}
	for shard := range 2 {
		for g := range groups {
			lg := &sls.LogGroup{}
			for range logsPer {
				lg.Logs = append(lg.Logs, &sls.Log{Time: proto.Uint32(uint32(time.Now().Unix())),
					Contents: []*sls.LogContent{{Key: proto.String("g"), Value: proto.String(string(rune('a' + g)))}}})
			}
			if _, err := e.emu.Append(project, source, shard, lg, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.got = make(chan struct{}, 1024)
	if e.rcv, err = receiver.Listen("tcp", "127.0.0.1:0", receiver.Options{Handle: func(receiver.Message) { e.got <- struct{}{} }}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.rcv.Close() })
	e.opts = e.options(t, e.rcv.Addr())
	return e
}

// options are a pass's options shipping to the receiver at addr.
func (e *env) options(t *testing.T, addr string) Options {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"SYSLOG_HOST": host, "SYSLOG_PORT": port, "SYSLOG_MAX_RETRIES": "0",
			"SYSLOG_DIAL_TIMEOUT": "500ms", "SLS_ALLOWED_ENDPOINTS": localcloud.AllowedPatterns(e.endpoint), "SLS_HTTPS": "false",
			"SLS_ENDPOINT": e.endpoint, "SLS_PROJECT": project, "SHIP_DEADLETTER_LOGSTORE": dl, "SHIP_DEADLETTER_KEY": key,
			"SHIP_REDRIVE_LOGSTORES": source, "SHIP_DEADLINE_MARGIN": "200ms"}[k]
	}, config.UseRedriveFC)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(e.logs, nil))
	shipper := ship.New(cfg, log)
	t.Cleanup(func() { shipper.Close() })
	if e.client, err = slsapi.New(e.endpoint, creds, shipper.SLSTransport()); err != nil {
		t.Fatal(err)
	}
	return Options{Shipper: shipper, Client: e.client, Project: project, Sources: cfg.RedriveLogstores,
		Verifier: deadletter.Verifier{Keys: cfg.DeadLetterKeys, Allowed: cfg.Endpoints, Logstore: dl},
		Margin:   cfg.DeadlineMargin, Group: group, Since: time.Hour, Log: log}
}

// failed records a failed record of each source shard's whole range.
func (e *env) failed(t *testing.T) []deadletter.Record {
	t.Helper()
	var recs []deadletter.Record
	for shard := range 2 {
		b, _ := e.emu.Cursor(project, source, shard, "begin")
		end, _ := e.emu.Cursor(project, source, shard, "end")
		recs = append(recs, deadletter.Record{State: deadletter.StateFailed, Endpoint: e.endpoint, Project: project,
			Logstore: source, Shard: shard, BeginCursor: b, EndCursor: end, RequestID: "req"})
	}
	e.append(t, recs...)
	return recs
}

func (e *env) append(t *testing.T, recs ...deadletter.Record) {
	t.Helper()
	if err := deadletter.Append(t.Context(), e.client, project, dl, e.opts.Verifier.Keys, recs...); err != nil {
		t.Fatal(err)
	}
}

// states counts the dead-letter records by state.
func (e *env) states(t *testing.T) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, r := range e.records(t) {
		n[r.State]++
	}
	return n
}

// records reads every signed dead-letter record, in each shard's order.
func (e *env) records(t *testing.T) []deadletter.Record {
	t.Helper()
	var out []deadletter.Record
	for shard := range 2 {
		b, _ := e.emu.Cursor(project, dl, shard, "begin")
		end, _ := e.emu.Cursor(project, dl, shard, "end")
		_, err := deadletter.Read(t.Context(), e.client, project, shard, b, end, deadletter.ReadOptions{Verifier: e.opts.Verifier},
			func(_ string, r deadletter.Record, err error) bool {
				if err == nil {
					out = append(out, r)
				}
				return true
			})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// waitFor waits until the receiver got n messages.
func (e *env) waitFor(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for i := range n {
		select {
		case <-e.got:
		case <-timeout:
			t.Fatalf("the receiver got %d messages, want %d", i, n)
		}
	}
}

func TestFailedRangesAreShippedAndResolved(t *testing.T) {
	e := newEnv(t)
	recs := e.failed(t)
	// A range failed and then resolved (the trigger's retry) is not shipped.
	done := recs[0]
	done.BeginCursor, done.State = slsapi.Cursor(1600000000000000002), deadletter.StateFailed
	e.append(t, done)
	done.State = deadletter.StateResolved
	e.append(t, done)

	res, err := Run(t.Context(), e.opts)
	if err != nil || !res.Read || res.Records != 4 || res.Ranges != 2 || res.Redriven != 2 || res.Logs != 2*groups*logsPer {
		t.Fatalf("pass: %+v, %v; want 4 records, 2 ranges redriven, %d logs", res, err, 2*groups*logsPer)
	}
	e.waitFor(t, 2*groups*logsPer)
	if st := e.states(t); st[deadletter.StateResolved] != 3 {
		t.Errorf("records %v: want the 2 ranges resolved (3 resolved records)", st)
	}
	// A second pass of the same period finds nothing to do.
	res, err = Run(t.Context(), e.opts)
	if err != nil || res.Ranges != 0 || res.Records != 6 {
		t.Errorf("second pass: %+v, %v", res, err)
	}
}

// TestCheckpointsMoveAfterAPass: without -since, the group's checkpoints
// say where the last pass stopped.
func TestCheckpointsMoveAfterAPass(t *testing.T) {
	e := newEnv(t)
	e.failed(t)
	e.opts.Since = 0
	res, err := Run(t.Context(), e.opts)
	if err != nil || res.Records != 2 || res.Redriven != 2 {
		t.Fatalf("first pass: %+v, %v", res, err)
	}
	// The second pass reads the records the first wrote (resolved:
	// nothing to ship), the third nothing.
	res, err = Run(t.Context(), e.opts)
	if err != nil || res.Records != 2 || res.Ranges != 0 || !res.Read {
		t.Errorf("second pass: %+v, %v; want the 2 resolved records read, nothing shipped", res, err)
	}
	res, err = Run(t.Context(), e.opts)
	if err != nil || res.Records != 0 || res.Ranges != 0 || !res.Read {
		t.Errorf("third pass: %+v, %v; want nothing read after the checkpoints", res, err)
	}
}

func TestExpiredRangesAreRecordedAndSaid(t *testing.T) {
	e := newEnv(t)
	e.failed(t)
	if _, err := e.emu.ExpireBefore(project, source, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	res, err := Run(t.Context(), e.opts)
	var expired *ExpiredError
	if !errors.As(err, &expired) || expired.Expired != 2 || res.Expired != 2 || res.Redriven != 0 || !strings.Contains(err.Error(), "2 ranges expired") {
		t.Fatalf("pass: %+v, %v; want 2 expired", res, err)
	}
	if st := e.states(t); st[deadletter.StateExpired] != 2 {
		t.Errorf("records %v: want 2 expired", st)
	}
	if !strings.Contains(e.logs.String(), "range expired") {
		t.Errorf("no log line for the expired ranges:\n%s", e.logs)
	}
}

func TestRangesFailedAgainStayFailed(t *testing.T) {
	e := newEnv(t)
	e.failed(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	opts := e.options(t, closed)
	res, err := Run(t.Context(), opts)
	var expired *ExpiredError
	if err == nil || errors.As(err, &expired) || res.Failed != 2 || !strings.Contains(err.Error(), "2 ranges of 2 failed again") {
		t.Fatalf("pass: %+v, %v; want 2 failed again", res, err)
	}
	if st := e.states(t); st[deadletter.StateFailed] != 4 {
		t.Errorf("records %v: want the 2 failures recorded again", st)
	}
}

func TestBadRecordsAreSkipped(t *testing.T) {
	e := newEnv(t)
	recs := e.failed(t)
	evil, other, bad := recs[0], recs[0], recs[1]
	evil.Endpoint = "https://evil.example.com"
	other.Project = "someone-elses"
	bad.EndCursor = "!!"
	e.append(t, evil, other, bad)
	res, err := Run(t.Context(), e.opts)
	if err != nil || res.Skipped != 3 || res.Redriven != 2 {
		t.Fatalf("pass: %+v, %v; want 3 skipped, the 2 good ranges redriven", res, err)
	}
	for _, want := range []string{"evil.example.com", "someone-elses", "field endCursor"} {
		if !strings.Contains(e.logs.String(), want) {
			t.Errorf("no warning naming %q", want)
		}
	}
}

// TestUnreachableSLSShipsNothing: a pass that cannot read its records
// reports the endpoint, and no result.
func TestUnreachableSLSShipsNothing(t *testing.T) {
	e := newEnv(t)
	e.emu.Close()
	res, err := Run(context.Background(), e.opts)
	var ue *slsapi.UnreachableError
	if res.Read || !errors.As(err, &ue) || ue.Endpoint != e.endpoint {
		t.Errorf("pass: %+v, %v; want no result and the endpoint unreachable", res, err)
	}
}

// sourceRange is the whole range of a source shard.
func (e *env) sourceRange(shard int) (string, string) {
	b, _ := e.emu.Cursor(project, source, shard, "begin")
	end, _ := e.emu.Cursor(project, source, shard, "end")
	return b, end
}

// received counts the messages the receiver got until it has been quiet
// for a while.
func (e *env) received() int {
	n := 0
	for {
		select {
		case <-e.got:
			n++
		case <-time.After(300 * time.Millisecond):
			return n
		}
	}
}

// TestUnsignedRecordsAreNeverActedOn: records without a valid MAC (an
// attacker's key, no MAC), resolved ones included, are skipped with one
// warning each and counted; the real range is shipped all the same.
func TestUnsignedRecordsAreNeverActedOn(t *testing.T) {
	e := newEnv(t)
	recs := e.failed(t)
	attacker, err := deadletter.NewKeys("an-attacker-key-0123456789abcdef0123", "")
	if err != nil {
		t.Fatal(err)
	}
	forged := recs[0]
	forged.State = deadletter.StateResolved
	if err := deadletter.Append(t.Context(), e.client, project, dl, attacker, forged); err != nil {
		t.Fatal(err)
	}
	res, err := Run(t.Context(), e.opts)
	if err != nil || res.Skipped != 1 || res.Unsigned != 1 || res.Redriven != 2 {
		t.Fatalf("pass: %+v, %v; want the forged record skipped, unsigned, and both ranges shipped", res, err)
	}
	if n := strings.Count(e.logs.String(), "rule=unsigned"); n != 1 {
		t.Errorf("%d warnings of an unsigned record, want 1:\n%s", n, e.logs)
	}
	if strings.Contains(e.logs.String(), key) {
		t.Error("the key reached a log line")
	}
}

// TestRequestsGoToSLSEndpointOnly: a signed record naming another
// endpoint (allowed, even) is shipped from SLS_ENDPOINT: nothing reaches
// the other one.
func TestRequestsGoToSLSEndpointOnly(t *testing.T) {
	e := newEnv(t)
	trap, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer trap.Close()
	var conns atomic.Int64
	go func() {
		for {
			c, err := trap.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	// The allow-list admits the trap too: the record is valid, and still
	// the request goes to SLS_ENDPOINT.
	allowed, err := trust.ParseEndpoints(localcloud.AllowedPatterns(e.endpoint)+","+trap.Addr().String(), false)
	if err != nil {
		t.Fatal(err)
	}
	e.opts.Verifier.Allowed = allowed
	b, end := e.sourceRange(0)
	e.append(t, deadletter.Record{State: deadletter.StateFailed, Endpoint: "http://" + trap.Addr().String(), Project: project,
		Logstore: source, Shard: 0, BeginCursor: b, EndCursor: end, RequestID: "req"})
	res, err := Run(t.Context(), e.opts)
	if err != nil || res.Redriven != 1 || res.Logs != groups*logsPer {
		t.Fatalf("pass: %+v, %v", res, err)
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("%d connections reached the endpoint the record names", n)
	}
}

// TestOnlyAllowedSourcesAreShipped: a signed record naming the dead-letter
// logstore itself, or a logstore not in SHIP_REDRIVE_LOGSTORES, is
// skipped: its data never reaches the receiver.
func TestOnlyAllowedSourcesAreShipped(t *testing.T) {
	e := newEnv(t)
	if err := e.emu.CreateLogstore(project, "other", 1); err != nil {
		t.Fatal(err)
	}
	self := deadletter.Record{State: deadletter.StateFailed, Endpoint: e.endpoint, Project: project, Logstore: dl,
		BeginCursor: slsapi.Cursor(slsemu.CursorBase), EndCursor: slsapi.Cursor(slsemu.CursorBase + 1)}
	other := self
	other.Logstore = "other"
	e.append(t, self, other)
	res, err := Run(t.Context(), e.opts)
	if err != nil || res.Skipped != 2 || res.Ranges != 0 || res.Unsigned != 0 {
		t.Fatalf("pass: %+v, %v; want both skipped", res, err)
	}
	for _, want := range []string{"the dead-letter logstore itself", "not one of SHIP_REDRIVE_LOGSTORES (audit)"} {
		if !strings.Contains(e.logs.String(), want) {
			t.Errorf("no warning saying %q:\n%s", want, e.logs)
		}
	}
	if n := e.received(); n != 0 {
		t.Errorf("%d messages shipped", n)
	}
}

// TestRangesThatCannotExistAreInvalid: a range past its shard's end (or
// backwards) is checked against the shard before anything is read:
// recorded invalid once, nothing shipped, and no later pass tries it.
func TestRangesThatCannotExistAreInvalid(t *testing.T) {
	e := newEnv(t)
	b, end := e.sourceRange(0)
	en, _ := slsapi.CursorNumber(end)
	past := deadletter.Record{State: deadletter.StateFailed, Endpoint: e.endpoint, Project: project, Logstore: source,
		BeginCursor: b, EndCursor: slsapi.Cursor(en + 50)}
	backwards := past
	backwards.Shard, backwards.BeginCursor, backwards.EndCursor = 1, end, b
	e.append(t, past, backwards)
	pulls := e.emu.Requests(slsemu.OpPullLogs)
	res, err := Run(t.Context(), e.opts)
	if err != nil || res.Invalid != 2 || res.Logs != 0 || res.Failed != 0 {
		t.Fatalf("pass: %+v, %v; want 2 invalid, nothing shipped, no failure", res, err)
	}
	if !strings.Contains(e.logs.String(), "50 log groups past the shard's end cursor") || !strings.Contains(e.logs.String(), "begin cursor is after its end cursor") {
		t.Errorf("the warnings do not say why:\n%s", e.logs)
	}
	// Two pulls: the dead-letter shards'. None of the source.
	if n := e.emu.Requests(slsemu.OpPullLogs) - pulls; n > 2 {
		t.Errorf("%d pulls: the source was read", n)
	}
	res, err = Run(t.Context(), e.opts)
	if err != nil || res.Ranges != 0 {
		t.Errorf("second pass: %+v, %v; want nothing to do", res, err)
	}
	if n := e.received(); n != 0 {
		t.Errorf("%d messages shipped", n)
	}
}

// TestProgressSurvivesPasses: a range too large for one pass's time is
// shipped over several, each resuming at the last confirmed chunk: every
// log arrives, and what arrives twice is at most the chunk cut at the end
// of each pass.
func TestProgressSurvivesPasses(t *testing.T) {
	e := newEnv(t)
	b, end := e.sourceRange(0)
	e.append(t, deadletter.Record{State: deadletter.StateFailed, Endpoint: e.endpoint, Project: project, Logstore: source,
		BeginCursor: b, EndCursor: end})
	e.opts.Since, e.opts.Chunk, e.opts.RangeTime = 0, 1, 10*time.Second
	e.opts.Now = newStepClock(3 * time.Second).Now
	passes, shipped := 0, int64(0)
	for ; passes < 20; passes++ {
		res, err := Run(t.Context(), e.opts)
		if err != nil {
			t.Fatalf("pass %d: %+v, %v", passes+1, res, err)
		}
		shipped += res.Logs
		if res.Redriven == 1 {
			passes++
			break
		}
		if res.Progressed != 1 {
			t.Fatalf("pass %d: %+v; want the range continued", passes+1, res)
		}
	}
	if passes < 2 || passes >= 20 {
		t.Fatalf("%d passes: want the range shipped over several", passes)
	}
	got := e.received()
	if shipped != groups*logsPer || got < groups*logsPer || got > groups*logsPer+passes*logsPer {
		t.Errorf("%d passes confirmed %d logs, the receiver got %d: want %d, and at most one chunk again per pass",
			passes, shipped, got, groups*logsPer)
	}
	recs := e.records(t)
	var progress int
	for _, r := range recs {
		if r.State == deadletter.StateProgress {
			progress++
			if n, _ := slsapi.Distance(b, r.NextCursor); n == 0 {
				t.Errorf("a progress record at the range's beginning: %+v", r)
			}
		}
	}
	if progress != passes-1 {
		t.Errorf("%d progress records for %d passes", progress, passes)
	}
}

// TestRangesAreServedRoundRobin: ranges that take all their time cannot
// starve another: a range recorded after them is shipped by the second
// pass, ahead of the ones the first pass tried.
func TestRangesAreServedRoundRobin(t *testing.T) {
	e := newEnv(t)
	const fast = "fast"
	if err := e.emu.CreateLogstore(project, fast, 1); err != nil {
		t.Fatal(err)
	}
	lg := &sls.LogGroup{Logs: []*sls.Log{{Time: proto.Uint32(uint32(time.Now().Unix())),
		Contents: []*sls.LogContent{{Key: proto.String("g"), Value: proto.String("fast")}}}}}
	if _, err := e.emu.Append(project, fast, 0, lg, time.Now()); err != nil {
		t.Fatal(err)
	}
	e.opts.Sources = []string{source, fast}
	var slow []deadletter.Record
	for shard := range 2 {
		b, end := e.sourceRange(shard)
		bn, _ := slsapi.CursorNumber(b)
		for i := range int64(groups) { // distinct ranges of the slow logstore
			slow = append(slow, deadletter.Record{State: deadletter.StateFailed, Endpoint: e.endpoint, Project: project, Logstore: source,
				Shard: shard, BeginCursor: slsapi.Cursor(bn + i), EndCursor: end, CursorTime: 1000 + i})
		}
	}
	e.append(t, slow...)
	fb, _ := e.emu.Cursor(project, fast, 0, "begin")
	fe, _ := e.emu.Cursor(project, fast, 0, "end")
	e.append(t, deadletter.Record{State: deadletter.StateFailed, Endpoint: e.endpoint, Project: project, Logstore: fast,
		BeginCursor: fb, EndCursor: fe, CursorTime: 5000})
	clock := newStepClock(3 * time.Second)
	e.opts.Chunk, e.opts.RangeTime, e.opts.Now = 1, 10*time.Second, clock.Now
	pass := func() Result {
		// Room for a few slow ranges, not all: the pass's deadline is read
		// on the stepping clock (and lies further ahead in real time).
		ctx, cancel := context.WithDeadline(t.Context(), clock.Peek().Add(80*time.Second))
		defer cancel()
		res, err := Run(ctx, e.opts)
		if err != nil {
			t.Fatalf("pass: %+v, %v\n%s", res, err, e.logs)
		}
		return res
	}
	first := pass()
	if first.Deferred == 0 || first.Progressed == 0 || first.Failed != 0 {
		t.Fatalf("first pass: %+v; want the slow ranges to take its time, the others deferred", first)
	}
	fastShipped := func() bool {
		for _, r := range e.records(t) {
			if r.Logstore == fast && r.State == deadletter.StateResolved {
				return true
			}
		}
		return false
	}
	if fastShipped() {
		t.Fatal("the range recorded last was shipped in the first pass: the test does not starve it")
	}
	// Served least recently tried first: the ranges the first pass did
	// not reach go before the ones it tried, however old.
	for n := 2; !fastShipped(); n++ {
		if n > 3 {
			t.Fatal("the fast range was not shipped by the third pass: starved")
		}
		pass()
	}
}

// TestFailingRangesBackOff: a range that keeps failing is tried again
// after a pause that doubles, its attempts and next try in its records;
// it is said at ERROR after ErrorAfter failures, and never dropped.
func TestFailingRangesBackOff(t *testing.T) {
	e := newEnv(t)
	b, end := e.sourceRange(0)
	e.append(t, deadletter.Record{State: deadletter.StateFailed, Endpoint: e.endpoint, Project: project, Logstore: source,
		BeginCursor: b, EndCursor: end})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	now := time.Now()
	opts := e.options(t, closed)
	opts.Now = func() time.Time { return now }
	opts.Since = 0
	for attempt := 1; attempt <= ErrorAfter; attempt++ {
		res, err := Run(t.Context(), opts)
		if err == nil || res.Failed != 1 {
			t.Fatalf("try %d: %+v, %v; want it failed", attempt, res, err)
		}
		last := e.records(t)[len(e.records(t))-1]
		want := now.Add(DefaultBackoff << (attempt - 1)).Truncate(time.Second)
		if last.State != deadletter.StateFailed || last.Attempts != attempt || !last.NextTry.Equal(want) {
			t.Fatalf("try %d: record %+v; want attempts %d, next try %v", attempt, last, attempt, want)
		}
		// Before the pause is over, the range waits (and stays recorded).
		res, err = Run(t.Context(), opts)
		if err != nil || res.Deferred != 1 || res.Failed != 0 {
			t.Fatalf("during the pause: %+v, %v; want it deferred", res, err)
		}
		now = last.NextTry
	}
	if !strings.Contains(e.logs.String(), "range keeps failing") || strings.Count(e.logs.String(), "range failed again") != ErrorAfter-1 {
		t.Errorf("want WARN lines, then ERROR at the %dth failure:\n%s", ErrorAfter, e.logs)
	}
	// -retry-now tries it at once; with the receiver back it is shipped.
	e.opts.RetryNow, e.opts.Since = true, 0
	res, err := Run(t.Context(), e.opts)
	if err != nil || res.Redriven != 1 {
		t.Fatalf("retry now: %+v, %v", res, err)
	}
}

// TestMemoryHoldsMaxRanges: a pass keeps at most MaxRanges ranges in
// memory; the others wait behind the checkpoint and later passes reach
// them: none is lost.
func TestMemoryHoldsMaxRanges(t *testing.T) {
	e := newEnv(t)
	var recs []deadletter.Record
	for shard := range 2 {
		b, end := e.sourceRange(shard)
		bn, _ := slsapi.CursorNumber(b)
		for i := range int64(5) {
			recs = append(recs, deadletter.Record{State: deadletter.StateFailed, Endpoint: e.endpoint, Project: project, Logstore: source,
				Shard: shard, BeginCursor: slsapi.Cursor(bn + i), EndCursor: end})
		}
	}
	e.append(t, recs...)
	e.opts.Since, e.opts.MaxRanges = 0, 4
	redriven := 0
	for pass := 1; redriven < len(recs); pass++ {
		if pass > 10 {
			t.Fatalf("%d of %d ranges shipped after 10 passes", redriven, len(recs))
		}
		res, err := Run(t.Context(), e.opts)
		if err != nil || res.Ranges > 4 {
			t.Fatalf("pass %d: %+v, %v; want at most 4 ranges in memory", pass, res, err)
		}
		redriven += res.Redriven
	}
	if !strings.Contains(e.logs.String(), "the ranges in memory reached the bound") {
		t.Errorf("no line says the pass left records for the next:\n%s", e.logs)
	}
}

// TestReplayedRecordsChangeNothing: a copy of an older genuine record
// (failed) appended after the range was resolved does not make it ship
// again: the state is the record with the latest signed write time.
func TestReplayedRecordsChangeNothing(t *testing.T) {
	e := newEnv(t)
	b, end := e.sourceRange(0)
	rec := deadletter.Record{State: deadletter.StateFailed, Endpoint: e.endpoint, Project: project, Logstore: source,
		BeginCursor: b, EndCursor: end}
	e.append(t, rec)
	sdk := localcloud.NewSLSClient(e.endpoint, slsemu.Credential{AccessKeyID: creds.AccessKeyID, AccessKeySecret: creds.AccessKeySecret})
	var genuine *sls.LogGroup
	for shard := range 2 {
		db, _ := e.emu.Cursor(project, dl, shard, "begin")
		de, _ := e.emu.Cursor(project, dl, shard, "end")
		if db == de {
			continue
		}
		list, _, err := sdk.PullLogs(project, dl, shard, db, de, 10)
		if err != nil {
			t.Fatal(err)
		}
		genuine = list.LogGroups[0]
	}
	rec.State = deadletter.StateResolved
	e.append(t, rec)
	if err := sdk.PutLogs(project, dl, genuine); err != nil { // the replay
		t.Fatal(err)
	}
	res, err := Run(t.Context(), e.opts)
	if err != nil || res.Records != 3 || res.Ranges != 0 || res.Skipped != 0 {
		t.Fatalf("pass: %+v, %v; want the replay read, signed, and nothing to ship", res, err)
	}
}

// stepClock is the clock of the tests whose passes run out of time: it
// advances step at every reading, from the real time it was made, so a
// pass's time runs out after a fixed number of readings (so of chunks)
// whatever the machine's load; and every real deadline taken from it lies
// later in real time than the time it stands for, so that no real timeout
// cuts a chunk short.
type stepClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func newStepClock(step time.Duration) *stepClock { return &stepClock{t: time.Now(), step: step} }

// Now advances the clock and reads it.
func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

// Peek reads the clock without advancing it.
func (c *stepClock) Peek() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}
