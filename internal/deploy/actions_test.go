package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"

	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/fcemu"
	"sls2siem/internal/localcloud/receiver"
	"sls2siem/internal/localcloud/sample"
	"sls2siem/internal/localcloud/slsemu"
)

// ramAction maps an operation the SLS emulator served to the RAM action
// that authorizes it and the kind of resource it acts on, as each
// operation's API reference gives them ("Authorization information",
// https://www.alibabacloud.com/help/en/sls/developer-reference/api-sls-2020-12-30-<operation>).
var ramAction = map[string]struct{ action, resource string }{
	slsemu.OpListShards:    {"log:ListShards", "logstore"},
	slsemu.OpGetCursor:     {"log:GetCursorOrData", "logstore"},
	slsemu.OpGetCursorTime: {"log:GetCursorOrData", "logstore"},
	slsemu.OpPullLogs:      {"log:GetCursorOrData", "logstore"},
	slsemu.OpPutLogs:       {"log:PostLogStoreLogs", "logstore"},
	slsemu.OpGetLogStore:   {"log:GetLogStore", "logstore"},
	slsemu.OpListLogStores: {"log:ListLogStores", "logstores"},
	slsemu.OpGetLogs:       {"log:GetLogStoreLogs", "logstore"},
	// ListConsumerGroup is authorized on consumergroup/*; the policies
	// grant CreateConsumerGroup there too, as the group is created by name
	// from the configuration.
	slsemu.OpListConsumerGroup:   {"log:ListConsumerGroup", "groups"},
	slsemu.OpCreateConsumerGroup: {"log:CreateConsumerGroup", "groups"},
	slsemu.OpUpdateConsumerGroup: {"log:UpdateConsumerGroup", "group"},
	slsemu.OpDeleteConsumerGroup: {"log:DeleteConsumerGroup", "group"},
	slsemu.OpHeartBeat:           {"log:ConsumerGroupHeartBeat", "group"},
	slsemu.OpUpdateCheckpoint:    {"log:ConsumerGroupUpdateCheckPoint", "group"},
	slsemu.OpGetCheckpoint:       {"log:GetConsumerGroupCheckPoint", "group"},
}

// call is one request the SLS emulator served.
type call struct{ op, project, logstore, group string }

// callRecorder is a slog handler that keeps the emulator's request log
// (slsemu logs every request at debug level, with its operation and path).
type callRecorder struct {
	mu    sync.Mutex
	calls []call
}

func (r *callRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *callRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *callRecorder) WithGroup(string) slog.Handler            { return r }

func (r *callRecorder) Handle(_ context.Context, rec slog.Record) error {
	if rec.Message != "sls request" {
		return nil
	}
	var c call
	var path string
	rec.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "op":
			c.op = a.Value.String()
		case "project":
			c.project = a.Value.String()
		case "path":
			path = a.Value.String()
		}
		return true
	})
	// /logstores/{logstore}[/consumergroups/{group}…]
	seg := strings.Split(strings.Trim(path, "/"), "/")
	if len(seg) >= 2 && seg[0] == "logstores" {
		c.logstore = seg[1]
	}
	if len(seg) >= 4 && seg[2] == "consumergroups" {
		c.group = seg[3]
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	return nil
}

// take returns the calls recorded so far and forgets them.
func (r *callRecorder) take() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

// grantsOf turns calls into the grants a policy needs, resource → sorted
// actions, with deploy/ram's placeholders for the resources: names maps
// the logstores and consumer groups the functions were given to theirs.
func grantsOf(t *testing.T, calls []call, project string, names map[string]string) map[string][]string {
	t.Helper()
	base := "acs:log:<region>:<account-id>:project/<project>"
	g := map[string][]string{}
	for _, c := range calls {
		a, ok := ramAction[c.op]
		if !ok {
			t.Errorf("the function called %s, which the SLS emulator does not serve or this test does not map to a RAM action", c.op)
			continue
		}
		if c.project != project {
			t.Errorf("the function called %s on project %q, not the deployed %q", c.op, c.project, project)
			continue
		}
		name := func(n string) string {
			if p, ok := names[n]; ok {
				return p
			}
			t.Errorf("the function called %s on %q, which no deploy/ram placeholder stands for", c.op, n)
			return n
		}
		var r string
		switch a.resource {
		case "logstores":
			r = base + "/logstore/*"
		case "logstore":
			r = base + "/logstore/" + name(c.logstore)
		case "groups":
			r = base + "/logstore/" + name(c.logstore) + "/consumergroup/*"
		case "group":
			r = base + "/logstore/" + name(c.logstore) + "/consumergroup/" + name(c.group)
		}
		g[r] = append(g[r], a.action)
	}
	for r := range g {
		sort.Strings(g[r])
		g[r] = slices.Compact(g[r])
	}
	return g
}

// ramRole is a row of docs/deploy.md's RAM table: the variable holding a
// role's ARN, its trust policy and its policy.
type ramRole struct{ variable, trust, policy string }

// ramRoles reads docs/deploy.md's RAM table.
func ramRoles(t *testing.T) map[string]ramRole {
	t.Helper()
	row := regexp.MustCompile("(?m)^\\| [a-z-]+ \\(`(SLS2SIEM_[A-Z_]+_ROLE_ARN)`\\) \\| `deploy/ram/([a-z-]+\\.json)` \\([A-Z]+\\) \\| `deploy/ram/([a-z-]+\\.json)` \\|")
	roles := map[string]ramRole{}
	for _, m := range row.FindAllStringSubmatch(section(t, readDoc(t, "deploy.md"), "## RAM"), -1) {
		roles[m[1]] = ramRole{m[1], m[2], m[3]}
	}
	if len(roles) == 0 {
		t.Fatal("docs/deploy.md's RAM section has no table of roles (| name (`SLS2SIEM_…_ROLE_ARN`) | `deploy/ram/…-trust.json` (…) | `deploy/ram/…-policy.json` |)")
	}
	return roles
}

// roleVars renders s.yaml with a distinct ARN in every role variable the
// RAM table names, and returns which variable each function's role (and
// the trigger's invocationRole, under key "trigger") comes from.
func roleVars(t *testing.T, roles map[string]ramRole) map[string]string {
	t.Helper()
	env := deployEnv()
	byARN := map[string]string{}
	for v := range roles {
		arn := "acs:ram::1234567890123456:role/from-" + strings.ToLower(v)
		env[v], byARN[arn] = arn, v
	}
	out := map[string]string{}
	tpl := render(t, env)
	for _, f := range tpl.functions(t) {
		v, ok := byARN[f.Props.Role]
		if !ok {
			t.Errorf("s.yaml: function %s's role %q comes from no role variable of docs/deploy.md's RAM table", f.Key, f.Props.Role)
			continue
		}
		out[f.Key] = v
		for _, tr := range f.Props.Triggers {
			if tr.InvocationRole == "" {
				continue
			}
			if v, ok := byARN[tr.InvocationRole]; ok {
				out["trigger"] = v
			} else {
				t.Errorf("s.yaml: trigger %s's invocationRole %q comes from no role variable of docs/deploy.md's RAM table", tr.TriggerName, tr.InvocationRole)
			}
		}
	}
	return out
}

// TestPoliciesGrantWhatTheCodeCalls deploys each function of s.yaml on the
// local cloud as s.yaml renders it (the packaged binary, its command and
// environment), drives it through what it does in the cloud, and records
// every operation the SLS emulator serves it. Mapped to RAM actions and
// resources, those are exactly what the policy of the function's role
// grants (docs/deploy.md's RAM table says which role and which policy), with
// the log logstore FC writes the function's lines to: nothing missing (the
// redrive role cannot be forgotten again), nothing more.
//
//   - the trigger function: a range shipped; a range whose receiver is down
//     (dead-lettered); the same range once the receiver is back (resolved);
//   - the redrive function: a timer pass over those records, which ships
//     a dead-lettered range again;
//   - the consumer-group function: a timer invocation that consumes.
func TestPoliciesGrantWhatTheCodeCalls(t *testing.T) {
	t.Parallel()
	roles := ramRoles(t)
	fnRole := roleVars(t, roles)
	p := packaged(t)

	rec := &callRecorder{}
	emu := slsemu.New()
	emu.SetLogger(slog.New(rec))
	loader := slsemu.Credential{AccessKeyID: "LTAIactionsloader", AccessKeySecret: "actions-loader-secret"}
	role := slsemu.Credential{AccessKeyID: "STS.actions", AccessKeySecret: "actions-role-secret", SecurityToken: "actions-role-token"}
	emu.AddCredential(loader)
	emu.AddCredential(role)
	endpoint, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	const deadLetter = "sls2siem-deadletter"
	data := sample.Generate(3, 3, 4)
	if err := emu.CreateLogstore(data.Project, data.Logstore, len(data.Shards)); err != nil {
		t.Fatal(err)
	}
	if err := emu.CreateLogstore(data.Project, deadLetter, 2); err != nil {
		t.Fatal(err)
	}
	if err := sample.Put(context.Background(), localcloud.NewSLSClient(endpoint, loader), data); err != nil {
		t.Fatal(err)
	}
	rcv, err := receiver.Listen("tcp", "127.0.0.1:0", receiver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rcvAddr := rcv.Addr()
	defer func() { rcv.Close() }()
	_, port, _ := net.SplitHostPort(rcvAddr)
	rec.take() // the loading

	env := deployEnv()
	env["SYSLOG_HOST"], env["SYSLOG_PORT"], env["SYSLOG_MAX_RETRIES"] = "127.0.0.1", port, "0"
	env["SLS2SIEM_PROJECT"], env["SLS2SIEM_LOGSTORE"] = data.Project, data.Logstore
	env["SLS_ENDPOINT"], env["SLS_CURSOR_POSITION"] = endpoint, "begin"
	env["SLS_ALLOWED_ENDPOINTS"], env["SLS_HTTPS"] = localcloud.AllowedPatterns(endpoint), "false" // the emulator
	env["SHIP_DEADLETTER_LOGSTORE"] = deadLetter
	env["SHIP_DEADLETTER_KEY"] = "actions-test-dead-letter-key-of-more-than-32-bytes"
	// The consumer-group function consumes until its deadline less these:
	// a 4 s run of its 600 s timeout, then up to 8 s (the default) to stop.
	consumerTimeout := render(t, env).byKey(t, consumerKey).Props.Timeout
	env["SHIP_DEADLINE_MARGIN"], env["SLS_CONSUMER_STOP_TIMEOUT"] = (time.Duration(consumerTimeout)*time.Second - 12*time.Second).String(), "8s"
	tpl := render(t, env)
	start := func(f function) *fcemu.Instance {
		t.Helper()
		cfg := deployed(t, p, f)
		cfg.Output = io.Discard
		cfg.Credentials = fcemu.Credentials{AccessKeyID: role.AccessKeyID, AccessKeySecret: role.AccessKeySecret, SecurityToken: role.SecurityToken}
		if f.Key != consumerKey {
			// Not the consumer's long margin: the trigger and redrive
			// functions have their whole timeout.
			for i, kv := range cfg.Env {
				if strings.HasPrefix(kv, "SHIP_DEADLINE_MARGIN=") {
					cfg.Env[i] = "SHIP_DEADLINE_MARGIN=3s"
				}
			}
		}
		inst, err := fcemu.Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { inst.Stop(context.Background()) })
		return inst
	}
	invoke := func(inst *fcemu.Instance, event []byte, wantOK bool) []byte {
		t.Helper()
		res, err := inst.Invoke(context.Background(), event)
		if err != nil {
			t.Fatal(err)
		}
		if (res.Err == nil) != wantOK {
			t.Fatalf("invocation with %s: error %v, payload %s (want success: %v)", event, res.Err, res.Payload, wantOK)
		}
		return res.Payload
	}
	shardEvent := func(shard int) []byte {
		begin, err1 := emu.Cursor(data.Project, data.Logstore, shard, "begin")
		end, err2 := emu.Cursor(data.Project, data.Logstore, shard, "end")
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		ev, _ := json.Marshal(map[string]any{
			"cursorTime": 0, "jobName": "actions", "taskId": fmt.Sprint("actions-", shard), "parameter": map[string]any{},
			"source": map[string]any{"projectName": data.Project, "logstoreName": data.Logstore, "endpoint": endpoint,
				"shardId": shard, "beginCursor": begin, "endCursor": end},
		})
		return ev
	}
	timerEvent := func(f function) []byte {
		ev, _ := json.Marshal(map[string]string{"triggerTime": time.Now().UTC().Format(time.RFC3339), "triggerName": f.Props.Triggers[0].TriggerName})
		return ev
	}

	called := map[string][]call{}
	// The trigger function.
	trig := tpl.byTrigger(t, "log")
	inst := start(trig)
	invoke(inst, shardEvent(0), true)
	rcv.Close() // the receiver is down: shards 1 and 2 fail and are dead-lettered
	invoke(inst, shardEvent(1), false)
	invoke(inst, shardEvent(2), false)
	if rcv, err = receiver.Listen("tcp", rcvAddr, receiver.Options{}); err != nil {
		t.Fatal(err)
	}
	invoke(inst, shardEvent(2), true) // back: shard 2 shipped, its record resolved
	called[trig.Key] = rec.take()

	// The redrive function ships shard 1 again.
	rd := tpl.byKey(t, redriveKey)
	out := invoke(start(rd), timerEvent(rd), true)
	var pass struct{ Redriven int }
	if json.Unmarshal(out, &pass) != nil || pass.Redriven != 1 {
		t.Fatalf("the redrive function answered %s: want the dead-lettered range redriven", out)
	}
	called[rd.Key] = rec.take()

	// The consumer-group function: it creates its group; a later
	// invocation finds the group with another timeout (an operator changed
	// SLS_HEARTBEAT_TIMEOUT, or another tool made it) and updates it.
	cons := tpl.byKey(t, consumerKey)
	consumer := start(cons)
	out = invoke(consumer, timerEvent(cons), true)
	var sum struct{ Logs int }
	if json.Unmarshal(out, &sum) != nil || sum.Logs == 0 {
		t.Fatalf("the consumer-group function answered %s: want logs consumed", out)
	}
	called[cons.Key] = rec.take()
	group := cons.Props.EnvironmentVariables["SLS_CONSUMER_GROUP"]
	if err := localcloud.NewSLSClient(endpoint, loader).UpdateConsumerGroup(data.Project, data.Logstore, sls.ConsumerGroup{ConsumerGroupName: group, Timeout: 7}); err != nil {
		t.Fatal(err)
	}
	rec.take()
	invoke(consumer, timerEvent(cons), true)
	called[cons.Key] = append(called[cons.Key], rec.take()...)

	names := map[string]string{
		data.Logstore: "<logstore>", deadLetter: "<deadletter-logstore>",
		group:              "<consumer-group>",
		"sls2siem-redrive": "sls2siem-redrive", // redrive -group's default: the policy names it
	}
	logLogstore := "acs:log:<region>:<account-id>:project/<project>/logstore/<log-logstore>"
	checked := map[string]bool{}
	for key, calls := range called {
		v := fnRole[key]
		r, ok := roles[v]
		if !ok {
			t.Errorf("function %s: its role variable %q has no row in docs/deploy.md's RAM table", key, v)
			continue
		}
		want := grantsOf(t, calls, data.Project, names)
		// FC writes the function's log lines (logConfig) with its role.
		want[logLogstore] = []string{"log:PostLogStoreLogs"}
		got := readPolicy(t, filepath.Join(repo, "deploy", "ram", r.policy)).grants()
		for _, res := range slices.Sorted(maps.Keys(want)) {
			if !slices.Equal(got[res], want[res]) {
				t.Errorf("function %s (role %s, %s): its code calls %v on %s; the policy grants %v", key, v, r.policy, want[res], res, got[res])
			}
		}
		for res := range got {
			if _, ok := want[res]; !ok {
				t.Errorf("function %s (role %s, %s) grants %v on %s, which its code never calls", key, v, r.policy, got[res], res)
			}
		}
		checked[r.policy] = true
		t.Logf("function %s: %s, %d calls: %v", key, r.policy, len(calls), want)
	}
	if len(checked) != 3 {
		t.Errorf("checked the policies %v: want one per function, three", slices.Sorted(maps.Keys(checked)))
	}
}
