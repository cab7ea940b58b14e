package deploy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"sls2siem/internal/config"
)

// envName is what an environment variable of ours looks like in the code.
var envName = regexp.MustCompile(`^(SYSLOG|SLS|SHIP|LOG|ALIBABA_CLOUD|FC)_[A-Z0-9_]*[A-Z0-9]$`)

// notProduct are the directories whose Go files are not the function's: the
// emulators, the tests' own packages and the build scripts.
var notProduct = []string{"internal/localcloud", "internal/e2e", "internal/deploy", "scripts", "deploy"}

// codeVars returns every environment variable name the product code
// mentions, with the files that mention it: the string literals of main.go
// and internal/ (emulators and tests excluded) that look like one of ours.
func codeVars(t testing.TB) map[string][]string {
	t.Helper()
	found := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(repo, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repo, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && rel != "." || d.Name() == "node_modules" || d.Name() == "testdata" || slices.Contains(notProduct, rel) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err == nil && envName.MatchString(s) && !slices.Contains(found[s], rel) {
				found[s] = append(found[s], rel)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The scan must at least see what package config declares.
	for _, v := range config.Vars {
		if _, ok := found[v.Name]; !ok {
			t.Fatalf("the source scan missed %s (config.Vars): fix codeVars", v.Name)
		}
	}
	return found
}

// setByFC are the variables FC itself sets (declared so), and the
// credentials that in FC come from the invocation context instead: s.yaml
// must not set them.
func setByFC(name string) bool {
	v, ok := config.Lookup(name)
	return ok && v.ByFC || strings.HasPrefix(name, "ALIBABA_CLOUD_")
}

// setBySYaml are the variables s.yaml sets from each function's own
// settings rather than from the environment of `s`: which function it is
// (SHIP_FUNCTION) and its timeout (SHIP_FUNCTION_TIMEOUT).
// TestFunctionsKnowThemselves checks their values.
func setBySYaml(name string) bool {
	return name == config.VarShipFunction || name == config.VarShipFunctionTimeout
}

// functionVars returns, per function of s.yaml, the variables its code
// reads as config.Vars declares them: the trigger function's (serve, for
// SLS trigger events), the consumer-group function's (the same server,
// for timer events as well) and the redrive function's (redrive -serve).
func functionVars(t testing.TB) (trigger, consumer, redrive []string) {
	t.Helper()
	names := func(u config.Use) []string {
		var out []string
		for _, n := range config.Names(u) {
			if !setByFC(n) {
				out = append(out, n)
			}
		}
		sort.Strings(out)
		return out
	}
	trigger, consumer, redrive = names(config.UseTrigger), names(config.UseTrigger|config.UseTimer), names(config.UseRedriveFC)
	if len(trigger) == len(consumer) {
		t.Fatal("found no variable that only the consumer-group function reads: fix functionVars")
	}
	return trigger, consumer, redrive
}

// TestEveryVariableIsDeclared: every string of the product code that
// looks like one of our variables is declared in config.Vars.
func TestEveryVariableIsDeclared(t *testing.T) {
	t.Parallel()
	for v, files := range codeVars(t) {
		if _, ok := config.Lookup(v); !ok {
			t.Errorf("%s (in %s) is not declared in config.Vars", v, strings.Join(files, ", "))
		}
	}
}

// TestEnvironmentVariablesMatchTheCode fails when a variable the code reads
// is missing from a function's environmentVariables in s.yaml, when s.yaml
// sets one the code does not read, or when it sets one FC provides.
func TestEnvironmentVariablesMatchTheCode(t *testing.T) {
	t.Parallel()
	code := codeVars(t)
	triggerVars, consumerVars, redriveVars := functionVars(t)
	tpl := render(t, deployEnv())
	want := map[string][]string{
		tpl.byTrigger(t, "log").Key: triggerVars,
		consumerKey:                 consumerVars,
		redriveKey:                  redriveVars,
	}
	for _, f := range tpl.functions(t) {
		env := f.Props.EnvironmentVariables
		for _, v := range want[f.Key] {
			if _, ok := env[v]; !ok {
				t.Errorf("s.yaml: function %s does not pass %s, which the code reads (%s)", f.Key, v, strings.Join(code[v], ", "))
			}
		}
		for v := range env {
			switch {
			case setByFC(v):
				t.Errorf("s.yaml: function %s sets %s: FC provides it (credentials come from the invocation context)", f.Key, v)
			case !slices.Contains(want[f.Key], v):
				t.Errorf("s.yaml: function %s sets %s, which its code does not read", f.Key, v)
			}
		}
	}
}

// TestEnvironmentVariablesComeFromTheEnvironment renders s.yaml with a
// distinct value for every variable the code reads and checks that each
// function receives exactly that value: nothing is hard-coded in s.yaml.
// Rendered without them, every optional variable is empty, so that the
// function's own default applies, and the result is a valid configuration.
func TestEnvironmentVariablesComeFromTheEnvironment(t *testing.T) {
	t.Parallel()
	code := codeVars(t)
	env := deployEnv()
	for v := range code {
		if !setByFC(v) {
			env[v] = "value-of-" + v
		}
	}
	for _, f := range render(t, env).functions(t) {
		for name, got := range f.Props.EnvironmentVariables {
			if setBySYaml(name) {
				continue
			}
			if got != env[name] {
				t.Errorf("s.yaml: function %s: %s is %q with %s=%q in the environment: pass it through with ${env('%s', ...)}", f.Key, name, got, name, env[name], name)
			}
		}
	}

	triggerVars, _, _ := functionVars(t)
	tpl := render(t, deployEnv())
	trig := tpl.byTrigger(t, "log")
	for _, f := range tpl.functions(t) {
		for name, got := range f.Props.EnvironmentVariables {
			if name == "SYSLOG_HOST" || got == "" || setBySYaml(name) {
				continue
			}
			if slices.Contains(triggerVars, name) {
				t.Errorf("s.yaml: function %s: %s defaults to %q: leave it empty so that the code's default applies", f.Key, name, got)
			}
		}
	}
	env = trig.Props.EnvironmentVariables
	if _, err := config.Load(func(k string) string { return env[k] }, config.UseTrigger); err != nil {
		t.Errorf("the configuration s.yaml gives the function by default is invalid: %v", err)
	}
}

// TestConfigurationPageDocumentsEveryVariable fails when a variable the
// code reads has no row in docs/configuration.md's table (FC's own
// variables excepted: the page names them in prose).
func TestConfigurationPageDocumentsEveryVariable(t *testing.T) {
	t.Parallel()
	// The table of variables, without the generated one below it.
	readme, _, _ := strings.Cut(readDoc(t, "configuration.md"), "\n## Which command reads what\n")
	rows := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Z0-9_]+)` \\|").FindAllStringSubmatch(readme, -1) {
		rows[m[1]] = true
	}
	for v, files := range codeVars(t) {
		switch {
		case setByFC(v):
			if !strings.Contains(readme, "`"+v+"`") {
				t.Errorf("docs/configuration.md does not mention %s (read in %s)", v, strings.Join(files, ", "))
			}
		case !rows[v]:
			t.Errorf("docs/configuration.md has no table row for %s (read in %s)", v, strings.Join(files, ", "))
		}
	}
}

// readDoc returns the text of docs/name.
func readDoc(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, "docs", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
