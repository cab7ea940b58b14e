package localcloud

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sls2siem/internal/localcloud/fcemu"
)

// TestOutageScenario is `make run SCENARIO=outage` in a test: the real
// binary under the FC emulator, the embedded receiver refusing
// connections past the trigger's retries, the ranges dead-lettered, the
// receiver back, the real `sls2siem redrive`: every log of the sample
// received, 0 lost.
func TestOutageScenario(t *testing.T) {
	dir := t.TempDir()
	bin, lc := filepath.Join(dir, "sls2siem"), filepath.Join(dir, "localcloud")
	for out, pkg := range map[string]string{bin: "../..", lc: "./cmd/localcloud"} {
		if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", pkg, err, b)
		}
	}
	var messages bytes.Buffer
	res, err := RunOutage(t.Context(), Options{
		Function: bin, Contract: fcemu.ContractCustom, DataDir: "../../testdata/logstore",
		Interval: 20 * time.Millisecond, MaxRetryTime: 1, RetryDelay: 50 * time.Millisecond, Timeout: 30 * time.Second, Concurrency: 2,
		Messages: &messages,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Logs != 3000 || res.Invocations != 4 || res.RangesFailed != 2 || res.DeadLettered != 2 || res.Redriven != 2 ||
		res.RedriveExit != 0 || res.RedriveLogs != 3000 || res.Received != 3000 || res.Lost != 0 {
		t.Fatalf("result %+v: want 4 invocations, 2 ranges failed, dead-lettered and redriven, 3000 of 3000 received, 0 lost", res)
	}
	if res.Messages < 3000 || strings.Count(messages.String(), "[origin@32473 ") != int(res.Messages) {
		t.Errorf("%d messages, %d printed with their origin stamp", res.Messages, strings.Count(messages.String(), "[origin@32473 "))
	}
	t.Log(res.Summary())

	// The command `make run SCENARIO=outage` runs: exit 0 and the summary line.
	cmd := exec.CommandContext(t.Context(), lc, "-scenario", "outage", "-function", bin, "-data", "../../testdata/logstore",
		"-interval", "20ms", "-max-retry", "1", "-quiet")
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("localcloud -scenario outage: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "2 ranges failed, 2 dead-lettered") || !strings.Contains(stderr.String(), "2 redriven (3000 logs); 3000 logs in the sample, 3000 received (distinct") ||
		!strings.Contains(stderr.String(), ", 0 lost;") {
		t.Errorf("summary line:\n%s", stderr.String())
	}
}
