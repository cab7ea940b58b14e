package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
)

// TestRAMPolicies checks the least privilege of the SLS trigger's role
// (TestPoliciesGrantWhatTheCodeCalls derives the functions' from their
// code), the trust policies, and that s.yaml and docs/deploy.md point at
// every file.
func TestRAMPolicies(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(repo, "deploy", "ram")
	want := map[string]map[string][]string{
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
	// The functions' policies, which TestPoliciesGrantWhatTheCodeCalls
	// compares with what their code calls.
	derived := map[string]bool{}
	for _, r := range ramRoles(t) {
		if _, ok := want[r.policy]; !ok {
			derived[r.policy] = true
		}
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
		if _, ok := want[name]; !ok && !derived[name] && !strings.HasSuffix(name, "-trust.json") {
			t.Errorf("deploy/ram/%s is neither checked by this test nor the policy of a role of docs/deploy.md's RAM table", name)
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

// TestRAMStepsCreateEveryRole: every role s.yaml gives a function or the
// trigger has a row in docs/deploy.md's RAM table, and the page's steps
// create it under the name of deploy/example.env's ARN, with the table's
// trust policy, and attach a policy made from the table's policy file
// (rendered into dist/ram/ by scripts/render-ram.sh).
func TestRAMStepsCreateEveryRole(t *testing.T) {
	t.Parallel()
	roles := ramRoles(t)
	used := map[string]bool{}
	for _, v := range roleVars(t, roles) {
		used[v] = true
	}
	example := readDotEnv(t, filepath.Join(repo, "deploy", "example.env"))
	steps := section(t, readDoc(t, "deploy.md"), "## RAM")
	createRole := regexp.MustCompile(`aliyun ram CreateRole --RoleName (\S+) --AssumeRolePolicyDocument "\$\(cat deploy/ram/([a-z-]+\.json)\)"`)
	createPolicy := regexp.MustCompile(`aliyun ram CreatePolicy --PolicyName (\S+) --PolicyDocument "\$\(cat dist/ram/([a-z-]+\.json)\)"`)
	attach := regexp.MustCompile(`aliyun ram AttachPolicyToRole --PolicyType Custom --PolicyName (\S+) --RoleName (\S+)`)
	trustOf, policyFile := map[string]string{}, map[string]string{}
	for _, m := range createRole.FindAllStringSubmatch(steps, -1) {
		trustOf[m[1]] = m[2]
	}
	for _, m := range createPolicy.FindAllStringSubmatch(steps, -1) {
		policyFile[m[1]] = m[2]
	}
	attached := map[string][]string{} // role → policy files
	for _, m := range attach.FindAllStringSubmatch(steps, -1) {
		attached[m[2]] = append(attached[m[2]], policyFile[m[1]])
	}
	for v, r := range roles {
		if !used[v] {
			t.Errorf("docs/deploy.md's RAM table has %s, which s.yaml does not use", v)
		}
		arn, ok := example[v]
		_, name, found := strings.Cut(arn, ":role/")
		if !ok || !found {
			t.Errorf("deploy/example.env does not set %s to a role ARN (acs:ram::<uid>:role/<name>)", v)
			continue
		}
		if trustOf[name] != r.trust {
			t.Errorf("docs/deploy.md's RAM steps do not create role %s (%s) with deploy/ram/%s: aliyun ram CreateRole --RoleName %s --AssumeRolePolicyDocument \"$(cat deploy/ram/%s)\"", name, v, r.trust, name, r.trust)
		}
		if !slices.Contains(attached[name], r.policy) {
			t.Errorf("docs/deploy.md's RAM steps attach no policy made from dist/ram/%s to role %s (%s)", r.policy, name, v)
		}
	}
}

// TestDeploymentVariablesDocumented: every SLS2SIEM_* variable s.yaml reads
// is in deploy/example.env (set when s.yaml requires it) and in
// docs/deploy.md's table of the deployment's variables ("(required)" when
// s.yaml requires it), and neither names one s.yaml does not read.
func TestDeploymentVariablesDocumented(t *testing.T) {
	t.Parallel()
	syaml := string(readFile(t, filepath.Join(repo, "s.yaml")))
	read, required := map[string]bool{}, map[string]bool{}
	for _, m := range regexp.MustCompile(`env\('(SLS2SIEM_[A-Z0-9_]+)'(\))?`).FindAllStringSubmatch(syaml, -1) {
		read[m[1]] = true
		if m[2] != "" {
			required[m[1]] = true
		}
	}
	if len(read) < 10 || len(required) < 5 {
		t.Fatalf("found %d SLS2SIEM_* variables in s.yaml, %d required: the pattern misses them", len(read), len(required))
	}
	example := string(readFile(t, filepath.Join(repo, "deploy", "example.env")))
	set := readDotEnv(t, filepath.Join(repo, "deploy", "example.env"))
	shown := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#?(SLS2SIEM_[A-Z0-9_]+)=`).FindAllStringSubmatch(example, -1) {
		shown[m[1]] = true
	}
	rows := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(SLS2SIEM_[A-Z0-9_]+)` \\| ([^|]*)\\|").FindAllStringSubmatch(readDoc(t, "deploy.md"), -1) {
		rows[m[1]] = strings.TrimSpace(m[2])
	}
	for v := range read {
		if !shown[v] {
			t.Errorf("deploy/example.env does not show %s, which s.yaml reads", v)
		}
		if _, ok := set[v]; required[v] && !ok {
			t.Errorf("deploy/example.env leaves %s commented out, which s.yaml requires", v)
		}
		cell, ok := rows[v]
		switch {
		case !ok:
			t.Errorf("docs/deploy.md's table of the deployment's variables has no row for %s", v)
		case required[v] != (cell == "(required)"):
			t.Errorf("docs/deploy.md gives %s the default %q; s.yaml requires it: %v", v, cell, required[v])
		}
	}
	for v := range shown {
		if !read[v] {
			t.Errorf("deploy/example.env shows %s, which s.yaml does not read", v)
		}
	}
	for v := range rows {
		if !read[v] {
			t.Errorf("docs/deploy.md documents %s, which s.yaml does not read", v)
		}
	}
}
