package deploy

import (
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"sls2siem/internal/config"
	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/fcemu"
)

// lifecycle is the instanceLifecycleConfig of a rendered function.
type lifecycle struct {
	Initializer *hook `json:"initializer"`
	PreStop     *hook `json:"preStop"`
}

type hook struct {
	Handler string `json:"handler"`
	Timeout int    `json:"timeout"`
}

func (f function) lifecycle(t testing.TB) lifecycle {
	t.Helper()
	var p struct {
		Lifecycle lifecycle `json:"instanceLifecycleConfig"`
	}
	if err := json.Unmarshal(f.Raw, &p); err != nil {
		t.Fatal(err)
	}
	return p.Lifecycle
}

// fcLifecycle is the rendered lifecycle as the FC emulator takes it.
func (l lifecycle) fcLifecycle() fcemu.Lifecycle {
	conv := func(h *hook) *fcemu.Hook {
		if h == nil {
			return nil
		}
		return &fcemu.Hook{Handler: h.Handler, Timeout: time.Duration(h.Timeout) * time.Second}
	}
	return fcemu.Lifecycle{Initializer: conv(l.Initializer), PreStop: conv(l.PreStop)}
}

// deployed is the FC emulator's configuration of a rendered function:
// its timeout, lifecycle hooks, name and environment (empty values
// included, as FC keeps them), for the packaged binary.
func deployed(t testing.TB, p pkg, f function) fcemu.Config {
	t.Helper()
	var env []string
	for k, v := range f.Props.EnvironmentVariables {
		env = append(env, k+"="+v)
	}
	cfg := fcemu.Config{
		Binary: p.Binary(), Contract: fcemu.ContractCustom, Env: env,
		FunctionName: f.Props.FunctionName, Timeout: time.Duration(f.Props.Timeout) * time.Second,
		Lifecycle: f.lifecycle(t).fcLifecycle(),
	}
	if c := f.Props.CustomRuntimeConfig; c != nil {
		cfg.Args = append(append([]string{}, c.Command[1:]...), c.Args...)
	}
	return cfg
}

// closedPort is a loopback port nobody listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// TestFunctionsKnowThemselves: every function's SHIP_FUNCTION_TIMEOUT is
// its timeout (FC 3.0's custom runtime sends no deadline: the function
// takes it from there), SHIP_FUNCTION names what its command serves, and
// its instanceLifecycleConfig configures pre-stop (which closes the syslog
// pool) and nothing FC 3.0 lacks: the hooks the local cloud's function
// runs with (localcloud.Lifecycle).
func TestFunctionsKnowThemselves(t *testing.T) {
	t.Parallel()
	tpl := render(t, deployEnv())
	for _, f := range tpl.functions(t) {
		env := f.Props.EnvironmentVariables
		if want := fmt.Sprintf("%ds", f.Props.Timeout); env[config.VarShipFunctionTimeout] != want {
			t.Errorf("function %s: %s=%q, its timeout is %d s: want %q", f.Key, config.VarShipFunctionTimeout, env[config.VarShipFunctionTimeout], f.Props.Timeout, want)
		}
		want := config.FunctionShip
		if f.Key == redriveKey {
			want = config.FunctionRedrive
		}
		if env[config.VarShipFunction] != want {
			t.Errorf("function %s: %s=%q, want %q", f.Key, config.VarShipFunction, env[config.VarShipFunction], want)
		}
		l := f.lifecycle(t)
		if l.PreStop == nil || l.PreStop.Handler == "" || l.PreStop.Timeout < 1 || l.Initializer != nil {
			t.Errorf("function %s: instanceLifecycleConfig %+v, want a preStop hook with a handler and a timeout, no initializer", f.Key, l)
			continue
		}
		if got, want := l.fcLifecycle(), localcloud.Lifecycle; got.Initializer != nil || *got.PreStop != *want.PreStop {
			t.Errorf("function %s: lifecycle %+v, the local cloud runs the function with %+v", f.Key, *got.PreStop, *want.PreStop)
		}
	}
}

// TestEnvironmentFitsFC: each function's environment as s.yaml renders it
// with the example values, empty ones included, fits FC's limits (4 KB,
// key syntax, no FC_ prefix), which the FC emulator enforces on start.
func TestEnvironmentFitsFC(t *testing.T) {
	t.Parallel()
	env := readDotEnv(t, filepath.Join(repo, "deploy", "example.env"))
	for _, f := range render(t, env).functions(t) {
		var kv []string
		size := 0
		for k, v := range f.Props.EnvironmentVariables {
			kv = append(kv, k+"="+v)
			size += len(k) + len(v)
		}
		if err := fcemu.CheckEnv(kv); err != nil {
			t.Errorf("function %s: %v", f.Key, err)
		}
		t.Logf("function %s: %d variables, %d bytes of FC's %d", f.Key, len(kv), size, config.MaxFCEnv)
	}
}
