package e2e

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"sls2siem/internal/deadletter"
	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/fcemu"
	"sls2siem/internal/localcloud/slsemu"
	"sls2siem/internal/secret"
	"sls2siem/internal/slsapi"
)

// TestRedriveAfterReceiverDownPastRetries: the receiver is down past the
// trigger's retries, comes back, and redrive ships every dead-lettered
// range: every log delivered at least once, none lost; a second pass finds
// nothing to do.
func TestRedriveAfterReceiverDownPastRetries(t *testing.T) {
	rs := startRsyslog(t)
	rs.Stop(t)
	c := dlCloud(t)
	dlFailAll(t, c, rs.Ports().TCP, 1)
	rs.start(t)
	code, res, stderr := runRedrive(t, c, dlEnv(rs.Ports().TCP), "-since", "1h")
	if code != 0 || res.Ranges != 2 || res.Redriven != 2 || res.Logs != 3000 {
		t.Fatalf("redrive exit %d, result %+v, want 2 ranges redriven, 3000 logs\n%s", code, res, stderr)
	}
	run := trCount(t, c, rs.WaitForCount(t, 3000, 60*time.Second))
	if run.missing != 0 {
		t.Fatalf("%d logs lost: %s", run.missing, run)
	}
	states := dlStates(dlRecords(t, c))
	if states[deadletter.StateResolved] != 2 {
		t.Errorf("records %v: want 2 resolved", states)
	}
	code, res, stderr = runRedrive(t, c, dlEnv(rs.Ports().TCP), "-since", "1h")
	if code != 0 || res.Ranges != 0 {
		t.Fatalf("second pass: exit %d, result %+v: want nothing to do\n%s", code, res, stderr)
	}
	t.Logf("receiver down past the retries, then redrive: %s; %d ranges dead-lettered, %d redriven", run, 2, 2)
}

// TestRedriveExpired: a dead-lettered range whose data left the source
// (TTL) is recorded expired, logged at ERROR and counted, with exit 3.
func TestRedriveExpired(t *testing.T) {
	rs := startRsyslog(t)
	rs.Stop(t)
	c := dlCloud(t)
	dlFailAll(t, c, rs.Ports().TCP, 0)
	if _, err := c.emu.ExpireBefore(c.data.Project, c.data.Logstore, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	rs.start(t)
	code, res, stderr := runRedrive(t, c, dlEnv(rs.Ports().TCP), "-since", "1h")
	if code != 3 || res.Expired != 2 || res.Redriven != 0 {
		t.Fatalf("redrive exit %d, result %+v: want exit 3, 2 expired\n%s", code, res, stderr)
	}
	if !strings.Contains(stderr, `"level":"ERROR","msg":"redrive: range expired`) {
		t.Errorf("no ERROR line for the expired ranges:\n%s", stderr)
	}
	if st := dlStates(dlRecords(t, c)); st[deadletter.StateExpired] != 2 {
		t.Errorf("records %v: want 2 expired", st)
	}
	// A later pass does not retry them: expired is final.
	code, res, _ = runRedrive(t, c, dlEnv(rs.Ports().TCP), "-since", "1h")
	if code != 0 || res.Ranges != 0 {
		t.Errorf("second pass: exit %d, %+v: want nothing to do", code, res)
	}
	t.Logf("range past the source's TTL: %d ranges expired, exit %d", 2, 3)
}

// TestRedriveConcurrentWithTriggerRetries: redrive ships the dead-lettered
// ranges while the trigger retries the same ranges: duplicates, no loss.
func TestRedriveConcurrentWithTriggerRetries(t *testing.T) {
	rs := startRsyslog(t)
	rs.Stop(t)
	c := dlCloud(t)
	dlFailAll(t, c, rs.Ports().TCP, 0)
	rs.start(t)
	fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{Timeout: 30 * time.Second, InstanceConcurrency: 2,
		Env: dlEnv(rs.Ports().TCP)})
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for shard := range c.data.Shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, e := c.shardRange(t, shard)
			res, err := fn.Invoke(context.Background(), c.event(shard, b, e))
			if err != nil {
				errs <- err.Error()
			} else if res.Err != nil {
				errs <- res.Err.Message
			}
		}()
	}
	code, res, stderr := runRedrive(t, c, dlEnv(rs.Ports().TCP), "-since", "1h")
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("trigger retry failed: %s", e)
	}
	if code != 0 || res.Redriven != 2 {
		t.Fatalf("redrive exit %d, %+v\n%s", code, res, stderr)
	}
	run := trCount(t, c, rs.WaitForCount(t, 6000, 60*time.Second))
	if run.missing != 0 {
		t.Fatalf("%d logs lost: %s", run.missing, run)
	}
	t.Logf("redrive concurrent with the trigger's retries: %s", run)
}

// TestRedriveSkipsBadRecords: records with a disallowed endpoint, another
// project or a malformed cursor are skipped with a warning naming them,
// never shipped.
func TestRedriveSkipsBadRecords(t *testing.T) {
	c := dlCloud(t)
	cl, err := slsapi.New(c.endpoint, secret.Credentials{AccessKeyID: c.loader.AccessKeyID, AccessKeySecret: c.loader.AccessKeySecret},
		slsapi.NewTransport(localcloud.LocalEndpoints(c.endpoint)))
	if err != nil {
		t.Fatal(err)
	}
	b, e := c.shardRange(t, 0)
	base := deadletter.Record{State: deadletter.StateFailed, Endpoint: c.endpoint, Project: c.data.Project, Logstore: c.data.Logstore,
		BeginCursor: b, EndCursor: e}
	evil, other, badCursor := base, base, base
	evil.Endpoint = "https://evil.example.com"
	other.Project = "someone-elses"
	badCursor.EndCursor = "!!"
	if err := deadletter.Append(context.Background(), cl, c.data.Project, dlLogstore, dlKeys, evil, other, badCursor); err != nil {
		t.Fatal(err)
	}
	code, res, stderr := runRedrive(t, c, dlEnv(1), "-since", "1h")
	if code != 0 || res.Skipped != 3 || res.Ranges != 0 {
		t.Fatalf("redrive exit %d, %+v: want 3 skipped, nothing shipped\n%s", code, res, stderr)
	}
	for _, want := range []string{"evil.example.com", "someone-elses", "field endCursor"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("no warning naming %q:\n%s", want, stderr)
		}
	}
	if n := c.emu.Requests(slsemu.OpPullLogs); n > 2 {
		t.Errorf("%d pulls: the source was read for a bad record", n)
	}
}
