package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// policy is a RAM policy document.
type policy struct {
	Version   string      `json:"Version"`
	Statement []statement `json:"Statement"`
}

type statement struct {
	Effect    string          `json:"Effect"`
	Action    stringList      `json:"Action"`
	Resource  stringList      `json:"Resource"`
	Principal json.RawMessage `json:"Principal"`
}

// stringList is a RAM field that is a string or a list of strings.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = []string{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(l))
}

func readPolicy(t *testing.T, path string) policy {
	t.Helper()
	var p policy
	if err := json.Unmarshal(readFile(t, path), &p); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if p.Version != "1" || len(p.Statement) == 0 {
		t.Fatalf("%s: want Version \"1\" and at least one statement", path)
	}
	for _, s := range p.Statement {
		if s.Effect != "Allow" || len(s.Action) == 0 {
			t.Errorf("%s: statement %+v: want Effect Allow and actions", path, s)
		}
		for _, a := range s.Action {
			if strings.Contains(a, "*") {
				t.Errorf("%s: wildcard action %s: name each action", path, a)
			}
		}
	}
	return p
}

// grants returns resource → sorted actions.
func (p policy) grants() map[string][]string {
	g := map[string][]string{}
	for _, s := range p.Statement {
		for _, r := range s.Resource {
			g[r] = append(g[r], s.Action...)
		}
	}
	for r := range g {
		sort.Strings(g[r])
		g[r] = slices.Compact(g[r])
	}
	return g
}

const (
	arnLogstore    = "acs:log:<region>:<account-id>:project/<project>/logstore/<logstore>"
	arnLogLogstore = "acs:log:<region>:<account-id>:project/<project>/logstore/<log-logstore>"
	arnGroups      = arnLogstore + "/consumergroup/*"
	arnGroup       = arnLogstore + "/consumergroup/<consumer-group>"
	arnDeadLetter  = "acs:log:<region>:<account-id>:project/<project>/logstore/<deadletter-logstore>"
)

// TestRAMPolicies checks the least privilege of each role and that s.yaml
// and docs/deploy.md point at the files.
func TestRAMPolicies(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(repo, "deploy", "ram")
	want := map[string]map[string][]string{
		// The trigger function pulls the range it is handed, nothing more;
		// FC writes its log lines to the log logstore with the same role.
		"function-policy.json": {
			arnLogstore:    {"log:GetCursorOrData"},
			arnDeadLetter:  {"log:PostLogStoreLogs"},
			arnLogLogstore: {"log:PostLogStoreLogs"},
		},
		// The redrive function: read the dead-letter records with its own
		// checkpoints, append the outcomes, pull the source ranges again.
		"redrive-policy.json": {
			arnLogstore:                        {"log:GetCursorOrData"},
			arnDeadLetter:                      {"log:GetCursorOrData", "log:ListShards", "log:PostLogStoreLogs"},
			arnDeadLetter + "/consumergroup/*": {"log:CreateConsumerGroup", "log:ListConsumerGroup"},
			arnDeadLetter + "/consumergroup/sls2siem-redrive": {"log:ConsumerGroupUpdateCheckPoint", "log:GetConsumerGroupCheckPoint"},
			arnLogLogstore: {"log:PostLogStoreLogs"},
		},
		// The consumer-group function: what the SDK's consumer calls.
		"consumer-policy.json": {
			arnLogstore:    {"log:GetCursorOrData"},
			arnGroups:      {"log:CreateConsumerGroup", "log:ListConsumerGroup"},
			arnGroup:       {"log:ConsumerGroupHeartBeat", "log:ConsumerGroupUpdateCheckPoint", "log:GetConsumerGroupCheckPoint", "log:UpdateConsumerGroup"},
			arnLogLogstore: {"log:PostLogStoreLogs"},
		},
		// The SLS trigger: invoke this function, read the source with its
		// own consumer group, write its execution logs.
		"trigger-policy.json": {
			"acs:fc:<region>:<account-id>:functions/<function-name>":   {"fc:InvokeFunction"},
			"acs:fc:<region>:<account-id>:functions/<function-name>/*": {"fc:InvokeFunction"},
			arnLogstore: {"log:GetCursorOrData", "log:GetLogStore", "log:ListShards"},
			arnGroups: {"log:ConsumerGroupHeartBeat", "log:ConsumerGroupUpdateCheckPoint", "log:CreateConsumerGroup",
				"log:DeleteConsumerGroup", "log:GetConsumerGroupCheckPoint", "log:ListConsumerGroup", "log:UpdateConsumerGroup"},
			arnLogLogstore: {"log:PostLogStoreLogs"},
		},
	}
	for file, grants := range want {
		got := readPolicy(t, filepath.Join(dir, file)).grants()
		for r, actions := range grants {
			if !slices.Equal(got[r], actions) {
				t.Errorf("%s grants %v on %s, want %v", file, got[r], r, actions)
			}
		}
		for r := range got {
			if _, ok := grants[r]; !ok {
				t.Errorf("%s grants %v on %s, which the role does not need", file, got[r], r)
			}
		}
	}
	for file, service := range map[string]string{"function-trust.json": "fc.aliyuncs.com", "trigger-trust.json": "log.aliyuncs.com"} {
		p := readPolicy(t, filepath.Join(dir, file))
		if len(p.Statement) != 1 || !slices.Equal(p.Statement[0].Action, []string{"sts:AssumeRole"}) || !strings.Contains(string(p.Statement[0].Principal), `"`+service+`"`) {
			t.Errorf("%s: want one statement letting %s assume the role", file, service)
		}
	}

	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	syaml, readme := string(readFile(t, filepath.Join(repo, "s.yaml"))), readDoc(t, "deploy.md")
	for _, f := range files {
		name := filepath.Base(f)
		if _, ok := want[name]; !ok && !strings.HasSuffix(name, "-trust.json") {
			t.Errorf("deploy/ram/%s is not checked by this test", name)
		}
		if !strings.Contains(readme, "deploy/ram/"+name) {
			t.Errorf("docs/deploy.md does not mention deploy/ram/%s", name)
		}
		if strings.HasSuffix(name, "-policy.json") && !strings.Contains(syaml, name) {
			t.Errorf("s.yaml does not mention %s", name)
		}
	}
}

// TestRenderRAM fills in the policies with scripts/render-ram.sh and checks
// that no placeholder is left and the values are the ones s.yaml uses.
func TestRenderRAM(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	cmd := exec.Command("bash", filepath.Join(repo, "scripts", "render-ram.sh"), out)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range deployEnv() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("render-ram.sh: %v\n%s", err, b)
	}
	env := deployEnv()
	p := readPolicy(t, filepath.Join(out, "function-policy.json"))
	want := "acs:log:cn-hangzhou:" + env["SLS2SIEM_ACCOUNT_ID"] + ":project/" + env["SLS2SIEM_PROJECT"] + "/logstore/" + env["SLS2SIEM_LOGSTORE"]
	if got := p.grants()[want]; !slices.Equal(got, []string{"log:GetCursorOrData"}) {
		t.Errorf("rendered function policy grants %v on %s, want log:GetCursorOrData", got, want)
	}
	trig := string(readFile(t, filepath.Join(out, "trigger-policy.json")))
	if !strings.Contains(trig, ":functions/sls2siem\"") || !strings.Contains(trig, "/logstore/sls2siem-log\"") {
		t.Errorf("rendered trigger policy lacks the default function name or log logstore:\n%s", trig)
	}
	cons := string(readFile(t, filepath.Join(out, "consumer-policy.json")))
	if !strings.Contains(cons, "/consumergroup/sls2siem\"") {
		t.Errorf("rendered consumer policy lacks the default consumer group:\n%s", cons)
	}
}
