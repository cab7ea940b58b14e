package redrive

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
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
			"SYSLOG_DIAL_TIMEOUT": "500ms", "SLS_ALLOWED_ENDPOINTS": localcloud.AllowedPatterns(e.endpoint), "SLS_HTTPS": "false"}[k]
	}, config.UseRedriveFC)
	if err != nil && config.Problems(err)[0].Var != config.VarShipDeadLetterLogstore {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(e.logs, nil))
	shipper := ship.New(cfg, log)
	t.Cleanup(func() { shipper.Close() })
	if e.client, err = slsapi.New(e.endpoint, creds, shipper.SLSTransport()); err != nil {
		t.Fatal(err)
	}
	return Options{Shipper: shipper, Client: e.client, Allowed: cfg.Endpoints, Project: project, Logstore: dl,
		Group: group, Since: time.Hour, Log: log}
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
	if err := deadletter.Append(t.Context(), e.client, project, dl, recs...); err != nil {
		t.Fatal(err)
	}
}

// states counts the dead-letter records by state, per range.
func (e *env) states(t *testing.T) map[string]int {
	t.Helper()
	n := map[string]int{}
	for shard := range 2 {
		b, _ := e.emu.Cursor(project, dl, shard, "begin")
		end, _ := e.emu.Cursor(project, dl, shard, "end")
		err := deadletter.Read(t.Context(), e.client, project, dl, shard, b, end, e.opts.Allowed, func(_ string, r deadletter.Record, err error) {
			if err == nil {
				n[r.State]++
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return n
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
