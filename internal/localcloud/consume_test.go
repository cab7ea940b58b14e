package localcloud

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunConsume is `make run MODE=consume` in a test: two consumer-group
// daemons (the real binary) share the sample's shards, deliver every log to
// the embedded receiver and stop cleanly with every checkpoint at the end.
func TestRunConsume(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "sls2siem")
	if out, err := exec.Command("go", "build", "-o", bin, "../..").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	var messages, fnLog bytes.Buffer
	res, err := RunConsume(t.Context(), ConsumeOptions{
		Function: bin, DataDir: "../../testdata/logstore", Env: []string{"SYSLOG_FRAMING=lf"},
		Messages: &messages, FunctionLog: &fnLog,
	})
	if err != nil {
		t.Fatalf("%v\nconsumers' output:\n%s", err, fnLog.String())
	}
	if res.Logs != 3000 || res.Received != 3000 || !res.AtEnd || len(res.Stops) != 2 {
		t.Fatalf("result %+v", res)
	}
	if len(res.Shares["consumer-1"]) != 1 || len(res.Shares["consumer-2"]) != 1 {
		t.Errorf("shares %v, want one shard each", res.Shares)
	}
	if n := strings.Count(messages.String(), "\n"); n != 3000 {
		t.Errorf("printed %d messages, want 3000", n)
	}
	// Each consumer served its metrics on its own port, and their shipped
	// logs add up to the sample.
	total := 0.0
	for _, name := range []string{"consumer-1", "consumer-2"} {
		m := res.Metrics[name]
		if m.Err != nil || !strings.HasPrefix(m.URL, "http://127.0.0.1:") || m.Held != 1 || m.Failures != 0 {
			t.Errorf("%s metrics: %+v", name, m)
		}
		total += m.Logs
	}
	if res.Metrics["consumer-1"].URL == res.Metrics["consumer-2"].URL || total != 3000 {
		t.Errorf("metrics %+v: want two addresses and 3000 logs shipped in all", res.Metrics)
	}
	if !strings.Contains(fnLog.String(), "serving metrics and health") {
		t.Errorf("the consumers did not log where their metrics are served")
	}
}
