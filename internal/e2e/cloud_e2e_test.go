package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/fcemu"
	"sls2siem/internal/localcloud/sample"
	"sls2siem/internal/localcloud/slsemu"
)

// functionBinary is the real function, built once by TestMain.
var functionBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sls2siem-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	functionBinary = filepath.Join(dir, "sls2siem")
	build := exec.Command("go", "build", "-o", functionBinary, "../..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build the function: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cloud is the local cloud of one test: the SLS emulator loaded with the
// sample logstore through the real SDK, and the credentials of the
// function's role.
type cloud struct {
	emu      *slsemu.Server
	endpoint string
	data     *sample.Logstore
	loader   slsemu.Credential
	role     slsemu.Credential
	output   *syncBuffer // every function process's output
}

func newCloud(t *testing.T) *cloud {
	t.Helper()
	data, err := sample.Load("../../testdata/logstore")
	if err != nil {
		t.Fatal(err)
	}
	c := &cloud{
		emu:    slsemu.New(),
		data:   data,
		loader: slsemu.Credential{AccessKeyID: "LTAI-loader-" + t.Name(), AccessKeySecret: "loader-secret-" + randomHex(t)},
		role: slsemu.Credential{AccessKeyID: "STS.e2e", AccessKeySecret: "role-secret-" + randomHex(t),
			SecurityToken: "role-token-" + randomHex(t)},
		output: &syncBuffer{},
	}
	c.emu.AddCredential(c.loader)
	c.emu.AddCredential(c.role)
	c.endpoint, err = c.emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.emu.Close() })
	if err := c.emu.CreateLogstore(data.Project, data.Logstore, len(data.Shards)); err != nil {
		t.Fatal(err)
	}
	if err := sample.Put(context.Background(), localcloud.NewSLSClient(c.endpoint, c.loader), data); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.checkNoSecrets(t) })
	return c
}

// checkNoSecrets fails the test when a secret reached the function's output.
func (c *cloud) checkNoSecrets(t *testing.T) {
	out := c.output.String()
	for _, secret := range []string{c.role.AccessKeySecret, c.role.SecurityToken, c.loader.AccessKeySecret, dlKey} {
		if strings.Contains(out, secret) {
			t.Errorf("a secret reached the function's output:\n%s", out)
		}
	}
	if t.Failed() {
		t.Logf("function output:\n%s", out)
	}
}

// start runs the built binary under the FC emulator with env, as s.yaml
// deploys it (localcloud.Deployed: its pre-stop hook, its timeout in
// SHIP_FUNCTION_TIMEOUT), under FC 3.0's documented terms unless cfg says
// otherwise.
func (c *cloud) start(t *testing.T, contract fcemu.Contract, creds fcemu.Credentials, cfg fcemu.Config) *fcemu.Instance {
	t.Helper()
	cfg = localcloud.Deployed(cfg)
	cfg.Binary = functionBinary
	cfg.Contract = contract
	cfg.Env = append(localcloud.TrustEnv(c.endpoint), cfg.Env...)
	cfg.Credentials = creds
	cfg.Output = c.output
	cfg.FunctionName = "sls2siem"
	fn, err := fcemu.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fn.Stop(context.Background()) })
	return fn
}

func (c *cloud) roleCredentials() fcemu.Credentials {
	return fcemu.Credentials{AccessKeyID: c.role.AccessKeyID, AccessKeySecret: c.role.AccessKeySecret, SecurityToken: c.role.SecurityToken}
}

// shardRange returns the begin and end cursors of a whole shard.
func (c *cloud) shardRange(t *testing.T, shard int) (string, string) {
	t.Helper()
	begin, err := c.emu.Cursor(c.data.Project, c.data.Logstore, shard, "begin")
	if err != nil {
		t.Fatal(err)
	}
	end, err := c.emu.Cursor(c.data.Project, c.data.Logstore, shard, "end")
	if err != nil {
		t.Fatal(err)
	}
	return begin, end
}

// event builds an SLS trigger event like the real trigger's.
func (c *cloud) event(shard int, begin, end string) []byte {
	ev := map[string]any{
		"cursorTime": 1732500000,
		"jobName":    "e2e",
		"taskId":     "task-1",
		"parameter":  map[string]any{},
		"source": map[string]any{
			"projectName": c.data.Project, "logstoreName": c.data.Logstore, "endpoint": c.endpoint,
			"shardId": shard, "beginCursor": begin, "endCursor": end,
		},
	}
	b, _ := json.Marshal(ev)
	return b
}

// summary is the function's JSON answer.
type summary struct {
	Shard      int    `json:"shard"`
	LogGroups  int64  `json:"logGroups"`
	Logs       int64  `json:"logs"`
	Bytes      int64  `json:"bytes"`
	Resent     int64  `json:"resent"`
	Reconnects int64  `json:"reconnects"`
	Begin      string `json:"beginCursor"`
	End        string `json:"endCursor"`
}

func decodeSummary(t testing.TB, payload []byte) summary {
	t.Helper()
	var s summary
	if err := json.Unmarshal(payload, &s); err != nil {
		t.Fatalf("answer %q is not the JSON summary: %v", payload, err)
	}
	return s
}

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
