package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"sls2siem/internal/deadletter"
	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/fcemu"
	"sls2siem/internal/localcloud/slsemu"
	"sls2siem/internal/secret"
	"sls2siem/internal/slsapi"
)

// dlLogstore is the dead-letter logstore of these tests, dlKey the key of
// its records (SHIP_DEADLETTER_KEY).
const (
	dlLogstore = "sls2siem-deadletter"
	dlKey      = "e2e-deadletter-key-MARKERDLKEY-0123456789"
)

// dlKeys are dlKey as the records' writer and reader take it.
var dlKeys = func() deadletter.Keys {
	k, err := deadletter.NewKeys(dlKey, "")
	if err != nil {
		panic(err)
	}
	return k
}()

// dlCloud is a local cloud with an empty dead-letter logstore in the
// sample's project.
func dlCloud(t *testing.T) *cloud {
	t.Helper()
	c := newCloud(t)
	if err := c.emu.CreateLogstore(c.data.Project, dlLogstore, 2); err != nil {
		t.Fatal(err)
	}
	return c
}

// dlEnv is the function's environment: receiver at port, no retries of
// its own, dead-letter records on, every message stamped with its origin.
func dlEnv(port int, extra ...string) []string {
	return append(trEnv(port, "SYSLOG_MAX_RETRIES=0", "SYSLOG_RETRY_BACKOFF=10ms", "SYSLOG_DIAL_TIMEOUT=200ms",
		"SYSLOG_ORIGIN_SD=true", "SHIP_DEADLETTER_LOGSTORE="+dlLogstore, "SHIP_DEADLETTER_KEY="+dlKey), extra...)
}

// dlRecords reads every dead-letter record, in each shard's order.
func dlRecords(t *testing.T, c *cloud) []deadletter.Record {
	t.Helper()
	cl, err := slsapi.New(c.endpoint, secret.Credentials{AccessKeyID: c.loader.AccessKeyID, AccessKeySecret: c.loader.AccessKeySecret},
		slsapi.NewTransport(localcloud.LocalEndpoints(c.endpoint)))
	if err != nil {
		t.Fatal(err)
	}
	var out []deadletter.Record
	for shard := range 2 {
		begin, _ := c.emu.Cursor(c.data.Project, dlLogstore, shard, "begin")
		end, _ := c.emu.Cursor(c.data.Project, dlLogstore, shard, "end")
		_, err := deadletter.Read(context.Background(), cl, c.data.Project, shard, begin, end,
			deadletter.ReadOptions{Verifier: deadletter.Verifier{Keys: dlKeys, Allowed: localcloud.LocalEndpoints(c.endpoint), Logstore: dlLogstore}},
			func(at string, r deadletter.Record, err error) bool {
				if err != nil {
					t.Errorf("record at %s does not parse: %v", at, err)
					return true
				}
				out = append(out, r)
				return true
			})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// dlStates counts the records by state.
func dlStates(recs []deadletter.Record) map[string]int {
	n := map[string]int{}
	for _, r := range recs {
		n[r.State]++
	}
	return n
}

// runRedrive runs `sls2siem redrive args...` with the role's credentials
// against the emulator and returns its exit status, stdout and stderr.
func runRedrive(t *testing.T, c *cloud, env []string, args ...string) (int, redriveResult, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, functionBinary, append([]string{"redrive"}, args...)...)
	cmd.Env = append(append(slices.Clone(os.Environ()), localcloud.TrustEnv(c.endpoint)...), env...)
	cmd.Env = append(cmd.Env, "SLS_ENDPOINT="+c.endpoint, "SLS_PROJECT="+c.data.Project, "SHIP_REDRIVE_LOGSTORES="+c.data.Logstore,
		"ALIBABA_CLOUD_ACCESS_KEY_ID="+c.role.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET="+c.role.AccessKeySecret,
		"ALIBABA_CLOUD_SECURITY_TOKEN="+c.role.SecurityToken)
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
	var res redriveResult
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); err != nil {
		t.Fatalf("redrive printed %q, not its JSON result (stderr %s)", stdout.String(), stderr.String())
	}
	return code, res, stderr.String()
}

type redriveResult struct {
	Records, Skipped, Unsigned, Ranges, Redriven, Progressed, Failed, Deferred, Expired, Invalid int
	Logs                                                                                         int64
}

// dlFailAll runs the trigger over the sample while the receiver is down:
// every range is given up after retries and dead-lettered.
func dlFailAll(t *testing.T, c *cloud, port, retries int) {
	t.Helper()
	fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{Timeout: 30 * time.Second, Env: dlEnv(port)})
	rep := trTrigger(t, c, fn, retries)
	if rep.RangesFailed != len(c.data.Shards) {
		t.Fatalf("%d ranges given up, want %d (every shard's)", rep.RangesFailed, len(c.data.Shards))
	}
	for _, a := range rep.Attempts {
		if a.Err == "" || !strings.Contains(a.Err, "connect to syslog receiver") || !strings.Contains(a.Err, "dead-lettered to logstore "+dlLogstore) {
			t.Fatalf("attempt error %q does not name the receiver failure and the dead-letter record", a.Err)
		}
	}
}

// TestDeadLetterReceiverDownPastRetries: the receiver is down longer than
// the trigger's retries: every failed invocation appends one failed record
// naming its range, with true counts, and no secret.
func TestDeadLetterReceiverDownPastRetries(t *testing.T) {
	rs := startRsyslog(t)
	rs.Stop(t)
	c := dlCloud(t)
	const retries = 2
	dlFailAll(t, c, rs.Ports().TCP, retries)
	recs := dlRecords(t, c)
	if want := len(c.data.Shards) * (1 + retries); len(recs) != want || dlStates(recs)[deadletter.StateFailed] != want {
		t.Fatalf("records %+v: want %d failed records (one per attempt)", dlStates(recs), want)
	}
	ranges := map[deadletter.Key]int{}
	for _, r := range recs {
		ranges[r.Key()]++
		b, e := c.shardRange(t, r.Shard)
		if r.Project != c.data.Project || r.Logstore != c.data.Logstore || r.BeginCursor != b || r.EndCursor != e {
			t.Errorf("record %+v does not name shard %d's range [%s, %s)", r, r.Shard, b, e)
		}
		if r.LogsWritten != 0 || r.LogsConfirmed != 0 || !strings.Contains(r.Error, "connect to syslog receiver") || r.RequestID == "" {
			t.Errorf("record %+v: want 0 logs written, the receiver error and the request id", r)
		}
		for _, s := range []string{c.role.AccessKeySecret, c.role.SecurityToken} {
			if strings.Contains(r.Error, s) {
				t.Errorf("record holds a secret: %+v", r)
			}
		}
	}
	if len(ranges) != len(c.data.Shards) {
		t.Errorf("records name %d ranges, want %d", len(ranges), len(c.data.Shards))
	}
	t.Logf("receiver down past %d retries: %d failed invocations, %d failed records for %d ranges", retries, len(recs), len(recs), len(ranges))
}

// TestDeadLetterUnwritable: when the dead-letter record cannot be written
// either, the invocation's error names both failures.
func TestDeadLetterUnwritable(t *testing.T) {
	rs := startRsyslog(t)
	rs.Stop(t)
	c := dlCloud(t)
	c.emu.InjectFault(slsemu.Fault{Op: slsemu.OpPutLogs, Logstore: dlLogstore, Status: 403, Code: "Unauthorized",
		Message: "denied by sts or ram, action: log:PostLogStoreLogs", Times: -1})
	fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{Timeout: 30 * time.Second, Env: dlEnv(rs.Ports().TCP)})
	b, e := c.shardRange(t, 0)
	res, err := fn.Invoke(context.Background(), c.event(0, b, e))
	if err != nil {
		t.Fatal(err)
	}
	if res.Err == nil {
		t.Fatalf("invocation succeeded: %s", res.Payload)
	}
	msg := res.Err.Message
	for _, want := range []string{"connect to syslog receiver", "could not be dead-lettered", "SHIP_DEADLETTER_LOGSTORE=" + dlLogstore, "Unauthorized"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if n := len(dlRecords(t, c)); n != 0 {
		t.Errorf("%d records written through a failing PutLogs", n)
	}
}
