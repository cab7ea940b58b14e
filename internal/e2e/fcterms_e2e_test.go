package e2e

import (
	"context"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/localcloud/fcemu"
	"sls2siem/internal/localcloud/receiver"
	"sls2siem/internal/localcloud/slsemu"
)

// countingReceiver is a TCP syslog receiver that counts the messages.
func countingReceiver(t *testing.T) (*receiver.Receiver, string) {
	t.Helper()
	rcv, err := receiver.Listen("tcp", "127.0.0.1:0", receiver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rcv.Close() })
	_, port, _ := net.SplitHostPort(rcv.Addr())
	return rcv, port
}

// TestFCTermsDeadline: PullLogs answers take 50 ms each, 400 of them, in a
// function with a 6 s timeout. FC 3.0's custom runtime sends no deadline:
// with SHIP_FUNCTION_TIMEOUT (as s.yaml passes it) the function stops by
// its margin and says why, as it does with the deadline header a real
// capture shows (the configured timeout set far later there, so the
// header's deadline is the one that stops it). Without either it runs into
// FC's timeout: the failure FC's documents would have caused.
func TestFCTermsDeadline(t *testing.T) {
	c := newCloud(t)
	const store = "slow"
	if err := c.emu.CreateLogstore(c.data.Project, store, 1); err != nil {
		t.Fatal(err)
	}
	for g := range 400 {
		lg := &sls.LogGroup{Logs: []*sls.Log{{Time: proto.Uint32(1732500000), Contents: []*sls.LogContent{
			{Key: proto.String("g"), Value: proto.String(strconv.Itoa(g))},
		}}}}
		if _, err := c.emu.Append(c.data.Project, store, 0, lg, time.Unix(1732500000, 0)); err != nil {
			t.Fatal(err)
		}
	}
	begin, _ := c.emu.Cursor(c.data.Project, store, 0, "begin")
	end, _ := c.emu.Cursor(c.data.Project, store, 0, "end")
	c.emu.InjectFault(slsemu.Fault{Op: slsemu.OpPullLogs, Delay: 50 * time.Millisecond, Times: -1})
	rcv := listenLines(t)
	ev := c.event(0, begin, end)
	ev = []byte(strings.Replace(string(ev), `"logstoreName":"`+c.data.Logstore+`"`, `"logstoreName":"`+store+`"`, 1))

	const timeout = 6 * time.Second
	for _, tc := range []struct {
		name     string
		headers  fcemu.HeaderSet
		env      string // SHIP_FUNCTION_TIMEOUT; "" as s.yaml sets it
		stopsOwn bool
	}{
		{"documented headers", fcemu.HeadersDocumented, "", true},
		{"captured headers", fcemu.HeadersCaptured, "SHIP_FUNCTION_TIMEOUT=86400", true},
		{"documented headers, no configured timeout", fcemu.HeadersDocumented, "SHIP_FUNCTION_TIMEOUT=86400", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := []string{"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + strconv.Itoa(rcv.port), "SLS_PULL_COUNT=1", "SHIP_DEADLINE_MARGIN=2s"}
			if tc.env != "" {
				env = append(env, tc.env)
			}
			fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{Timeout: timeout, Env: env,
				Terms: fcemu.Terms{Headers: tc.headers}})
			res, err := fn.Invoke(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case res.Err == nil:
				t.Fatalf("400 pulls of 50 ms succeeded within a 6 s timeout: %s", res.Payload)
			case tc.stopsOwn && res.Err.Type == fcemu.TypeFunctionTimeout:
				t.Fatalf("FC had to kill the invocation: %v", res.Err)
			case tc.stopsOwn && !strings.Contains(res.Err.Message, "before the invocation"):
				t.Errorf("error %q does not say the deadline stopped it", res.Err.Message)
			case tc.stopsOwn && res.Duration >= timeout-time.Second:
				t.Errorf("answered after %v, not within the margin", res.Duration)
			case !tc.stopsOwn && res.Err.Type != fcemu.TypeFunctionTimeout:
				t.Errorf("without a deadline: %v, want FC's %s", res.Err, fcemu.TypeFunctionTimeout)
			}
		})
	}
}

// TestSignatureV4 ships a shard with SLS_SIGNATURE_VERSION=v4 through the
// trigger function under both contracts, and consumes the logstore with it
// through the consumer-group function (the SDK's consumer library): the SLS
// emulator, set to region cn-hangzhou, verifies every request's V4
// signature, so a wrong SLS_REGION fails with SignatureNotMatch and an
// endpoint that names no region without SLS_REGION is refused before any
// request.
func TestSignatureV4(t *testing.T) {
	c := newCloud(t)
	c.emu.SetRegion("cn-hangzhou")
	begin, end := c.shardRange(t, 0)
	var want int64
	for _, g := range c.data.Shards[0] {
		want += int64(len(g.Logs))
	}
	for _, tc := range []struct {
		contract fcemu.Contract
		region   string
		err      string // "" for success
	}{
		{fcemu.ContractCustom, "cn-hangzhou", ""},
		{fcemu.ContractGo1, "cn-hangzhou", ""},
		{fcemu.ContractCustom, "cn-shanghai", "SignatureNotMatch"},
		{fcemu.ContractCustom, "", "set SLS_REGION"},
	} {
		t.Run(string(tc.contract)+"/"+tc.region, func(t *testing.T) {
			rcv, port := countingReceiver(t)
			env := []string{"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + port, "SLS_SIGNATURE_VERSION=v4"}
			if tc.region != "" {
				env = append(env, "SLS_REGION="+tc.region)
			}
			fn := c.start(t, tc.contract, c.roleCredentials(), fcemu.Config{Timeout: 30 * time.Second, Env: env})
			res, err := fn.Invoke(context.Background(), c.event(0, begin, end))
			if err != nil {
				t.Fatal(err)
			}
			if tc.err != "" {
				if res.Err == nil || !strings.Contains(res.Err.Message, tc.err) {
					t.Fatalf("invocation: %v %s, want an error saying %s", res.Err, res.Payload, tc.err)
				}
				return
			}
			if res.Err != nil {
				t.Fatalf("invocation: %v", res.Err)
			}
			if s := decodeSummary(t, res.Payload); s.Logs != want {
				t.Fatalf("shipped %d logs, shard 0 has %d", s.Logs, want)
			}
			if got := waitCount(rcv, want); got != want {
				t.Errorf("the receiver got %d messages, want %d", got, want)
			}
		})
	}

	t.Run("consumer group", func(t *testing.T) {
		rcv, port := countingReceiver(t)
		fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{Timeout: 8 * time.Second, Env: []string{
			"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + port, "SLS_SIGNATURE_VERSION=v4", "SLS_REGION=cn-hangzhou",
			"SLS_ENDPOINT=" + c.endpoint, "SLS_PROJECT=" + c.data.Project, "SLS_LOGSTORE=" + c.data.Logstore,
			"SLS_CONSUMER_GROUP=v4", "SLS_CURSOR_POSITION=begin", "SLS_HEARTBEAT_INTERVAL=1s", "SLS_FETCH_INTERVAL=20ms",
			"SHIP_DEADLINE_MARGIN=500ms", "SLS_CONSUMER_STOP_TIMEOUT=3s",
		}})
		res, err := fn.Invoke(context.Background(), []byte(`{"triggerTime":"2026-11-25T00:00:00Z","triggerName":"consume","payload":""}`))
		if err != nil {
			t.Fatal(err)
		}
		if res.Err != nil {
			t.Fatalf("timer invocation: %v", res.Err)
		}
		var s cgSummary
		if err := json.Unmarshal(res.Payload, &s); err != nil || s.Logs != c.data.LogCount() {
			t.Fatalf("timer invocation answered %s (%v): want the sample's %d logs", res.Payload, err, c.data.LogCount())
		}
		if got := waitCount(rcv, int64(s.Logs)); got != int64(s.Logs) {
			t.Errorf("the receiver got %d messages, want %d", got, s.Logs)
		}
	})
}

// waitCount waits until rcv counted want messages (what was flushed may
// still sit in its socket buffer), for at most 10 s, and returns its count.
func waitCount(rcv *receiver.Receiver, want int64) int64 {
	for deadline := time.Now().Add(10 * time.Second); rcv.Count() < want && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	return rcv.Count()
}

// TestRedriveFunctionUnderBothContracts runs s.yaml's redrive function as
// each contract starts it: the custom runtime with `redrive -serve`, the
// go1 runtime with no arguments and SHIP_FUNCTION=redrive. Each pass reads
// the (empty) dead-letter logstore and succeeds, and the configured
// pre-stop hook answers on Stop.
func TestRedriveFunctionUnderBothContracts(t *testing.T) {
	c := newCloud(t)
	const dl = "sls2siem-deadletter"
	if err := c.emu.CreateLogstore(c.data.Project, dl, 2); err != nil {
		t.Fatal(err)
	}
	rcv := listenLines(t)
	for _, contract := range []fcemu.Contract{fcemu.ContractCustom, fcemu.ContractGo1} {
		t.Run(string(contract), func(t *testing.T) {
			cfg := fcemu.Config{Timeout: 30 * time.Second, Env: []string{
				"SHIP_FUNCTION=redrive", "SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + strconv.Itoa(rcv.port),
				"SLS_ENDPOINT=" + c.endpoint, "SLS_PROJECT=" + c.data.Project, "SHIP_DEADLETTER_LOGSTORE=" + dl,
				"SHIP_DEADLETTER_KEY=" + dlKey, "SHIP_REDRIVE_LOGSTORES=" + c.data.Logstore,
			}}
			if contract == fcemu.ContractCustom {
				cfg.Args = []string{"redrive", "-serve"}
			}
			fn := c.start(t, contract, c.roleCredentials(), cfg)
			res, err := fn.Invoke(context.Background(), []byte(`{"triggerTime":"2026-11-25T00:00:00Z","triggerName":"redrive","payload":""}`))
			if err != nil {
				t.Fatal(err)
			}
			var pass struct {
				Records *int `json:"records"`
				Ranges  *int `json:"ranges"`
			}
			if res.Err != nil || json.Unmarshal(res.Payload, &pass) != nil || pass.Records == nil || *pass.Records != 0 || pass.Ranges == nil {
				t.Fatalf("redrive invocation: %v %s, want a pass over no records", res.Err, res.Payload)
			}
			if err := fn.Stop(context.Background()); err != nil {
				t.Errorf("Stop: %v (the configured pre-stop hook failed)", err)
			}
		})
	}
}

// TestKeepAliveAcrossHeldFreeze: the function's server keeps the
// connection FC keeps alive across a freeze held between invocations (FC
// requires 15 minutes or more; a hold of that length would make the test
// as long: the server's IdleTimeout is checked in internal/fcruntime), and
// the pre-stop hook s.yaml configures answers on Stop, under both
// contracts.
func TestKeepAliveAcrossHeldFreeze(t *testing.T) {
	c := newCloud(t)
	begin, end := c.shardRange(t, 1)
	rcv := listenLines(t)
	for _, contract := range []fcemu.Contract{fcemu.ContractCustom, fcemu.ContractGo1} {
		t.Run(string(contract), func(t *testing.T) {
			fn := c.start(t, contract, c.roleCredentials(), fcemu.Config{Timeout: 20 * time.Second,
				Env:   []string{"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + strconv.Itoa(rcv.port)},
				Terms: fcemu.Terms{Freeze: fcemu.Freeze{Hold: time.Second}}})
			for i := range 3 {
				res, err := fn.Invoke(context.Background(), c.event(1, begin, end))
				if err != nil {
					t.Fatal(err)
				}
				if res.Err != nil {
					t.Fatalf("invocation %d after a held freeze: %v", i, res.Err)
				}
				if !fn.Frozen() {
					t.Errorf("invocation %d: the instance is not frozen after it", i)
				}
			}
			if err := fn.Stop(context.Background()); err != nil {
				t.Errorf("Stop: %v (the configured pre-stop hook failed)", err)
			}
			if n := fn.Restarts(); n != 1 {
				t.Errorf("%d starts: a freeze is not a restart", n)
			}
		})
	}
}
