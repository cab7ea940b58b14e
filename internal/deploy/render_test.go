package deploy

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// repo is the repository root, relative to this package.
const repo = "../.."

// template is s.yaml as `s preview -o json` renders it.
type template struct {
	Edition   string                     `json:"edition"`
	Name      string                     `json:"name"`
	Access    string                     `json:"access"`
	Vars      map[string]json.RawMessage `json:"vars"`
	Resources map[string]resource        `json:"resources"`
}

type resource struct {
	Component string              `json:"component"`
	Actions   map[string][]action `json:"actions"`
	Props     json.RawMessage     `json:"props"`
}

type action struct {
	Run  string `json:"run"`
	Path string `json:"path"`
}

// props are the fields of a function the tests look at; the schema test
// checks the whole object.
type props struct {
	Region               string            `json:"region"`
	FunctionName         string            `json:"functionName"`
	Runtime              string            `json:"runtime"`
	Handler              string            `json:"handler"`
	Code                 string            `json:"code"`
	Role                 string            `json:"role"`
	Timeout              int               `json:"timeout"`
	InstanceConcurrency  int               `json:"instanceConcurrency"`
	Layers               []string          `json:"layers"`
	EnvironmentVariables map[string]string `json:"environmentVariables"`
	CustomRuntimeConfig  *struct {
		Command []string `json:"command"`
		Args    []string `json:"args"`
		Port    int      `json:"port"`
	} `json:"customRuntimeConfig"`
	LogConfig *struct {
		Project  string `json:"project"`
		Logstore string `json:"logstore"`
	} `json:"logConfig"`
	Triggers []trigger `json:"triggers"`
}

type trigger struct {
	TriggerName    string          `json:"triggerName"`
	TriggerType    string          `json:"triggerType"`
	InvocationRole string          `json:"invocationRole"`
	SourceArn      string          `json:"sourceArn"`
	Qualifier      string          `json:"qualifier"`
	TriggerConfig  json.RawMessage `json:"triggerConfig"`
}

// function is one rendered resource.
type function struct {
	Key   string // resource name in s.yaml
	Raw   json.RawMessage
	Props props
}

// functions returns the resources of tpl, sorted by name.
func (tpl template) functions(t testing.TB) []function {
	t.Helper()
	var fns []function
	for key, r := range tpl.Resources {
		if r.Component != "fc3" {
			t.Errorf("resource %s: component %q, want fc3", key, r.Component)
		}
		f := function{Key: key, Raw: r.Props}
		if err := json.Unmarshal(r.Props, &f.Props); err != nil {
			t.Fatalf("resource %s: props: %v", key, err)
		}
		fns = append(fns, f)
	}
	slices.SortFunc(fns, func(a, b function) int { return strings.Compare(a.Key, b.Key) })
	return fns
}

// byKey returns the function of s.yaml's resource key.
func (tpl template) byKey(t testing.TB, key string) function {
	t.Helper()
	for _, f := range tpl.functions(t) {
		if f.Key == key {
			return f
		}
	}
	t.Fatalf("s.yaml has no resource %s", key)
	return function{}
}

// Resource keys of the timer functions.
const (
	consumerKey = "sls2siem-consumer"
	redriveKey  = "sls2siem-redrive"
)

// byTrigger returns the one function that has a trigger of type typ.
func (tpl template) byTrigger(t testing.TB, typ string) function {
	t.Helper()
	var found []function
	for _, f := range tpl.functions(t) {
		for _, tr := range f.Props.Triggers {
			if tr.TriggerType == typ {
				found = append(found, f)
				break
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("s.yaml has %d functions with a %s trigger, want 1", len(found), typ)
	}
	return found[0]
}

// deployEnv are the values a user must give s.yaml (deploy/example.env):
// without them `s preview` and `s deploy` stop.
func deployEnv() map[string]string {
	return map[string]string{
		"SYSLOG_HOST":                "siem.example.com",
		"SLS2SIEM_ACCOUNT_ID":        "1234567890123456",
		"SLS2SIEM_PROJECT":           "audit-project",
		"SLS2SIEM_LOGSTORE":          "audit",
		"SLS2SIEM_FUNCTION_ROLE_ARN": "acs:ram::1234567890123456:role/sls2siem-function",
		"SLS2SIEM_TRIGGER_ROLE_ARN":  "acs:ram::1234567890123456:role/sls2siem-trigger",
		"SLS2SIEM_CONSUMER_ROLE_ARN": "acs:ram::1234567890123456:role/sls2siem-consumer",
		"SLS2SIEM_REDRIVE_ROLE_ARN":  "acs:ram::1234567890123456:role/sls2siem-redrive",
	}
}

// sCLI returns the path of the Serverless Devs CLI, or skips (fails under
// CI or make test) when it is not installed.
func sCLI(t testing.TB) string {
	t.Helper()
	if p, ok := findS(); ok {
		return p
	}
	msg := "the Serverless Devs CLI is not installed in deploy/node_modules: run make deploy-deps"
	if os.Getenv("CI") != "" || os.Getenv("SLS2SIEM_REQUIRE_RECEIVERS") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// findS returns the path of deploy/node_modules/.bin/s if it is installed.
func findS() (string, bool) {
	p, err := filepath.Abs(filepath.Join(repo, "deploy", "node_modules", ".bin", "s"))
	if err != nil {
		return "", false
	}
	_, err = os.Stat(p)
	return p, err == nil
}

// preview runs `s preview -o json` on a copy of s.yaml in an empty
// directory (so that no .env of the developer's leaks in) with exactly env
// as its environment, besides PATH and HOME. It returns the rendered
// template, or the CLI's error output when it fails.
func preview(t testing.TB, env map[string]string) (template, string, error) {
	t.Helper()
	s := sCLI(t)
	src, err := os.ReadFile(filepath.Join(repo, "s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s.yaml"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	// The CLI's HOME: it may still write there (logs, a cache) after it
	// exits, so it is removed on a best-effort basis, not by t.TempDir.
	home, err := os.MkdirTemp("", "s-home-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(home) })
	cmd := exec.Command(s, "preview", "-o", "json")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "NO_COLOR=1"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return template{}, stdout.String() + stderr.String(), err
	}
	// The CLI prints its warnings (e.g. about running as root) to stdout too,
	// before the document.
	doc := stdout.Bytes()
	if i := bytes.Index(doc, []byte("\n{")); i >= 0 && !bytes.HasPrefix(doc, []byte("{")) {
		doc = doc[i+1:]
	}
	var tpl template
	if err := json.Unmarshal(doc, &tpl); err != nil {
		t.Fatalf("s preview -o json printed no JSON document: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	return tpl, stderr.String(), nil
}

// render is preview that must succeed.
func render(t testing.TB, env map[string]string) template {
	t.Helper()
	tpl, out, err := preview(t, env)
	if err != nil {
		t.Fatalf("s preview: %v\n%s", err, out)
	}
	return tpl
}

// TestPreviewRenders renders s.yaml with the example values of
// deploy/example.env, as a user would after copying it to .env.
func TestPreviewRenders(t *testing.T) {
	t.Parallel()
	env := readDotEnv(t, filepath.Join(repo, "deploy", "example.env"))
	tpl := render(t, env)
	if tpl.Edition != "3.0.0" {
		t.Errorf("edition %q, want 3.0.0", tpl.Edition)
	}
	if len(tpl.Resources) != 3 {
		t.Errorf("s.yaml has %d resources, want 3 (the trigger function, the consumer-group function and the redrive function)", len(tpl.Resources))
	}
	for key, r := range tpl.Resources {
		if !slices.ContainsFunc(r.Actions["pre-deploy"], func(a action) bool { return a.Run == "make package" }) {
			t.Errorf("resource %s: no pre-deploy action runs make package", key)
		}
	}
	// Every required value is in example.env: dropping any one of them
	// stops the rendering with an error that names it.
	for name := range deployEnv() {
		if _, ok := env[name]; !ok {
			t.Errorf("deploy/example.env does not set %s, which s.yaml requires", name)
			continue
		}
		partial := maps.Clone(env)
		delete(partial, name)
		_, out, err := preview(t, partial)
		if err == nil {
			t.Errorf("s preview without %s succeeded: s.yaml must require it", name)
		} else if !strings.Contains(out, name) {
			t.Errorf("s preview without %s failed without naming it:\n%s", name, out)
		}
	}
}

// readDotEnv reads the uncommented KEY=value lines of a .env file.
func readDotEnv(t testing.TB, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: line %q is not KEY=value", path, line)
		}
		env[k] = v
	}
	return env
}
