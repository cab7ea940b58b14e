package localcloud

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
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

// TestRunUnderStrictTerms ships the sample through the real binary under
// FC 3.0's documented terms (frozen between invocations, hooks only as
// configured: a pre-stop hook, the 4 KB environment limit) with the go1
// contract, whose runtime API keeps the deadline the function needs.
func TestRunUnderStrictTerms(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "sls2siem")
	if out, err := exec.Command("go", "build", "-o", bin, "../..").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	res, err := Run(t.Context(), Options{
		Function: bin, Contract: fcemu.ContractGo1, DataDir: "../../testdata/logstore",
		Interval: 20 * time.Millisecond, MaxRetryTime: 1, Timeout: 30 * time.Second, Concurrency: 2,
		FCTerms: fcemu.StrictTerms(), FCLifecycle: fcemu.Lifecycle{PreStop: &fcemu.Hook{Handler: "prestop"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Logs != 3000 || res.Shipped != 3000 || res.Received != 3000 || len(res.Failed) != 0 {
		t.Fatalf("result %+v", res)
	}
}
