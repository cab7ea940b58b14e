package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"sls2siem/internal/config"
)

// checkCmd validates the configuration in the environment, and with
// -probe tries the receiver and SLS.
type checkCmd struct {
	env                *Env
	mode               string
	strict, probe, out bool
}

// modes are check's -mode values and the uses they validate.
var modes = []struct {
	name string
	use  config.Use
}{
	{"trigger", config.UseTrigger}, {"consume", config.UseConsume}, {"redrive", config.UseRedrive},
	{"backfill", config.UseBackfill}, {"status", config.UseStatus},
}

func (c *checkCmd) Name() string { return "check" }
func (c *checkCmd) Summary() string {
	return "validate the configuration for every command that reads it; -probe tries the receiver and SLS"
}

func (c *checkCmd) flags() *flag.FlagSet {
	fs := newFlags("check")
	fs.StringVar(&c.mode, "mode", "", "validate for one use `USE` only, what it requires included: trigger, consume, redrive, backfill or status")
	fs.BoolVar(&c.strict, "strict", false, "an unknown SYSLOG_*, SLS_* or SHIP_* variable is an error, not a warning")
	fs.BoolVar(&c.probe, "probe", false, "also connect to the receiver as shipping would (TCP, TLS handshake, RELP open) and list the shards of SLS_PROJECT/SLS_LOGSTORE")
	fs.BoolVar(&c.out, "json", false, "print the findings as JSON")
	return fs
}

func (c *checkCmd) Usage() string {
	return `Usage: sls2siem check [-mode USE] [-strict] [-probe] [-json]

Validates every variable that is set, for every command that reads it, exactly as that
command would (so a value consume refuses fails check too), and what the trigger
function requires; with -mode, what that use reads and requires. Without -mode or with
-mode trigger, also that each function's variables fit FC's 4 KB as s.yaml passes them
(PEM text belongs in a layer). An unknown SYSLOG_*,
SLS_* or SHIP_* variable is a warning naming the nearest known one (an error with
-strict). With -probe, when the configuration is valid: connects to the receiver as
shipping would (TCP connect, TLS handshake with verification and the client
certificate, RELP open) and, when SLS_ENDPOINT, SLS_PROJECT and SLS_LOGSTORE are set,
lists the logstore's shards with the ALIBABA_CLOUD_* AccessKey pair. One line per
finding on stdout (JSON with -json); secrets are never shown.
` + flagDefaults(c.flags()) + `
Exit status: 0 valid (warnings aside); 1 a probe failed; 2 usage, an invalid
configuration, or an unknown variable with -strict.
`
}

// finding is one thing check found.
type finding struct {
	Level    string   `json:"level"` // error, warning or ok
	Variable string   `json:"variable,omitempty"`
	Message  string   `json:"message"`
	Uses     []string `json:"readBy,omitempty"`
	Probe    string   `json:"probe,omitempty"` // receiver or sls
}

func (c *checkCmd) Run(ctx context.Context, args []string) error {
	if err := parseFlags(c.flags(), args); err != nil {
		return err
	}
	uses, err := c.uses()
	if err != nil {
		return err
	}
	fs, loaded := validate(c.env.Getenv, uses, c.mode != "")
	if c.mode == "" || c.mode == "trigger" {
		if e := config.CheckFCEnv(c.env.Getenv); e != nil {
			fs = append(fs, finding{Level: "error", Variable: e.Var, Message: e.Msg})
		}
	}
	fs = append(fs, unknownVars(c.env.environ(), c.strict)...)
	code := ExitOK
	if hasLevel(fs, "error") {
		code = ExitUsage
	} else if c.probe {
		probes := c.probes(ctx, loaded)
		fs = append(fs, probes...)
		if hasLevel(probes, "error") {
			code = ExitFailure
		}
	}
	if code == ExitOK {
		fs = append(fs, finding{Level: "ok", Message: "the configuration is valid for " + validFor(loaded, uses)})
	}
	if err := c.print(fs); err != nil {
		return err
	}
	if code != ExitOK {
		return reported(code, fmt.Errorf("check found problems"))
	}
	return nil
}

// uses are the uses -mode asks for (every one without it).
func (c *checkCmd) uses() ([]config.Use, error) {
	var all, names []string
	for _, m := range modes {
		all = append(all, m.name)
		if c.mode == "" || c.mode == m.name {
			names = append(names, m.name)
		}
	}
	if len(names) == 0 {
		return nil, badValue("-mode is %q: want %s", c.mode, strings.Join(all, ", "))
	}
	var out []config.Use
	for _, m := range modes {
		if slices.Contains(names, m.name) {
			out = append(out, m.use)
		}
	}
	return out, nil
}

// validate loads the configuration of each use and returns every problem
// once, with the uses it concerns: all of them with required (-mode),
// else those of variables that are set and what the trigger function
// requires; and the warnings. loaded are the configurations that loaded.
func validate(getenv func(string) string, uses []config.Use, required bool) ([]finding, map[config.Use]config.Config) {
	byMsg := map[string]*finding{}
	var order []string
	loaded := map[config.Use]config.Config{}
	add := func(level, variable, msg string, u config.Use) {
		f, ok := byMsg[msg]
		if !ok {
			f = &finding{Level: level, Variable: variable, Message: msg}
			byMsg[msg] = f
			order = append(order, msg)
		}
		if level == "error" {
			f.Uses = append(f.Uses, u.String())
		}
	}
	for _, u := range uses {
		cfg, err := config.Load(getenv, u)
		if err == nil {
			loaded[u] = cfg
		}
		for _, p := range config.Problems(err) {
			if !p.Missing || required || u == config.UseTrigger {
				add("error", p.Var, p.Msg, u)
			}
		}
		for _, w := range cfg.Warnings {
			add("warning", strings.Fields(w)[0], w, u)
		}
	}
	out := make([]finding, 0, len(order))
	for _, m := range order {
		out = append(out, *byMsg[m])
	}
	slices.SortStableFunc(out, func(a, b finding) int { return levelRank(a.Level) - levelRank(b.Level) })
	return out, loaded
}

func levelRank(l string) int {
	return map[string]int{"error": 0, "warning": 1, "ok": 2}[l]
}

// unknownVars are the SYSLOG_*, SLS_* and SHIP_* variables of environ that
// sls2siem does not read, each with the nearest one it reads.
func unknownVars(environ []string, strict bool) []finding {
	level := "warning"
	if strict {
		level = "error"
	}
	var out []finding
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "SYSLOG_") && !strings.HasPrefix(name, "SLS_") && !strings.HasPrefix(name, "SHIP_") {
			continue
		}
		if _, ok := config.Lookup(name); ok {
			continue
		}
		msg := name + " is not a variable sls2siem reads"
		if near, ok := config.Nearest(name); ok {
			msg += ": did you mean " + near + "?"
		}
		out = append(out, finding{Level: level, Variable: name, Message: msg})
	}
	slices.SortFunc(out, func(a, b finding) int { return strings.Compare(a.Variable, b.Variable) })
	return out
}

func hasLevel(fs []finding, level string) bool {
	return slices.ContainsFunc(fs, func(f finding) bool { return f.Level == level })
}

// validFor names the uses whose configuration loaded, and says how to see
// what the others lack.
func validFor(loaded map[config.Use]config.Config, uses []config.Use) string {
	var ok, not []string
	for _, m := range modes {
		if !slices.Contains(uses, m.use) {
			continue
		}
		if _, done := loaded[m.use]; done {
			ok = append(ok, m.use.String())
		} else {
			not = append(not, m.name)
		}
	}
	s := strings.Join(ok, ", ")
	if len(ok) == 0 {
		s = "nothing yet"
	}
	if len(not) > 0 {
		s += fmt.Sprintf("; incomplete for %s (sls2siem check -mode %s says what is missing)", strings.Join(not, ", "), not[0])
	}
	return s
}

// print writes the findings: one line each, or JSON.
func (c *checkCmd) print(fs []finding) error {
	if c.out {
		return json.NewEncoder(c.env.Stdout).Encode(struct {
			Valid    bool      `json:"valid"`
			Findings []finding `json:"findings"`
		}{!hasLevel(fs, "error"), fs})
	}
	return printFindings(c.env.Stdout, fs)
}

func printFindings(w io.Writer, fs []finding) error {
	for _, f := range fs {
		line := fmt.Sprintf("%-7s %s", f.Level, f.Message)
		if len(f.Uses) > 0 {
			line += " (read by " + strings.Join(f.Uses, ", ") + ")"
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}
