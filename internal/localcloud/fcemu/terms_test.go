package fcemu

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testInfo is what testfn's "info" op answers.
type testInfo struct {
	RequestID   string
	RemainingMS int64
	Timeout     int
	Headers     []string
	HasDeadline bool
	EnvPorts    []string
}

func infoOf(t *testing.T, inst *Instance, extra http.Header) testInfo {
	t.Helper()
	res, err := inst.InvokeWithHeaders(context.Background(), []byte(`{"op":"info"}`), extra)
	if err != nil || res.Err != nil {
		t.Fatalf("info: %v %v", err, res.Err)
	}
	var in testInfo
	if err := json.Unmarshal(res.Payload, &in); err != nil {
		t.Fatalf("info payload %q: %v", res.Payload, err)
	}
	return in
}

var creds = Credentials{AccessKeyID: "STS.k", AccessKeySecret: "s", SecurityToken: "t"}

// TestHeaderSets: what a custom runtime receives under each header set.
func TestHeaderSets(t *testing.T) {
	documented := []string{"x-fc-access-key-id", "x-fc-access-key-secret", "x-fc-account-id", "x-fc-control-path",
		"x-fc-function-handler", "x-fc-function-memory", "x-fc-function-name", "x-fc-qualifier", "x-fc-region",
		"x-fc-request-id", "x-fc-security-token"}
	captured := append(slices.Clone(documented), "x-fc-function-deadline", "x-fc-function-timeout")
	slices.Sort(captured)
	kind := append(slices.Clone(captured), "x-fc-function-type", "x-fc-retry-count")
	slices.Sort(kind)
	retry := http.Header{"X-Fc-Retry-Count": {"1"}}

	for _, tc := range []struct {
		name     string
		set      HeaderSet
		want     []string
		deadline bool
	}{
		{"kind", HeadersKind, kind, true},
		{"documented", HeadersDocumented, documented, false},
		{"captured", HeadersCaptured, captured, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst, _ := start(t, Config{Contract: ContractCustom, Credentials: creds, Timeout: 20 * time.Second, Terms: Terms{Headers: tc.set}})
			in := infoOf(t, inst, retry)
			if !slices.Equal(in.Headers, tc.want) {
				t.Errorf("headers\n got %v\nwant %v", in.Headers, tc.want)
			}
			if in.HasDeadline != tc.deadline {
				t.Errorf("deadline sent = %v, want %v", in.HasDeadline, tc.deadline)
			}
			if tc.deadline && (in.RemainingMS <= 15_000 || in.RemainingMS > 20_000) {
				t.Errorf("remaining %dms, want within (15s, 20s]", in.RemainingMS)
			}
		})
	}

	t.Run("documented timeout", func(t *testing.T) {
		// Without a deadline header the function cannot stop on time, but
		// FC still ends the invocation at its timeout.
		inst, _ := start(t, Config{Contract: ContractCustom, Timeout: 300 * time.Millisecond, Terms: Terms{Headers: HeadersDocumented}})
		res := invoke(t, inst, `{"op":"hang"}`)
		if res.Err == nil || res.Err.Type != TypeFunctionTimeout {
			t.Fatalf("Result.Err = %v, want %s", res.Err, TypeFunctionTimeout)
		}
	})

	t.Run("go1", func(t *testing.T) {
		// The go1 runtime API keeps the deadline: fc-runtime-go-sdk drops
		// an invocation without it.
		inst, _ := start(t, Config{Contract: ContractGo1, Timeout: 20 * time.Second, Terms: Terms{Headers: HeadersDocumented}})
		if in := infoOf(t, inst, nil); !in.HasDeadline || in.Timeout != 20 {
			t.Errorf("go1 under documented headers: deadline %v, timeout %d; want a deadline and 20", in.HasDeadline, in.Timeout)
		}
	})
}

// TestStatusCode: Result.StatusCode is the custom runtime's HTTP status.
func TestStatusCode(t *testing.T) {
	inst, _ := start(t, Config{Contract: ContractCustom})
	if res := invoke(t, inst, `{"op":"echo"}`); res.StatusCode != 200 {
		t.Errorf("success: status %d", res.StatusCode)
	}
	// testfn answers a failure with 500 and x-fc-status 404: a failure too
	// (FC documents 404, which sls2siem answers).
	if res := invoke(t, inst, `{"op":"error","msg":"x"}`); res.Err == nil || res.StatusCode != 500 {
		t.Errorf("failure: %v, status %d", res.Err, res.StatusCode)
	}
}

func TestConfiguredHooks(t *testing.T) {
	hooks := Lifecycle{Initializer: &Hook{Handler: "init", Timeout: 5 * time.Second}, PreStop: &Hook{Handler: "prestop"}}
	for _, ct := range contracts {
		t.Run(string(ct)+"/none configured", func(t *testing.T) {
			inst, out := start(t, Config{Contract: ct, Terms: Terms{Hooks: HooksConfigured}})
			if err := inst.PreFreeze(context.Background()); err != nil {
				t.Fatal(err)
			}
			invoke(t, inst, `{"op":"echo"}`)
			if err := inst.Stop(context.Background()); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			if strings.Contains(out.String(), "HOOK") {
				t.Errorf("a hook ran although none is configured:\n%s", out)
			}
		})
		t.Run(string(ct)+"/configured", func(t *testing.T) {
			inst, out := start(t, Config{Contract: ct, Terms: Terms{Hooks: HooksConfigured}, Lifecycle: hooks})
			waitFor(t, "the initializer's output", func() bool { return strings.Contains(out.String(), "HOOK initializer") })
			if err := inst.PreFreeze(context.Background()); err != nil {
				t.Fatal(err)
			}
			invoke(t, inst, `{"op":"echo"}`)
			if err := inst.Stop(context.Background()); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			log := out.String()
			if !strings.Contains(log, "HOOK prestop") {
				t.Errorf("the configured pre-stop hook did not run:\n%s", log)
			}
			if strings.Contains(log, "HOOK prefreeze") {
				t.Errorf("pre-freeze ran: FC 3.0 has no such hook:\n%s", log)
			}
		})
		t.Run(string(ct)+"/configured but missing", func(t *testing.T) {
			_, err := Start(context.Background(), Config{Contract: ct, Binary: testfn, Output: &syncBuffer{},
				Env: []string{"TESTFN_HOOKS=0"}, Terms: Terms{Hooks: HooksConfigured}, Lifecycle: hooks})
			if err == nil || !strings.Contains(err.Error(), "initializer hook") {
				t.Errorf("Start = %v, want the missing initializer to fail the start", err)
			}
		})
	}
}

// procState returns the state letter of pid from /proc (T: stopped).
func procState(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	// pid (comm) state ...
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return fields[0]
}

func TestFreeze(t *testing.T) {
	freeze := Terms{} // the default
	for _, ct := range contracts {
		t.Run(string(ct), func(t *testing.T) {
			inst, _ := start(t, Config{Contract: ct, Terms: freeze})
			if inst.Frozen() {
				t.Fatal("frozen before any invocation")
			}
			for range 2 {
				invoke(t, inst, `{"op":"echo"}`)
				if !inst.Frozen() || procState(t, inst.PID()) != "T" {
					t.Fatalf("after an invocation: Frozen %v, process state %s; want frozen (T)", inst.Frozen(), procState(t, inst.PID()))
				}
			}
			if n := inst.Restarts(); n != 1 {
				t.Errorf("Restarts = %d, want 1: thawing is not restarting", n)
			}
		})
		t.Run(string(ct)+"/not while busy", func(t *testing.T) {
			// Each call returns only once 3 are inside the function: a
			// freeze between them would hang them until their timeout.
			inst, _ := start(t, Config{Contract: ct, Terms: freeze, InstanceConcurrency: 3, Timeout: 10 * time.Second})
			errs := make(chan error, 3)
			for range 3 {
				go func() {
					res, err := inst.Invoke(context.Background(), []byte(`{"op":"barrier","n":3}`))
					if err == nil && res.Err != nil {
						err = res.Err
					}
					errs <- err
				}()
			}
			for range 3 {
				if err := <-errs; err != nil {
					t.Error(err)
				}
			}
			if !inst.Frozen() {
				t.Error("not frozen once idle")
			}
		})
		t.Run(string(ct)+"/stop thaws", func(t *testing.T) {
			inst, out := start(t, Config{Contract: ct, Env: []string{"TESTFN_LOG_TERM=1"}})
			invoke(t, inst, `{"op":"echo"}`)
			if !inst.Frozen() {
				t.Fatal("not frozen")
			}
			if err := inst.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "TERM received") {
				t.Errorf("SIGTERM did not reach the function (still frozen?):\n%s", out)
			}
		})
	}
}

// TestKeepAliveAcrossFreeze: the emulator keeps its connection to the
// custom runtime across a freeze, as FC does; a server that closed it
// meanwhile fails the next invocation, one that keeps idle connections
// long enough does not.
func TestKeepAliveAcrossFreeze(t *testing.T) {
	const hold = 400 * time.Millisecond
	terms := Terms{Freeze: Freeze{Hold: hold}}

	t.Run("server closes idle connections", func(t *testing.T) {
		inst, out := start(t, Config{Contract: ContractCustom, Terms: terms, Env: []string{"TESTFN_IDLE_TIMEOUT=100ms"}})
		invoke(t, inst, `{"op":"echo"}`)
		began := time.Now()
		res := invoke(t, inst, `{"op":"echo"}`)
		if d := time.Since(began); d < hold {
			t.Errorf("the invocation after a freeze came after %v, before the hold of %v", d, hold)
		}
		if res.Err == nil || res.Err.Type != typeUnhandled || !strings.Contains(res.Err.Message, "kept alive") || !strings.Contains(res.Err.Message, "15 minutes") {
			t.Fatalf("Result.Err = %v, want the broken keep-alive reported", res.Err)
		}
		if !strings.Contains(out.String(), "closing a connection idle") {
			t.Errorf("the function did not close the connection:\n%s", out)
		}
		// The next invocation takes a new connection.
		if res := invoke(t, inst, `{"op":"echo"}`); res.Err != nil {
			t.Errorf("after the broken connection: %v", res.Err)
		}
	})

	t.Run("server keeps idle connections", func(t *testing.T) {
		inst, _ := start(t, Config{Contract: ContractCustom, Terms: terms})
		for i := range 3 {
			if res := invoke(t, inst, `{"op":"echo"}`); res.Err != nil {
				t.Fatalf("invocation %d: %v", i, res.Err)
			}
		}
	})
}

func TestDocumentedEnv(t *testing.T) {
	big := func(n int) string { return "BIG=" + strings.Repeat("x", n-len("BIG")) }

	t.Run("limit", func(t *testing.T) {
		for _, tc := range []struct {
			env  []string
			want string // "" for a successful start
		}{
			{[]string{big(4096)}, ""},
			{[]string{big(2048), "OTHER=" + strings.Repeat("y", 2049-len("OTHER"))}, "4097 bytes"},
			{[]string{"1ABC=x"}, `"1ABC"`},
			{[]string{"A-B=x"}, `"A-B"`},
			{[]string{"FC_SERVER_PORT=1"}, "reserved"},
			{[]string{"lower_case_9=x"}, ""},
		} {
			inst, err := Start(context.Background(), Config{Contract: ContractCustom, Binary: testfn, Output: &syncBuffer{},
				Env: tc.env})
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("%.20q…: %v", tc.env, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("%.20q…: %v, want an error naming %s", tc.env, err, tc.want)
			case tc.want != "" && strings.Contains(err.Error(), "xxxx"):
				t.Errorf("the error quotes a value: %v", err)
			}
			if inst != nil {
				inst.Stop(context.Background())
			}
		}
	})

	t.Run("kind has no limit", func(t *testing.T) {
		inst, _ := start(t, Config{Contract: ContractCustom, Env: []string{big(5000)}, Terms: Terms{KindEnv: true}})
		invoke(t, inst, `{"op":"echo"}`)
	})

	t.Run("listen port", func(t *testing.T) {
		for _, tc := range []struct {
			documented bool
			want       []string
		}{{false, []string{"FC_CUSTOM_LISTEN_PORT", "FC_SERVER_PORT"}}, {true, []string{"FC_CUSTOM_LISTEN_PORT"}}} {
			port := freePortForTest(t)
			inst, _ := start(t, Config{Contract: ContractCustom, Port: port, Terms: Terms{KindEnv: !tc.documented}})
			var want []string
			for _, k := range tc.want {
				want = append(want, k+"="+strconv.Itoa(port))
			}
			if got := infoOf(t, inst, nil).EnvPorts; !slices.Equal(got, want) {
				t.Errorf("documented=%v: port variables %v, want %v", tc.documented, got, want)
			}
		}
	})
}

func freePortForTest(t *testing.T) int {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDefaultTermsAreStrict runs a function under the default terms, all
// of FC 3.0's documented ones at once, with the hooks configured.
func TestDefaultTermsAreStrict(t *testing.T) {
	if StrictTerms() != (Terms{}) {
		t.Fatalf("StrictTerms() = %+v, want the zero Terms", StrictTerms())
	}
	inst, out := start(t, Config{Contract: ContractCustom, Credentials: creds,
		Lifecycle: Lifecycle{Initializer: &Hook{}, PreStop: &Hook{}}, Env: []string{"TESTFN_EXTRA=1"}})
	in := infoOf(t, inst, nil)
	if in.HasDeadline || slices.Contains(in.Headers, "x-fc-function-timeout") {
		t.Errorf("undocumented headers under strict terms: %v", in.Headers)
	}
	if len(in.EnvPorts) != 1 || !strings.HasPrefix(in.EnvPorts[0], "FC_CUSTOM_LISTEN_PORT=") {
		t.Errorf("port variables %v, want FC_CUSTOM_LISTEN_PORT alone", in.EnvPorts)
	}
	if !inst.Frozen() {
		t.Error("not frozen after the invocation")
	}
	if err := inst.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, hook := range []string{"HOOK initializer", "HOOK prestop"} {
		if !strings.Contains(out.String(), hook) {
			t.Errorf("%s missing:\n%s", hook, out)
		}
	}
}
