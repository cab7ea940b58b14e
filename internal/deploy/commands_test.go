package deploy

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"

	"sls2siem/internal/cli"
	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/receiver"
	"sls2siem/internal/localcloud/sample"
	"sls2siem/internal/localcloud/slsemu"
)

// logstoreARN is the prefix of a logstore's resource in deploy/ram's
// policies; docs/commands.md's table gives resources without it.
const logstoreARN = "acs:log:<region>:<account-id>:project/<project>/logstore/"

// documentedActions reads docs/commands.md's table of the RAM actions each
// command needs: command → resource → actions.
func documentedActions(t *testing.T) map[string]map[string][]string {
	t.Helper()
	row := regexp.MustCompile("(?m)^\\| `sls2siem ([a-z]+)[^`]*` \\| `([^`]+)` \\| ([^|]+) \\|$")
	out := map[string]map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(section(t, readDoc(t, "commands.md"), "## RAM actions"), -1) {
		if out[m[1]] == nil {
			out[m[1]] = map[string][]string{}
		}
		for _, a := range regexp.MustCompile("`(log:[A-Za-z]+)`").FindAllStringSubmatch(m[3], -1) {
			out[m[1]][m[2]] = append(out[m[1]][m[2]], a[1])
		}
		slices.Sort(out[m[1]][m[2]])
	}
	if len(out) == 0 {
		t.Fatal("docs/commands.md has no table of RAM actions under \"## RAM actions\"")
	}
	return out
}

// TestCommandsNeedWhatTheDocsSay runs every command that reaches SLS in
// process against the SLS emulator, through what it does for an operator,
// and compares the operations it calls, as RAM actions and resources, with
// docs/commands.md's table, the policy of the RAM user that runs them.
func TestCommandsNeedWhatTheDocsSay(t *testing.T) {
	t.Parallel()
	rec := &callRecorder{}
	emu := slsemu.New()
	emu.SetLogger(slog.New(rec))
	user := slsemu.Credential{AccessKeyID: "LTAIcommandsuser", AccessKeySecret: "commands-user-secret"}
	emu.AddCredential(user)
	endpoint, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	const deadLetter = "sls2siem-deadletter"
	data := sample.Generate(4, 2, 3)
	if err := emu.CreateLogstore(data.Project, data.Logstore, len(data.Shards)); err != nil {
		t.Fatal(err)
	}
	if err := emu.CreateLogstore(data.Project, deadLetter, 2); err != nil {
		t.Fatal(err)
	}
	client := localcloud.NewSLSClient(endpoint, user)
	if err := sample.Put(context.Background(), client, data); err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{}, 1<<16)
	rcv, err := receiver.Listen("tcp", "127.0.0.1:0", receiver.Options{Handle: func(receiver.Message) { got <- struct{}{} }})
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	_, port, _ := splitPort(rcv.Addr())
	rec.take() // the loading

	env := map[string]string{
		"SYSLOG_HOST": "127.0.0.1", "SYSLOG_PORT": port, "SYSLOG_MAX_RETRIES": "0", "LOG_LEVEL": "error",
		"SLS_ENDPOINT": endpoint, "SLS_PROJECT": data.Project, "SLS_LOGSTORE": data.Logstore, "SLS_CURSOR_POSITION": "begin",
		"SLS_ALLOWED_ENDPOINTS": localcloud.AllowedPatterns(endpoint), "SLS_HTTPS": "false",
		"SLS_HEARTBEAT_INTERVAL": "1s", "SLS_CHECKPOINT_INTERVAL": "0",
		"SHIP_DEADLETTER_LOGSTORE": deadLetter, "SHIP_DEADLETTER_KEY": "commands-test-dead-letter-key-of-32-bytes-or-more",
		"SHIP_REDRIVE_LOGSTORES":      data.Logstore,
		"ALIBABA_CLOUD_ACCESS_KEY_ID": user.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": user.AccessKeySecret,
	}
	run := func(signals <-chan os.Signal, args ...string) (int, string) {
		var out bytes.Buffer
		code := cli.Main(context.Background(), args, cli.Env{
			Getenv: func(k string) string { return env[k] }, Environ: func() []string { return nil },
			Stdout: &out, Stderr: &out, Signals: signals,
		})
		return code, out.String()
	}
	must := func(want int, args ...string) {
		t.Helper()
		if code, out := run(nil, args...); code != want {
			t.Fatalf("sls2siem %s: exit %d, want %d:\n%s", strings.Join(args, " "), code, want, out)
		}
	}
	wait := func(n int) {
		t.Helper()
		for i := range n {
			select {
			case <-got:
			case <-time.After(time.Minute):
				t.Fatalf("the receiver got %d of %d messages", i, n)
			}
		}
	}
	// consume ships the whole logstore as a consumer of its group, then
	// stops on SIGTERM.
	consume := func() {
		t.Helper()
		signals := make(chan os.Signal, 1)
		done := make(chan int, 1)
		go func() { code, _ := run(signals, "consume"); done <- code }()
		wait(data.LogCount())
		signals <- syscall.SIGTERM
		if code := <-done; code != 0 {
			t.Fatalf("sls2siem consume: exit %d after SIGTERM", code)
		}
	}
	event := func(shard int) string {
		begin, _ := emu.Cursor(data.Project, data.Logstore, shard, "begin")
		end, _ := emu.Cursor(data.Project, data.Logstore, shard, "end")
		p := filepath.Join(t.TempDir(), "event.json")
		ev := fmt.Sprintf(`{"cursorTime":0,"jobName":"j","taskId":"t","parameter":{},"source":{"projectName":%q,"logstoreName":%q,"endpoint":%q,"shardId":%d,"beginCursor":%q,"endCursor":%q}}`,
			data.Project, data.Logstore, endpoint, shard, begin, end)
		if err := os.WriteFile(p, []byte(ev), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	shardLogs := func(shard int) int {
		n := 0
		for _, g := range data.Shards[shard] {
			n += len(g.Logs)
		}
		return n
	}

	called := map[string][]call{}
	// ship: one range shipped; one whose receiver is down (dead-lettered).
	must(0, "ship", "-event", event(0))
	wait(shardLogs(0))
	env["SYSLOG_PORT"] = closedPort(t)
	must(1, "ship", "-event", event(1))
	env["SYSLOG_PORT"] = port
	called["ship"] = rec.take()
	// redrive: a pass with checkpoints ships the dead-lettered range.
	must(0, "redrive")
	wait(shardLogs(1))
	called["redrive"] = rec.take()
	// backfill: the whole logstore again.
	must(0, "backfill", "-from", "-1h", "-to", time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "-progress", "none")
	wait(data.LogCount())
	called["backfill"] = rec.take()
	// consume: it creates its group; run again after its timeout changed
	// (an operator's other SLS_HEARTBEAT_TIMEOUT), it updates the group.
	consume()
	first := rec.take()
	if err := client.UpdateConsumerGroup(data.Project, data.Logstore, sls.ConsumerGroup{ConsumerGroupName: "sls2siem", Timeout: 7}); err != nil {
		t.Fatal(err)
	}
	if err := client.UpdateCheckpoint(data.Project, data.Logstore, "sls2siem", "", 0, mustCursor(t, emu, data, 0), true); err != nil {
		t.Fatal(err)
	}
	if err := client.UpdateCheckpoint(data.Project, data.Logstore, "sls2siem", "", 1, mustCursor(t, emu, data, 1), true); err != nil {
		t.Fatal(err)
	}
	rec.take()
	consume()
	called["consume"] = append(first, rec.take()...)
	// status of the group; check -probe.
	must(0, "status")
	called["status"] = rec.take()
	must(0, "check", "-probe")
	called["check"] = rec.take()

	names := map[string]string{data.Logstore: "<logstore>", deadLetter: "<deadletter-logstore>", "sls2siem": "<consumer-group>", "sls2siem-redrive": "sls2siem-redrive"}
	docs := documentedActions(t)
	for _, cmd := range slices.Sorted(maps.Keys(called)) {
		want := map[string][]string{}
		for r, a := range grantsOf(t, called[cmd], data.Project, names) {
			want[strings.TrimPrefix(r, logstoreARN)] = a
		}
		for _, r := range slices.Sorted(maps.Keys(want)) {
			if !slices.Equal(docs[cmd][r], want[r]) {
				t.Errorf("sls2siem %s calls %v on %s; docs/commands.md says %v", cmd, want[r], r, docs[cmd][r])
			}
		}
		for r, a := range docs[cmd] {
			if _, ok := want[r]; !ok {
				t.Errorf("docs/commands.md says sls2siem %s needs %v on %s, which it never calls", cmd, a, r)
			}
		}
		t.Logf("sls2siem %s: %d calls: %v", cmd, len(called[cmd]), want)
	}
	for cmd := range docs {
		if _, ok := called[cmd]; !ok {
			t.Errorf("docs/commands.md lists sls2siem %s, which this test does not run", cmd)
		}
	}
}

// mustCursor is the begin cursor of a shard: a checkpoint there makes the
// consumer ship the shard again.
func mustCursor(t *testing.T, emu *slsemu.Server, data *sample.Logstore, shard int) string {
	t.Helper()
	c, err := emu.Cursor(data.Project, data.Logstore, shard, "begin")
	if err != nil {
		t.Fatal(err)
	}
	return c
}
