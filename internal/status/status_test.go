package status_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/slsemu"
	"sls2siem/internal/secret"
	"sls2siem/internal/slsapi"
	"sls2siem/internal/status"
)

// The tests read with the real SDK, through the SLS transport, from the
// SLS emulator, whose checkpoints they set with the SDK too.

const (
	project  = "status-proj"
	store    = "status-store"
	group    = "siem"
	ak       = "LTAI-status"
	akSecret = "status-secret"
)

type cloud struct {
	emu      *slsemu.Server
	endpoint string
	client   *slsapi.Client
	// received[shard][i] is the receive time of the shard's group i.
	received map[int][]time.Time
}

func newCloud(t *testing.T, shards int) *cloud {
	t.Helper()
	c := &cloud{emu: slsemu.New(), received: map[int][]time.Time{}}
	c.emu.AddCredential(slsemu.Credential{AccessKeyID: ak, AccessKeySecret: akSecret})
	endpoint, err := c.emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.endpoint = endpoint
	t.Cleanup(func() { c.emu.Close() })
	if err := c.emu.CreateLogstore(project, store, shards); err != nil {
		t.Fatal(err)
	}
	c.client, err = slsapi.New(endpoint, secret.Credentials{AccessKeyID: ak, AccessKeySecret: akSecret},
		slsapi.NewTransport(localcloud.LocalEndpoints(endpoint)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// add appends one group to shard, received at at.
func (c *cloud) add(t *testing.T, shard int, at time.Time) {
	t.Helper()
	lg := &sls.LogGroup{Logs: []*sls.Log{{Time: proto.Uint32(uint32(at.Unix())), Contents: []*sls.LogContent{
		{Key: proto.String("k"), Value: proto.String("v")}}}}}
	if _, err := c.emu.Append(project, store, shard, lg, at); err != nil {
		t.Fatal(err)
	}
	c.received[shard] = append(c.received[shard], at)
}

// sdk is an SDK client of the emulator, as a consumer would have.
func (c *cloud) sdk(t *testing.T) *sls.Client {
	t.Helper()
	return localcloud.NewSLSClient(c.endpoint, slsemu.Credential{AccessKeyID: ak, AccessKeySecret: akSecret})
}

// cursor is the cursor of group i of a shard (the end after the last).
func cursor(i int) string { return slsemu.EncodeCursor(slsemu.CursorBase + int64(i)) }

func TestReadAgainstCheckpointsSet(t *testing.T) {
	c := newCloud(t, 3)
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	for i := range 10 {
		c.add(t, 0, base.Add(time.Duration(i)*time.Minute))
		c.add(t, 1, base.Add(time.Duration(i)*time.Minute))
	}
	// Shard 0: checkpoint after 4 of its 10 groups; shard 1: at its end;
	// shard 2: empty, no checkpoint.
	if err := c.client.EnsureGroup(t.Context(), project, store, group, 10); err != nil {
		t.Fatal(err)
	}
	for shard, cp := range map[int]string{0: cursor(4), 1: cursor(10)} {
		if err := c.client.SaveCheckpoint(t.Context(), project, store, group, shard, cp); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	r, err := status.Read(t.Context(), c.client, project, store, group, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Shards) != 3 || r.Project != project || r.Logstore != store || r.Group != group {
		t.Fatalf("report = %+v", r)
	}
	s0, s1, s2 := r.Shards[0], r.Shards[1], r.Shards[2]
	if s0.Checkpoint != cursor(4) || s0.CheckpointTime == nil || !s0.CheckpointTime.Equal(c.received[0][4]) ||
		s0.EndCursor != cursor(10) || !s0.EndTime.Equal(c.received[0][9]) || s0.Status != "readwrite" {
		t.Errorf("shard 0 = %+v", s0)
	}
	if want := now.Sub(c.received[0][4]).Seconds(); s0.LagSeconds == nil || *s0.LagSeconds != want {
		t.Errorf("shard 0 lag = %v, want now minus the receive time at the checkpoint, %v", s0.LagSeconds, want)
	}
	if s0.BehindLogGroups == nil || *s0.BehindLogGroups != 6 {
		t.Errorf("shard 0 behind = %v, want 6 groups", s0.BehindLogGroups)
	}
	if s0.CheckpointSaved == nil || now.Sub(*s0.CheckpointSaved) > time.Minute || s0.CheckpointSaved.After(now) {
		t.Errorf("shard 0 saved at %v, want just now", s0.CheckpointSaved)
	}
	if s1.LagSeconds == nil || *s1.LagSeconds != 0 || s1.BehindLogGroups == nil || *s1.BehindLogGroups != 0 ||
		!s1.CheckpointTime.Equal(c.received[1][9]) {
		t.Errorf("shard 1 at its end = %+v", s1)
	}
	if s2.Checkpoint != "" || s2.LagSeconds != nil || s2.CheckpointTime != nil || s2.EndCursor != cursor(0) {
		t.Errorf("shard 2 without checkpoint = %+v", s2)
	}
	if over := r.Over(time.Hour); len(over) != 1 || over[0] != 0 {
		t.Errorf("shards over an hour: %v, want [0]", over)
	}
	if over := r.Over(3 * time.Hour); len(over) != 0 {
		t.Errorf("shards over 3h: %v", over)
	}
	if m := r.MaxLag(); m < time.Hour || m > 2*time.Hour {
		t.Errorf("max lag %s", m)
	}

	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(table.String()), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[2], "SHARD") || !strings.HasPrefix(lines[3], "0 ") ||
		!strings.Contains(lines[3], cursor(4)) || !strings.Contains(lines[3], "6 groups") || !strings.Contains(lines[5], "(none)") {
		t.Errorf("table:\n%s", table.String())
	}
}

func TestReadNamesTheSLSError(t *testing.T) {
	c := newCloud(t, 1)
	for _, tc := range []struct{ logstore, group, want string }{
		{store, "nobody", "ConsumerGroupNotExist (HTTP 404)"},
		{"missing-store", group, "LogStoreNotExist (HTTP 404)"},
	} {
		_, err := status.Read(t.Context(), c.client, project, tc.logstore, tc.group, time.Now())
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.logstore) {
			t.Errorf("%s/%s: %v, want an error naming %s", tc.logstore, tc.group, err, tc.want)
		}
	}
}

// TestTableEscapesEveryCell: a consumer's name is whatever the consumer
// said; one holding escape sequences, line breaks and bidirectional
// controls cannot recolour the operator's terminal or forge a row: every
// cell is one line of visible text.
func TestTableEscapesEveryCell(t *testing.T) {
	c := newCloud(t, 1)
	c.add(t, 0, time.Now().Add(-time.Minute))
	if err := c.client.EnsureGroup(t.Context(), project, store, group, 60); err != nil {
		t.Fatal(err)
	}
	evil := "a\x1b[2J\x1b[31mred\r\n1  readwrite  FORGED\t\u202eevil\u009b\\x"
	sdk := c.sdk(t)
	for _, held := range [][]int{{}, {0}} { // join, then hold shard 0
		if _, err := sdk.HeartBeat(project, store, group, evil, held); err != nil {
			t.Fatal(err)
		}
	}
	if err := sdk.UpdateCheckpoint(project, store, group, evil, 0, cursor(1), true); err != nil {
		t.Fatal(err)
	}
	r, err := status.Read(t.Context(), c.client, project, store, group, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r.Shards[0].Consumer != evil {
		t.Fatalf("the consumer's name did not come back as given: %q", r.Shards[0].Consumer)
	}
	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	out := table.String()
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 4 {
		t.Errorf("%d lines, want 4 (title, blank, header, one shard):\n%s", len(lines), out)
	}
	for i, r := range out {
		if r != '\n' && (r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == '\u202e' || r == '\ufffd') {
			t.Fatalf("byte %d of the table is %U, not printable:\n%q", i, r, out)
		}
	}
	if want := `a\x1b[2J\x1b[31mred\r\n1  readwrite  FORGED\t\u202eevil\u009b\\x`; !strings.Contains(out, want) {
		t.Errorf("the name is not shown escaped as %s:\n%s", want, out)
	}
}

func TestCell(t *testing.T) {
	for in, want := range map[string]string{
		"consumer-1": "consumer-1", "host é 名": "host é 名", "": "", `a\b`: `a\\b`,
		"\x00\x07\x7f": `\x00\a\x7f`, "\u2028\u200b": `\u2028\u200b`, "\xc3": `\xc3`, "\ufffd": "\ufffd",
	} {
		if got := status.Cell(in); got != want {
			t.Errorf("Cell(%q) = %s, want %s", in, got, want)
		}
	}
}
