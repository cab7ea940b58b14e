package fcemu

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// testfn is the function binary built from testdata/testfn.
var testfn string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "fcemu-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	gobin, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fcemu tests need the go command:", err)
		return 1
	}
	testfn = filepath.Join(dir, "testfn")
	cmd := exec.Command(gobin, "build", "-o", testfn, "./testdata/testfn")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build testdata/testfn: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var contracts = []Contract{ContractGo1, ContractCustom}

// start starts testfn under cfg (Binary and Output filled in) and stops it at
// the end of the test.
func start(t *testing.T, cfg Config) (*Instance, *syncBuffer) {
	t.Helper()
	out := &syncBuffer{}
	cfg.Binary = testfn
	cfg.Output = out
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	inst, err := Start(ctx, cfg)
	if err != nil {
		t.Fatalf("Start: %v\noutput:\n%s", err, out)
	}
	t.Cleanup(func() { inst.Stop(context.Background()) })
	return inst, out
}

func invoke(t *testing.T, inst *Instance, ev string) *Result {
	t.Helper()
	res, err := inst.Invoke(context.Background(), []byte(ev))
	if err != nil {
		t.Fatalf("Invoke(%s): %v", ev, err)
	}
	return res
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// initializer configures the initializer hook.
var initializer = Lifecycle{Initializer: &Hook{Handler: "init"}}

func TestInvokeSuccess(t *testing.T) {
	for _, ct := range contracts {
		t.Run(string(ct), func(t *testing.T) {
			inst, out := start(t, Config{Contract: ct, Lifecycle: initializer})
			// Output travels through a pipe: it may trail the hook's answer.
			waitFor(t, "the initializer hook's output", func() bool { return strings.Contains(out.String(), "HOOK initializer") })
			res := invoke(t, inst, `{"op":"echo","msg":"hi"}`)
			if res.Err != nil {
				t.Fatalf("Result.Err = %v", res.Err)
			}
			var got map[string]string
			if err := json.Unmarshal(res.Payload, &got); err != nil || got["echo"] != "hi" {
				t.Errorf("payload = %q (%v), want echo hi", res.Payload, err)
			}
			if !uuidRE.MatchString(res.RequestID) {
				t.Errorf("RequestID = %q, not a UUID", res.RequestID)
			}
			if res.Duration <= 0 {
				t.Errorf("Duration = %v", res.Duration)
			}
			if n := inst.Restarts(); n != 1 {
				t.Errorf("Restarts = %d, want 1", n)
			}
		})
	}
}

func TestFunctionError(t *testing.T) {
	tests := []struct {
		contract Contract
		ev       string
		typ, msg string
	}{
		{ContractGo1, `{"op":"error","msg":"bad thing"}`, "errorString", "bad thing"},
		{ContractGo1, `{"op":"panic","msg":"boom"}`, "string", "boom"},
		{ContractCustom, `{"op":"error","msg":"bad thing"}`, "TestError", "bad thing"},
		{ContractCustom, `{"op":"panic","msg":"boom"}`, typeUnhandled, "HTTP 500: boom\n"},
	}
	for _, tt := range tests {
		t.Run(string(tt.contract)+"/"+tt.ev, func(t *testing.T) {
			inst, _ := start(t, Config{Contract: tt.contract})
			res := invoke(t, inst, tt.ev)
			if res.Err == nil {
				t.Fatalf("Result.Err = nil, payload %q", res.Payload)
			}
			if res.Err.Type != tt.typ || res.Err.Message != tt.msg {
				t.Errorf("Result.Err = %+v, want type %q message %q", *res.Err, tt.typ, tt.msg)
			}
			// The process survives a function error (and a go1 panic).
			if res := invoke(t, inst, `{"op":"echo","msg":"again"}`); res.Err != nil {
				t.Errorf("after the error: %v", res.Err)
			}
			if n := inst.Restarts(); n != 1 {
				t.Errorf("Restarts = %d, want 1", n)
			}
		})
	}
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestCredentialsAndContext(t *testing.T) {
	creds := Credentials{AccessKeyID: "STS.testkeyid", AccessKeySecret: "s3cr3t-value-xyz", SecurityToken: "t0ken-value-abc"}
	for _, ct := range contracts {
		t.Run(string(ct), func(t *testing.T) {
			inst, out := start(t, Config{
				Contract: ct,
				// The deadline, timeout and retry-count headers: FC 3.0
				// documents none for the custom runtime (terms_test.go).
				Terms:        Terms{Headers: HeadersKind},
				Timeout:      30 * time.Second,
				Credentials:  creds,
				FunctionName: "shipper",
				MemoryMB:     256,
				Region:       "cn-shanghai",
				AccountID:    "42",
				Env:          []string{"TESTFN_EXTRA=extra-value"},
			})
			res, err := inst.InvokeWithHeaders(context.Background(), []byte(`{"op":"info"}`),
				http.Header{"X-Fc-Retry-Count": {"2"}})
			if err != nil || res.Err != nil {
				t.Fatalf("Invoke: %v %v", err, res.Err)
			}
			var in struct {
				RequestID, KeyID, SecretSHA256, TokenSHA256 string
				RemainingMS                                 int64
				Timeout, RetryCount                         int
				FunctionName, Memory, Region, AccountID     string
				EnvKeyID, EnvFunction, EnvExtra             string
				EnvHasSecret                                bool
			}
			if err := json.Unmarshal(res.Payload, &in); err != nil {
				t.Fatalf("payload %q: %v", res.Payload, err)
			}
			want := []struct{ name, got, want string }{
				{"request id", in.RequestID, res.RequestID},
				{"key id", in.KeyID, creds.AccessKeyID},
				{"secret", in.SecretSHA256, sha(creds.AccessKeySecret)},
				{"token", in.TokenSHA256, sha(creds.SecurityToken)},
				{"function name", in.FunctionName, "shipper"},
				{"memory", in.Memory, "256"},
				{"region", in.Region, "cn-shanghai"},
				{"account id", in.AccountID, "42"},
				{"env key id", in.EnvKeyID, creds.AccessKeyID},
				{"env FC_FUNCTION_NAME", in.EnvFunction, "shipper"},
				{"Config.Env", in.EnvExtra, "extra-value"},
			}
			for _, w := range want {
				if w.got != w.want {
					t.Errorf("%s = %q, want %q", w.name, w.got, w.want)
				}
			}
			if !in.EnvHasSecret {
				t.Error("ALIBABA_CLOUD_ACCESS_KEY_SECRET not set in the environment")
			}
			if in.Timeout != 30 || in.RetryCount != 2 {
				t.Errorf("timeout = %d, retry count = %d; want 30, 2", in.Timeout, in.RetryCount)
			}
			if in.RemainingMS <= 25_000 || in.RemainingMS > 30_000 {
				t.Errorf("remaining time = %dms, want within (25s, 30s]", in.RemainingMS)
			}
			if err := inst.Stop(context.Background()); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			log := out.String()
			if !strings.Contains(log, "key="+creds.AccessKeyID) {
				t.Errorf("function output not captured:\n%s", log)
			}
			for _, secret := range []string{creds.AccessKeySecret, creds.SecurityToken} {
				if strings.Contains(log, secret) {
					t.Errorf("output leaks a secret:\n%s", log)
				}
			}
		})
	}
}

func TestTimeoutRestarts(t *testing.T) {
	for _, ct := range contracts {
		t.Run(string(ct), func(t *testing.T) {
			inst, _ := start(t, Config{Contract: ct, Timeout: 300 * time.Millisecond})
			res := invoke(t, inst, `{"op":"hang"}`)
			if res.Err == nil || res.Err.Type != TypeFunctionTimeout {
				t.Fatalf("Result.Err = %v, want %s", res.Err, TypeFunctionTimeout)
			}
			if want := "Function timed out after 0.3 seconds"; res.Err.Message != want {
				t.Errorf("message = %q, want %q", res.Err.Message, want)
			}
			if res.Duration < 300*time.Millisecond {
				t.Errorf("Duration = %v, before the timeout", res.Duration)
			}
			if res := invoke(t, inst, `{"op":"echo","msg":"back"}`); res.Err != nil {
				t.Fatalf("after the timeout: %v", res.Err)
			}
			if n := inst.Restarts(); n != 2 {
				t.Errorf("Restarts = %d, want 2", n)
			}
		})
	}
}

// TestTimeoutKillsOthers: a timeout kills the process under the other
// invocations in flight.
func TestTimeoutKillsOthers(t *testing.T) {
	for _, ct := range contracts {
		t.Run(string(ct), func(t *testing.T) {
			inst, out := start(t, Config{Contract: ct, Timeout: 500 * time.Millisecond, InstanceConcurrency: 2})
			first := make(chan *Result, 1)
			go func() {
				res, _ := inst.Invoke(context.Background(), []byte(`{"op":"hang"}`))
				first <- res
			}()
			waitFor(t, "the first call to hang", func() bool { return strings.Count(out.String(), "hanging") == 1 })
			res, err := inst.Invoke(context.Background(), []byte(`{"op":"hang"}`))
			r1 := <-first
			if r1 == nil || r1.Err == nil || r1.Err.Type != TypeFunctionTimeout {
				t.Fatalf("first call: %+v, want %s", r1, TypeFunctionTimeout)
			}
			// The second call's own deadline is later, so it normally dies
			// with the process; at worst its timer races the kill.
			if !errors.Is(err, ErrProcessExited) && (res == nil || res.Err == nil || res.Err.Type != TypeFunctionTimeout) {
				t.Errorf("second call: %+v, %v; want ErrProcessExited", res, err)
			}
			if res := invoke(t, inst, `{"op":"echo"}`); res.Err != nil {
				t.Fatal(res.Err)
			}
			if n := inst.Restarts(); n != 2 {
				t.Errorf("Restarts = %d, want 2 (one kill)", n)
			}
		})
	}
}

func TestProcessExit(t *testing.T) {
	for _, ct := range contracts {
		t.Run(string(ct), func(t *testing.T) {
			inst, out := start(t, Config{Contract: ct, InstanceConcurrency: 2, Timeout: 20 * time.Second})
			hung := make(chan error, 1)
			go func() {
				_, err := inst.Invoke(context.Background(), []byte(`{"op":"hang"}`))
				hung <- err
			}()
			waitFor(t, "the call to hang", func() bool { return strings.Contains(out.String(), "hanging") })
			_, err := inst.Invoke(context.Background(), []byte(`{"op":"exit","code":3}`))
			for _, err := range []error{err, <-hung} {
				if !errors.Is(err, ErrProcessExited) || !strings.Contains(err.Error(), "exit status 3") {
					t.Errorf("err = %v, want ErrProcessExited with exit status 3", err)
				}
			}
			if res := invoke(t, inst, `{"op":"echo"}`); res.Err != nil {
				t.Fatal(res.Err)
			}
			if n := inst.Restarts(); n != 2 {
				t.Errorf("Restarts = %d, want 2", n)
			}
		})
	}
}

func TestConcurrency(t *testing.T) {
	for _, ct := range contracts {
		t.Run(string(ct)+"/barrier", func(t *testing.T) {
			// Each call returns only once 3 calls are inside the function.
			inst, _ := start(t, Config{Contract: ct, InstanceConcurrency: 3, Timeout: 10 * time.Second})
			var wg sync.WaitGroup
			results := make([]*Result, 3)
			errs := make([]error, 3)
			for k := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[k], errs[k] = inst.Invoke(context.Background(), []byte(`{"op":"barrier","n":3}`))
				}()
			}
			wg.Wait()
			for k := range 3 {
				if errs[k] != nil || results[k].Err != nil {
					t.Errorf("call %d: %v %v", k, errs[k], results[k].Err)
				}
			}
		})
		t.Run(string(ct)+"/limit", func(t *testing.T) {
			inst, _ := start(t, Config{Contract: ct, InstanceConcurrency: 2})
			var wg sync.WaitGroup
			peaks := make([]int, 6)
			for k := range peaks {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res, err := inst.Invoke(context.Background(), []byte(`{"op":"gauge"}`))
					if err != nil || res.Err != nil {
						t.Errorf("call %d: %v %v", k, err, res.Err)
						return
					}
					var g struct{ Peak int }
					json.Unmarshal(res.Payload, &g)
					peaks[k] = g.Peak
				}()
			}
			wg.Wait()
			for k, p := range peaks {
				if p < 1 || p > 2 {
					t.Errorf("call %d saw %d calls at once, want 1..2", k, p)
				}
			}
		})
	}
}

func TestCancelWaitingForSlot(t *testing.T) {
	inst, out := start(t, Config{Contract: ContractGo1, Timeout: 20 * time.Second})
	go inst.Invoke(context.Background(), []byte(`{"op":"hang"}`))
	waitFor(t, "the call to hang", func() bool { return strings.Contains(out.String(), "hanging") })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := inst.Invoke(ctx, []byte(`{"op":"echo"}`)); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// TestLifecycle: under HooksAll every hook is called, configured or not.
func TestLifecycle(t *testing.T) {
	for _, ct := range contracts {
		t.Run(string(ct), func(t *testing.T) {
			inst, out := start(t, Config{Contract: ct, Terms: Terms{Hooks: HooksAll}})
			if err := inst.PreFreeze(context.Background()); err != nil {
				t.Fatalf("PreFreeze: %v", err)
			}
			waitFor(t, "the pre-freeze hook's output", func() bool { return strings.Contains(out.String(), "HOOK prefreeze") })
			if err := inst.Stop(context.Background()); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			// Stop waits for the process and its output.
			if !regexp.MustCompile(`HOOK prestop [0-9a-f-]{36}\n`).MatchString(out.String()) {
				t.Errorf("pre-stop hook did not run:\n%s", out)
			}
			if _, err := inst.Invoke(context.Background(), []byte(`{"op":"echo"}`)); !errors.Is(err, ErrStopped) {
				t.Errorf("Invoke after Stop: %v, want ErrStopped", err)
			}
		})
	}
}

// TestMissingHooks: under HooksAll a hook the function lacks is ignored.
func TestMissingHooks(t *testing.T) {
	for _, ct := range contracts {
		t.Run(string(ct), func(t *testing.T) {
			inst, out := start(t, Config{Contract: ct, Env: []string{"TESTFN_HOOKS=0"}, Terms: Terms{Hooks: HooksAll}})
			if err := inst.PreFreeze(context.Background()); err != nil {
				t.Errorf("PreFreeze: %v", err)
			}
			if err := inst.Stop(context.Background()); err != nil {
				t.Errorf("Stop: %v", err)
			}
			if strings.Contains(out.String(), "HOOK") {
				t.Errorf("a hook ran:\n%s", out)
			}
		})
	}
}

func TestStartFailures(t *testing.T) {
	for _, ct := range contracts {
		t.Run(string(ct)+"/initializer", func(t *testing.T) {
			_, err := Start(context.Background(), Config{
				Contract: ct, Binary: testfn, Output: &syncBuffer{},
				Env: []string{"TESTFN_INIT_FAIL=1"}, Lifecycle: initializer,
			})
			if err == nil || !strings.Contains(err.Error(), "initializer failed on purpose") {
				t.Errorf("Start = %v, want the initializer's failure", err)
			}
		})
		t.Run(string(ct)+"/not-a-function", func(t *testing.T) {
			truePath, err := exec.LookPath("true")
			if err != nil {
				t.Skip("no true command")
			}
			_, err = Start(context.Background(), Config{Contract: ct, Binary: truePath, Output: &syncBuffer{}})
			if err == nil || !strings.Contains(err.Error(), "exit status 0") {
				t.Errorf("Start = %v, want a not-ready error naming the exit status", err)
			}
		})
	}
}
