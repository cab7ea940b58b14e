package deploy

import (
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/fcemu"
	"sls2siem/internal/localcloud/receiver"
	"sls2siem/internal/localcloud/sample"
	"sls2siem/internal/localcloud/slsemu"
)

// TestConsumerFunctionConsumes deploys s.yaml's consumer-group function on
// the local cloud, under both contracts: the packaged binary, started as
// s.yaml deploys it (its command, or none under go1, the environment
// s.yaml renders for it, pointed at the SLS emulator and a receiver, its
// timeout and lifecycle hooks, FC 3.0's documented terms, so no deadline
// header: the function's own SHIP_FUNCTION_TIMEOUT), gets its timer
// trigger's event and ships logs of the logstore as a consumer of the
// group, with the invocation's credentials.
func TestConsumerFunctionConsumes(t *testing.T) {
	t.Parallel()
	for _, contract := range []fcemu.Contract{fcemu.ContractCustom, fcemu.ContractGo1} {
		t.Run(string(contract), func(t *testing.T) { consumerFunctionConsumes(t, contract) })
	}
}

func consumerFunctionConsumes(t *testing.T, contract fcemu.Contract) {
	p := packaged(t)

	emu := slsemu.New()
	loader := slsemu.Credential{AccessKeyID: "LTAIdeployloader", AccessKeySecret: "deploy-loader-secret"}
	role := slsemu.Credential{AccessKeyID: "STS.deploy", AccessKeySecret: "deploy-role-secret", SecurityToken: "deploy-role-token"}
	emu.AddCredential(loader)
	emu.AddCredential(role)
	endpoint, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	data := sample.Generate(2, 2, 5)
	if err := emu.CreateLogstore(data.Project, data.Logstore, len(data.Shards)); err != nil {
		t.Fatal(err)
	}
	if err := sample.Put(context.Background(), localcloud.NewSLSClient(endpoint, loader), data); err != nil {
		t.Fatal(err)
	}
	rcv, err := receiver.Listen("tcp", "127.0.0.1:0", receiver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	_, port, _ := splitPort(rcv.Addr())

	env := deployEnv()
	env["SYSLOG_HOST"], env["SYSLOG_PORT"] = "127.0.0.1", port
	env["SLS2SIEM_PROJECT"], env["SLS2SIEM_LOGSTORE"] = data.Project, data.Logstore
	env["SLS_ENDPOINT"] = endpoint
	env["SLS_ALLOWED_ENDPOINTS"], env["SLS_HTTPS"] = localcloud.AllowedPatterns(endpoint), "false" // the emulator
	env["SLS_CURSOR_POSITION"] = "begin"
	// A short run: the invocation consumes until SHIP_DEADLINE_MARGIN +
	// SLS_CONSUMER_STOP_TIMEOUT before its deadline, which is its arrival
	// plus the function's 600 s timeout: 4 s.
	fn := render(t, env).byKey(t, consumerKey)
	margin := time.Duration(fn.Props.Timeout)*time.Second - 6*time.Second
	env["SHIP_DEADLINE_MARGIN"], env["SLS_CONSUMER_STOP_TIMEOUT"] = margin.String(), "2s"
	fn = render(t, env).byKey(t, consumerKey)
	cfg := deployed(t, p, fn)
	cfg.Contract, cfg.Output = contract, io.Discard
	cfg.Credentials = fcemu.Credentials{AccessKeyID: role.AccessKeyID, AccessKeySecret: role.AccessKeySecret, SecurityToken: role.SecurityToken}
	if contract == fcemu.ContractGo1 {
		cfg.Args = nil
	}
	inst, err := fcemu.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Stop(context.Background())

	event, _ := json.Marshal(map[string]string{
		"triggerTime": time.Now().UTC().Format(time.RFC3339),
		"triggerName": fn.Props.Triggers[0].TriggerName,
		"payload":     "",
	})
	res, err := inst.Invoke(context.Background(), event)
	if err != nil {
		t.Fatal(err)
	}
	if res.Err != nil {
		t.Fatalf("timer invocation failed: %v", res.Err)
	}
	if res.Duration > time.Minute {
		t.Errorf("the invocation took %v: it did not stop by its deadline less the margin", res.Duration)
	}
	var sum struct {
		Group string `json:"consumerGroup"`
		Logs  int64  `json:"logs"`
	}
	if err := json.Unmarshal(res.Payload, &sum); err != nil {
		t.Fatalf("timer invocation answered %s: %v", res.Payload, err)
	}
	if sum.Group != fn.Props.EnvironmentVariables["SLS_CONSUMER_GROUP"] || sum.Logs == 0 {
		t.Fatalf("timer invocation answered %s: want logs shipped as consumer group %s", res.Payload, fn.Props.EnvironmentVariables["SLS_CONSUMER_GROUP"])
	}
	// What was flushed may still sit in the receiver's socket buffer.
	for deadline := time.Now().Add(10 * time.Second); rcv.Count() < sum.Logs && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if got := rcv.Count(); got < sum.Logs {
		t.Errorf("the receiver got %d messages, the function reported %d logs", got, sum.Logs)
	}
	t.Logf("timer invocation: %s", res.Payload)
}
