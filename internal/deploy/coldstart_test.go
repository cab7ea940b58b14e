package deploy

import (
	"context"
	"encoding/json"
	"io"
	"strconv"
	"testing"
	"time"

	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/fcemu"
	"sls2siem/internal/localcloud/receiver"
	"sls2siem/internal/localcloud/sample"
	"sls2siem/internal/localcloud/slsemu"
)

// coldCloud is an SLS emulator holding one shard of ten sample log groups,
// a receiver, and the trigger event of the whole shard.
type coldCloud struct {
	role  slsemu.Credential
	env   []string
	event []byte
	logs  int
}

func newColdCloud(b *testing.B) *coldCloud {
	b.Helper()
	emu := slsemu.New()
	loader := slsemu.Credential{AccessKeyID: "LTAIbenchloader", AccessKeySecret: "bench-loader-secret"}
	c := &coldCloud{role: slsemu.Credential{AccessKeyID: "STS.bench", AccessKeySecret: "bench-secret", SecurityToken: "bench-token"}}
	emu.AddCredential(loader)
	emu.AddCredential(c.role)
	endpoint, err := emu.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { emu.Close() })
	data := sample.Generate(1, 1, 10)
	c.logs = data.LogCount()
	if err := emu.CreateLogstore(data.Project, data.Logstore, 1); err != nil {
		b.Fatal(err)
	}
	client := localcloud.NewSLSClient(endpoint, loader)
	if err := sample.Put(context.Background(), client, data); err != nil {
		b.Fatal(err)
	}
	begin, err := client.GetCursor(data.Project, data.Logstore, 0, "begin")
	if err != nil {
		b.Fatal(err)
	}
	end, err := client.GetCursor(data.Project, data.Logstore, 0, "end")
	if err != nil {
		b.Fatal(err)
	}
	rcv, err := receiver.Listen("tcp", "127.0.0.1:0", receiver.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rcv.Close() })
	_, port, _ := splitPort(rcv.Addr())
	c.env = []string{"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + port}
	c.event, err = json.Marshal(map[string]any{
		"cursorTime": time.Now().Unix(), "jobName": "bench", "taskId": "bench", "parameter": map[string]any{},
		"source": map[string]any{
			"endpoint": endpoint, "projectName": data.Project, "logstoreName": data.Logstore,
			"shardId": 0, "beginCursor": begin, "endCursor": end,
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func splitPort(addr string) (string, string, error) {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[:i], addr[i+1:], nil
		}
	}
	return addr, "", strconv.ErrSyntax
}

// BenchmarkColdStart measures a cold start of the packaged binary (what
// `make package` puts in the code zip) under the FC emulator: starting the
// process until it is ready (custom runtime: the port accepts; go1: the
// first runtime-API call), then the first invocation, shipping a range of
// ten log groups to a receiver. ns/op covers both; ready-ms and
// first-invoke-ms split them.
func BenchmarkColdStart(b *testing.B) {
	p := packaged(b)
	c := newColdCloud(b)
	args := customArgs(b)
	for _, contract := range []fcemu.Contract{fcemu.ContractCustom, fcemu.ContractGo1} {
		b.Run(string(contract), func(b *testing.B) {
			cfg := localcloud.Deployed(fcemu.Config{
				Binary: p.Binary(), Contract: contract, Env: c.env, Timeout: 30 * time.Second,
				Credentials:  fcemu.Credentials{AccessKeyID: c.role.AccessKeyID, AccessKeySecret: c.role.AccessKeySecret, SecurityToken: c.role.SecurityToken},
				FunctionName: "sls2siem", Output: io.Discard,
			})
			if contract == fcemu.ContractCustom {
				cfg.Args = args
			}
			var ready, invoke time.Duration
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				fn, err := fcemu.Start(context.Background(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				res, err := fn.Invoke(context.Background(), c.event)
				t2 := time.Now()
				if err != nil {
					b.Fatal(err)
				}
				if res.Err != nil {
					b.Fatalf("first invocation failed: %v", res.Err)
				}
				var sum struct {
					Logs int `json:"logs"`
				}
				if err := json.Unmarshal(res.Payload, &sum); err != nil || sum.Logs != c.logs {
					b.Fatalf("first invocation shipped %s, want %d logs", res.Payload, c.logs)
				}
				ready += t1.Sub(t0)
				invoke += t2.Sub(t1)
				b.StopTimer()
				fn.Stop(context.Background())
				b.StartTimer()
			}
			b.ReportMetric(float64(ready.Microseconds())/1000/float64(b.N), "ready-ms")
			b.ReportMetric(float64(invoke.Microseconds())/1000/float64(b.N), "first-invoke-ms")
		})
	}
}

// customArgs returns the custom runtime's arguments from s.yaml when the s
// CLI is installed, and ["serve"] otherwise: the benchmark measures the
// binary; TestRuntimeCommandAndPort checks the arguments.
func customArgs(b *testing.B) []string {
	b.Helper()
	if _, ok := findS(); ok {
		c := render(b, deployEnv()).byTrigger(b, "log").Props.CustomRuntimeConfig
		return append(append([]string{}, c.Command[1:]...), c.Args...)
	}
	return []string{"serve"}
}
