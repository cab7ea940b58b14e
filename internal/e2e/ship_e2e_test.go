package e2e

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/leodido/go-syslog/v4/rfc5424"

	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/fcemu"
	"sls2siem/internal/localcloud/slstrigger"
)

// TestShipSampleLogstoreToRsyslog ships the whole sample logstore through
// the built binary under the FC emulator, driven by the trigger simulator,
// into a real rsyslog, under both FC contracts and both framings, and checks
// every message against the data it loaded.
func TestShipSampleLogstoreToRsyslog(t *testing.T) {
	cases := []struct {
		contract fcemu.Contract
		framing  string
		body     func(string) string
	}{
		{fcemu.ContractGo1, "octet-counting", func(s string) string { return s }},
		{fcemu.ContractCustom, "lf", lfEscaped},
	}
	rs := startRsyslog(t)
	sent := 0
	for _, tc := range cases {
		t.Run(string(tc.contract)+"/"+tc.framing, func(t *testing.T) {
			c := newCloud(t)
			fn := c.start(t, tc.contract, c.roleCredentials(), fcemu.Config{
				Timeout:             30 * time.Second,
				InstanceConcurrency: 2,
				Env: []string{
					"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + strconv.Itoa(rs.Ports().TCP),
					"SYSLOG_FRAMING=" + tc.framing, "SYSLOG_HOSTNAME=e2e-host", "SYSLOG_TAG=sls2siem",
					"SYSLOG_FACILITY=local4", "SYSLOG_SEVERITY=notice",
					"SLS_PULL_COUNT=7", // many pulls per range: exercises the cursor loop
				},
			})
			sim, err := slstrigger.New(slstrigger.Config{
				Client:   localcloud.NewSLSClient(c.endpoint, c.loader),
				Endpoint: c.endpoint, Project: c.data.Project, Logstore: c.data.Logstore,
				Interval: 20 * time.Millisecond, StartCursor: "begin",
			}, fn)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := sim.RunUntilCaughtUp(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if rep.RangesFailed != 0 || rep.RangesOK != len(c.data.Shards) {
				t.Fatalf("trigger report: %d ranges ok, %d failed: %+v", rep.RangesOK, rep.RangesFailed, rep.Failed)
			}
			var shipped int64
			for _, a := range rep.Attempts {
				shipped += decodeSummary(t, a.Payload).Logs
			}
			want, total := expectations(c.data, tc.body)
			if shipped != int64(total) {
				t.Fatalf("the function reported %d logs shipped, the sample has %d", shipped, total)
			}

			sent += total
			all := rs.WaitForCount(t, sent, 60*time.Second)
			got := all[sent-total:]
			checkMessages(t, got, want, total)
		})
	}
}

// checkMessages asserts that got holds every expected log exactly once, in
// order per shard, each a strictly valid RFC 5424 message with the
// configured header, the seed's body byte for byte and the log's time to
// the microsecond.
func checkMessages(t *testing.T, got []received, want map[string][]expectedLog, total int) {
	t.Helper()
	if len(got) != total {
		t.Fatalf("receiver got %d messages, want %d", len(got), total)
	}
	parser := rfc5424.NewParser()
	next := map[int]int{} // shard → index of the next log expected
	for i, r := range got {
		m, err := parser.Parse([]byte(r.Raw))
		if err != nil {
			t.Fatalf("message %d does not parse strictly as RFC 5424: %v\n%q", i, err, r.Raw)
		}
		sm := m.(*rfc5424.SyslogMessage)
		if *sm.Priority != 20*8+5 || *sm.Hostname != "e2e-host" || *sm.Appname != "sls2siem" ||
			sm.ProcID != nil || sm.MsgID != nil || sm.StructuredData != nil {
			t.Fatalf("message %d header: pri %d host %v app %v: %q", i, *sm.Priority, *sm.Hostname, *sm.Appname, r.Raw)
		}
		body := ""
		if sm.Message != nil {
			body = *sm.Message
		}
		cands := want[body]
		if len(cands) == 0 {
			t.Fatalf("message %d has a body that is not in the sample, or arrived twice:\n%q", i, body)
		}
		exp := cands[0]
		want[body] = cands[1:]
		if exp.index != next[exp.shard] {
			t.Fatalf("message %d is log %d of shard %d, want log %d: out of order", i, exp.index, exp.shard, next[exp.shard])
		}
		next[exp.shard]++
		if !sm.Timestamp.Equal(exp.time) {
			t.Fatalf("message %d timestamp %v, want %v", i, sm.Timestamp, exp.time)
		}
	}
	for _, rest := range want {
		if len(rest) > 0 {
			t.Fatalf("log %d of shard %d never arrived", rest[0].index, rest[0].shard)
		}
	}
}
