package localcloud

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/leodido/go-syslog/v4/rfc5424"

	"sls2siem/internal/localcloud/fcemu"
)

// TestRunShipsTheSampleToTheEmbeddedReceiver is `make run` in a test: the
// real binary, both contracts, the embedded receiver.
func TestRunShipsTheSampleToTheEmbeddedReceiver(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "sls2siem")
	if out, err := exec.Command("go", "build", "-o", bin, "../..").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, contract := range []fcemu.Contract{fcemu.ContractCustom, fcemu.ContractGo1} {
		t.Run(string(contract), func(t *testing.T) {
			var messages bytes.Buffer
			res, err := Run(t.Context(), Options{
				Function: bin, Contract: contract, DataDir: "../../testdata/logstore",
				Env:      []string{"SYSLOG_FRAMING=lf"},
				Interval: 20 * time.Millisecond, MaxRetryTime: 1, Timeout: 30 * time.Second, Concurrency: 2,
				Messages: &messages,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Logs != 3000 || res.Shipped != 3000 || res.Received != 3000 || len(res.Failed) != 0 || res.Ranges != 2 {
				t.Fatalf("result %+v", res)
			}
			n := 0
			sc := bufio.NewScanner(&messages)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				if _, err := rfc5424.NewParser().Parse(sc.Bytes()); err != nil {
					t.Fatalf("printed message %d does not parse: %v", n, err)
				}
				n++
			}
			if n != 3000 {
				t.Errorf("printed %d messages, want 3000", n)
			}
		})
	}
}

// TestRunUnderEveryTerms ships the sample through the real binary under
// both contracts and FC 3.0's documented terms (the default: frozen
// between invocations, s.yaml's pre-stop hook, the 4 KB environment limit,
// no deadline header: the function's timeout comes from its environment),
// the captured headers (the deadline header too) and the kind terms.
func TestRunUnderEveryTerms(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "sls2siem")
	if out, err := exec.Command("go", "build", "-o", bin, "../..").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		name  string
		terms fcemu.Terms
	}{
		{"documented", fcemu.Terms{}}, {"captured", fcemu.Terms{Headers: fcemu.HeadersCaptured}}, {"kind", fcemu.KindTerms()},
	} {
		for _, contract := range []fcemu.Contract{fcemu.ContractGo1, fcemu.ContractCustom} {
			t.Run(tc.name+"/"+string(contract), func(t *testing.T) {
				res, err := Run(t.Context(), Options{
					Function: bin, Contract: contract, DataDir: "../../testdata/logstore",
					Interval: 20 * time.Millisecond, MaxRetryTime: 1, Timeout: 30 * time.Second, Concurrency: 2,
					FCTerms: tc.terms,
				})
				if err != nil {
					t.Fatal(err)
				}
				if res.Logs != 3000 || res.Shipped != 3000 || res.Received != 3000 || len(res.Failed) != 0 {
					t.Fatalf("result %+v", res)
				}
			})
		}
	}
}

func TestDeployed(t *testing.T) {
	cfg := Deployed(fcemu.Config{Timeout: 300 * time.Second, Env: []string{"SYSLOG_HOST=x"}})
	if !slices.Equal(cfg.Env, []string{"SYSLOG_HOST=x", "SHIP_FUNCTION_TIMEOUT=5m0s"}) || cfg.Lifecycle.PreStop != Lifecycle.PreStop || cfg.Lifecycle.Initializer != nil {
		t.Errorf("Deployed = %+v", cfg)
	}
	if cfg := Deployed(fcemu.Config{}); cfg.Timeout != defaultTimeout || !slices.Contains(cfg.Env, "SHIP_FUNCTION_TIMEOUT=1m0s") {
		t.Errorf("Deployed without a timeout = %+v", cfg)
	}
	own := fcemu.Lifecycle{Initializer: &fcemu.Hook{}}
	cfg = Deployed(fcemu.Config{Timeout: 500 * time.Millisecond, Env: []string{"SHIP_FUNCTION_TIMEOUT=9s"}, Lifecycle: own})
	if !slices.Equal(cfg.Env, []string{"SHIP_FUNCTION_TIMEOUT=9s"}) || cfg.Lifecycle.Initializer != own.Initializer || cfg.Lifecycle.PreStop != nil {
		t.Errorf("Deployed kept nothing of its own: %+v", cfg)
	}
	if cfg := Deployed(fcemu.Config{Timeout: 500 * time.Millisecond}); len(cfg.Env) != 0 {
		t.Errorf("a timeout under a second reached the environment: %v", cfg.Env)
	}
}
