package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/slsemu"
)

// `sls2siem status` end to end: the built binary reads, with the real SDK,
// a consumer group whose checkpoints the test set in the SLS emulator
// (through the SDK as well).

const (
	stProject  = "st-project"
	stLogstore = "st-logstore"
	stGroup    = "siem"
)

// stCloud is the emulator with a three-shard logstore: shard 0 and 1 hold
// ten groups each, received a minute apart from two hours ago; shard 2 is
// empty. The group's checkpoints: shard 0 after four groups, shard 1 at
// its end, shard 2 none.
type stCloud struct {
	emu      *slsemu.Server
	endpoint string
	cred     slsemu.Credential
	received [2][]time.Time
}

func stNewCloud(t *testing.T) *stCloud {
	t.Helper()
	c := &stCloud{emu: slsemu.New(), cred: slsemu.Credential{AccessKeyID: "LTAI-st-" + randomHex(t)[:8], AccessKeySecret: "st-secret-" + randomHex(t)}}
	c.emu.AddCredential(c.cred)
	var err error
	if c.endpoint, err = c.emu.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.emu.Close() })
	if err := c.emu.CreateLogstore(stProject, stLogstore, 3); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	for shard := range 2 {
		for i := range 10 {
			at := base.Add(time.Duration(i) * time.Minute)
			lg := &sls.LogGroup{Logs: []*sls.Log{{Time: proto.Uint32(uint32(at.Unix())), Contents: []*sls.LogContent{
				{Key: proto.String("i"), Value: proto.String(strconv.Itoa(i))}}}}}
			if _, err := c.emu.Append(stProject, stLogstore, shard, lg, at); err != nil {
				t.Fatal(err)
			}
			c.received[shard] = append(c.received[shard], at)
		}
	}
	client := localcloud.NewSLSClient(c.endpoint, c.cred)
	if err := client.CreateConsumerGroup(stProject, stLogstore, sls.ConsumerGroup{ConsumerGroupName: stGroup, Timeout: 10}); err != nil {
		t.Fatal(err)
	}
	for shard, groups := range map[int]int64{0: 4, 1: 10} {
		if err := client.UpdateCheckpoint(stProject, stLogstore, stGroup, "", shard, slsemu.EncodeCursor(slsemu.CursorBase+groups), true); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// status runs `sls2siem status args...` and returns its exit status,
// stdout and stderr.
func (c *stCloud) status(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(functionBinary, append([]string{"status"}, args...)...)
	cmd.Env = append([]string{
		"SLS_ENDPOINT=" + c.endpoint, "SLS_PROJECT=" + stProject,
		"ALIBABA_CLOUD_ACCESS_KEY_ID=" + c.cred.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + c.cred.AccessKeySecret,
	}, localcloud.TrustEnv(c.endpoint)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout.String()+stderr.String(), c.cred.AccessKeySecret) {
		t.Errorf("status %v printed the AccessKey secret", args)
	}
	return code, stdout.String(), stderr.String()
}

// stReport is `status -json`'s output.
type stReport struct {
	Project  string    `json:"project"`
	Logstore string    `json:"logstore"`
	Group    string    `json:"consumerGroup"`
	Time     time.Time `json:"time"`
	Shards   []struct {
		Shard           int        `json:"shard"`
		Checkpoint      string     `json:"checkpoint"`
		CheckpointTime  *time.Time `json:"checkpointTime"`
		CheckpointSaved *time.Time `json:"checkpointSaved"`
		EndCursor       string     `json:"endCursor"`
		EndTime         time.Time  `json:"endTime"`
		LagSeconds      *float64   `json:"lagSeconds"`
		BehindLogGroups *int64     `json:"behindLogGroups"`
	} `json:"shards"`
}

func TestStatusReportsTheCheckpointsSet(t *testing.T) {
	c := stNewCloud(t)
	code, out, errOut := c.status(t, "-logstore", stLogstore, "-group", stGroup, "-json")
	if code != 0 {
		t.Fatalf("status -json: exit %d\n%s", code, errOut)
	}
	t.Logf("sls2siem status -json:\n%s", out)
	var r stReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("status -json output: %v\n%s", err, out)
	}
	if r.Project != stProject || r.Logstore != stLogstore || r.Group != stGroup || len(r.Shards) != 3 {
		t.Fatalf("report: %s", out)
	}
	for shard, want := range []struct {
		checkpoint int64 // groups before it; -1: none
		lagged     bool
	}{{4, true}, {10, false}, {-1, false}} {
		s := r.Shards[shard]
		end, err := c.emu.Cursor(stProject, stLogstore, shard, "end")
		if err != nil {
			t.Fatal(err)
		}
		if s.Shard != shard || s.EndCursor != end {
			t.Errorf("shard %d: end cursor %s, want %s", shard, s.EndCursor, end)
		}
		if want.checkpoint < 0 {
			if s.Checkpoint != "" || s.LagSeconds != nil || s.CheckpointTime != nil {
				t.Errorf("shard %d has no checkpoint: %+v", shard, s)
			}
			continue
		}
		rcv := c.received[shard]
		if s.Checkpoint != slsemu.EncodeCursor(slsemu.CursorBase+want.checkpoint) || !s.EndTime.Equal(rcv[len(rcv)-1]) {
			t.Errorf("shard %d: checkpoint %s, end received %v; want the one set and %v", shard, s.Checkpoint, s.EndTime, rcv[len(rcv)-1])
		}
		at := rcv[min(int(want.checkpoint), len(rcv)-1)] // at the end: the last group's
		if s.CheckpointTime == nil || !s.CheckpointTime.Equal(at) {
			t.Errorf("shard %d: checkpoint received %v, want the emulator's %v", shard, s.CheckpointTime, at)
		}
		if s.CheckpointSaved == nil || time.Since(*s.CheckpointSaved) > time.Minute {
			t.Errorf("shard %d: checkpoint saved %v, want just now", shard, s.CheckpointSaved)
		}
		wantLag, wantBehind := 0.0, int64(0)
		if want.lagged {
			wantLag, wantBehind = r.Time.Sub(at).Seconds(), 10-want.checkpoint
		}
		if s.LagSeconds == nil || math.Abs(*s.LagSeconds-wantLag) > 0.001 || (want.lagged && math.Abs(*s.LagSeconds-time.Since(at).Seconds()) > 5) {
			t.Errorf("shard %d: lag %v, want %.3f (the report's time minus the receive time at the checkpoint)", shard, s.LagSeconds, wantLag)
		}
		if s.BehindLogGroups == nil || *s.BehindLogGroups != wantBehind {
			t.Errorf("shard %d: behind %v, want %d log groups", shard, s.BehindLogGroups, wantBehind)
		}
	}

	// The table, for a person.
	code, out, _ = c.status(t, "-logstore", stLogstore, "-group", stGroup)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 6 || !strings.Contains(lines[0], "consumer group siem of project st-project logstore st-logstore") ||
		!strings.HasPrefix(lines[2], "SHARD") || !strings.Contains(lines[3], "6 groups") || !strings.Contains(lines[5], "(none)") {
		t.Errorf("status table (exit %d):\n%s", code, out)
	}
	t.Logf("sls2siem status:\n%s", out)

	// -max-lag: shard 0 lags about 1h56m.
	if code, _, errOut := c.status(t, "-logstore", stLogstore, "-group", stGroup, "-max-lag", "1h"); code != 3 ||
		!strings.Contains(errOut, "shard [0] lags more than 1h0m0s") {
		t.Errorf("-max-lag 1h: exit %d, %s; want 3 naming shard 0", code, errOut)
	}
	if code, _, errOut := c.status(t, "-logstore", stLogstore, "-group", stGroup, "-max-lag", "3h", "-json"); code != 0 {
		t.Errorf("-max-lag 3h: exit %d, %s; want 0", code, errOut)
	}
}

func TestStatusBadInput(t *testing.T) {
	c := stNewCloud(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-logstore", stLogstore, "-group", "nobody"}, 1, "SLS error ConsumerGroupNotExist (HTTP 404)"},
		{[]string{"-logstore", "no-such-store", "-group", stGroup}, 1, "SLS error LogStoreNotExist (HTTP 404)"},
		{[]string{"-project", "no-such-project", "-logstore", stLogstore}, 1, "SLS error ProjectNotExist (HTTP 404)"},
		{[]string{"-group", stGroup}, 2, "-logstore (or SLS_LOGSTORE)"},
		{[]string{"-logstore", "Bad_Store!"}, 2, `-logstore (or SLS_LOGSTORE) is "Bad_Store!"`},
		{[]string{"-logstore", stLogstore, "-max-lag", "-1s"}, 2, "-max-lag is -1s"},
		{[]string{"-logstore", stLogstore, "extra"}, 2, `unexpected argument "extra"`},
	} {
		code, out, errOut := c.status(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("status %v: exit %d, stderr %q, stdout %q; want exit %d and an error naming %q", tc.args, code, errOut, out, tc.code, tc.want)
		}
	}
}
