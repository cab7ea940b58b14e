package deploy

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// fc3Schema compiles testdata/fc3-schema.json, the JSON schema of the fc3
// component's props (draft-07).
func fc3Schema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("testdata", "fc3-schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	sch, err := jsonschema.NewCompiler().Compile(path)
	if err != nil {
		t.Fatalf("compile the fc3 schema: %v", err)
	}
	return sch
}

func validate(t testing.TB, sch *jsonschema.Schema, props any) error {
	t.Helper()
	b, err := json.Marshal(props)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return sch.Validate(inst)
}

func decodeMap(t testing.TB, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// go1Variant turns a function's props into the documented go1 alternative:
// runtime go1, the binary as handler, no customRuntimeConfig, one
// invocation per instance.
func go1Variant(m map[string]any, binary string) map[string]any {
	m["runtime"] = "go1"
	m["handler"] = binary
	delete(m, "customRuntimeConfig")
	m["instanceConcurrency"] = 1
	return m
}

// TestSchemaValidates validates every function of s.yaml, and its go1
// variant, against the fc3 component's schema.
func TestSchemaValidates(t *testing.T) {
	t.Parallel()
	sch := fc3Schema(t)
	for _, f := range render(t, deployEnv()).functions(t) {
		if err := validate(t, sch, decodeMap(t, f.Raw)); err != nil {
			t.Errorf("s.yaml: function %s does not validate against the fc3 schema:\n%v", f.Key, err)
		}
		if err := validate(t, sch, go1Variant(decodeMap(t, f.Raw), "sls2siem")); err != nil {
			t.Errorf("s.yaml: the go1 variant of function %s does not validate against the fc3 schema:\n%v", f.Key, err)
		}
	}
}

// TestSchemaRejectsBrokenProps checks that the validation has teeth: the
// same props, each broken in one way s.yaml could be, fail it.
func TestSchemaRejectsBrokenProps(t *testing.T) {
	t.Parallel()
	sch := fc3Schema(t)
	f := render(t, deployEnv()).byTrigger(t, "log")
	for name, breakIt := range map[string]func(m map[string]any){
		"memory as a string (env() of a number)": func(m map[string]any) { m["memorySize"] = "512" },
		"memory not a multiple of 64":            func(m map[string]any) { m["memorySize"] = 500 },
		"unknown runtime":                        func(m map[string]any) { m["runtime"] = "custom.debian9" },
		"unknown region":                         func(m map[string]any) { m["region"] = "cn-nowhere" },
		"custom runtime without code":            func(m map[string]any) { delete(m, "code") },
		"go1 without handler":                    func(m map[string]any) { go1Variant(m, "x"); delete(m, "handler") },
		"environment value not a string":         func(m map[string]any) { m["environmentVariables"].(map[string]any)["SYSLOG_PORT"] = 514 },
		"timeout beyond a day":                   func(m map[string]any) { m["timeout"] = 86401 },
		"trigger without a name":                 func(m map[string]any) { delete(m["triggers"].([]any)[0].(map[string]any), "triggerName") },
		"unknown trigger type":                   func(m map[string]any) { m["triggers"].([]any)[0].(map[string]any)["triggerType"] = "sls" },
	} {
		m := decodeMap(t, f.Raw)
		breakIt(m)
		if err := validate(t, sch, m); err == nil {
			t.Errorf("%s: the fc3 schema accepted it", name)
		}
	}
}

// logTriggerConfig is the SLS trigger's configuration. The fc3 schema
// cannot check it: triggerConfig is an anyOf whose IOtsConfig branch is any
// object, and its jobConfig fields are typed as strings, while fc3's own
// examples and FC's API use integers. So it is checked here.
type logTriggerConfig struct {
	SourceConfig *struct {
		Logstore string `json:"logstore"`
	} `json:"sourceConfig"`
	JobConfig *struct {
		MaxRetryTime    *int `json:"maxRetryTime"`
		TriggerInterval *int `json:"triggerInterval"`
	} `json:"jobConfig"`
	FunctionParameter map[string]any `json:"functionParameter"`
	LogConfig         *struct {
		Project  string `json:"project"`
		Logstore string `json:"logstore"`
	} `json:"logConfig"`
	Enable *bool `json:"enable"`
}

type timerTriggerConfig struct {
	CronExpression string `json:"cronExpression"`
	Enable         *bool  `json:"enable"`
	Payload        string `json:"payload"`
}

func strictDecode(t testing.TB, raw json.RawMessage, v any) error {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// TestTriggers checks the triggers the schema cannot: the SLS trigger reads
// the source logstore of the project its ARN names, within FC's ranges,
// and logs elsewhere; the timer is a valid FC schedule; both are switches.
func TestTriggers(t *testing.T) {
	t.Parallel()
	env := deployEnv()
	tpl := render(t, env)
	project, logstore := env["SLS2SIEM_PROJECT"], env["SLS2SIEM_LOGSTORE"]

	f := tpl.byTrigger(t, "log")
	for _, tr := range f.Props.Triggers {
		var c logTriggerConfig
		if err := strictDecode(t, tr.TriggerConfig, &c); err != nil {
			t.Errorf("function %s, trigger %s: %v", f.Key, tr.TriggerName, err)
			continue
		}
		if want := "acs:log:" + f.Props.Region + ":" + env["SLS2SIEM_ACCOUNT_ID"] + ":project/" + project; tr.SourceArn != want {
			t.Errorf("log trigger sourceArn %q, want %q", tr.SourceArn, want)
		}
		if tr.InvocationRole != env["SLS2SIEM_TRIGGER_ROLE_ARN"] {
			t.Errorf("log trigger invocationRole %q, want the trigger role", tr.InvocationRole)
		}
		if c.SourceConfig == nil || c.SourceConfig.Logstore != logstore {
			t.Errorf("log trigger sourceConfig %+v, want logstore %s", c.SourceConfig, logstore)
		}
		if j := c.JobConfig; j == nil || j.MaxRetryTime == nil || *j.MaxRetryTime < 0 || *j.MaxRetryTime > 100 ||
			j.TriggerInterval == nil || *j.TriggerInterval < 3 || *j.TriggerInterval > 600 {
			t.Errorf("log trigger jobConfig: want integers maxRetryTime 0–100 and triggerInterval 3–600 s")
		} else if *j.TriggerInterval >= f.Props.Timeout {
			t.Errorf("triggerInterval %d s ≥ the function timeout %d s: a range could not be shipped before the next", *j.TriggerInterval, f.Props.Timeout)
		}
		if c.LogConfig == nil || c.LogConfig.Project == "" || c.LogConfig.Logstore == "" || c.LogConfig.Logstore == logstore {
			t.Errorf("log trigger logConfig %+v: want a project and a logstore other than the source", c.LogConfig)
		}
		if c.FunctionParameter == nil {
			t.Error("log trigger has no functionParameter object")
		}
		if c.Enable == nil || !*c.Enable {
			t.Error("log trigger: enable must be true by default")
		}
	}
	if lc := f.Props.LogConfig; lc == nil || lc.Logstore == logstore {
		t.Errorf("function %s logConfig %+v: want a logstore other than the source (it would ship its own logs)", f.Key, lc)
	}

	c := tpl.byKey(t, consumerKey)
	every := regexp.MustCompile(`^@every ([1-9][0-9]*)m$`)
	for _, tr := range c.Props.Triggers {
		var tc timerTriggerConfig
		if err := strictDecode(t, tr.TriggerConfig, &tc); err != nil {
			t.Errorf("function %s, trigger %s: %v", c.Key, tr.TriggerName, err)
			continue
		}
		m := every.FindStringSubmatch(tc.CronExpression)
		if m == nil && len(strings.Fields(tc.CronExpression)) != 6 {
			t.Errorf("timer cronExpression %q: want @every Nm or a six-field cron expression", tc.CronExpression)
		}
		if tc.Enable == nil || *tc.Enable {
			t.Error("timer trigger: enable must be false by default (one mode per logstore)")
		}
	}

	// The switches work.
	env["SLS2SIEM_TRIGGER_ENABLE"], env["SLS2SIEM_CONSUMER_ENABLE"] = "false", "true"
	tpl = render(t, env)
	for typ, want := range map[string]bool{"log": false, "timer": true} {
		var c struct {
			Enable *bool `json:"enable"`
		}
		fn := tpl.byKey(t, consumerKey)
		if typ == "log" {
			fn = tpl.byTrigger(t, typ)
		}
		if err := json.Unmarshal(fn.Props.Triggers[0].TriggerConfig, &c); err != nil || c.Enable == nil || *c.Enable != want {
			t.Errorf("%s trigger: enable is not %v with SLS2SIEM_TRIGGER_ENABLE=false, SLS2SIEM_CONSUMER_ENABLE=true", typ, want)
		}
	}
}
