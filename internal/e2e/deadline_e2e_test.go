package e2e

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/localcloud/fcemu"
	"sls2siem/internal/localcloud/slsemu"
)

// TestDeadlineIsHonoured: a receiver that accepts and then stops reading
// must make the invocation fail with its own error before FC's timeout,
// not hang until FC kills it mid-write.
func TestDeadlineIsHonoured(t *testing.T) {
	c := newCloud(t)
	// A range far larger than the loopback socket buffers.
	const store = "big"
	if err := c.emu.CreateLogstore(c.data.Project, store, 1); err != nil {
		t.Fatal(err)
	}
	value := strings.Repeat("x", 1000)
	for g := 0; g < 40; g++ {
		lg := &sls.LogGroup{Topic: proto.String("bulk"), Source: proto.String("10.0.0.1")}
		for i := 0; i < 1000; i++ {
			lg.Logs = append(lg.Logs, &sls.Log{Time: proto.Uint32(1732500000), Contents: []*sls.LogContent{
				{Key: proto.String("v"), Value: proto.String(value)},
			}})
		}
		if _, err := c.emu.Append(c.data.Project, store, 0, lg, time.Unix(1732500000, 0)); err != nil {
			t.Fatal(err)
		}
	}
	begin, _ := c.emu.Cursor(c.data.Project, store, 0, "begin")
	end, _ := c.emu.Cursor(c.data.Project, store, 0, "end")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, conn) // held open, never read
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, conn := range held {
			conn.Close()
		}
	}()

	const timeout = 4 * time.Second
	fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{
		Timeout: timeout,
		Env: []string{
			"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port),
			"SYSLOG_WRITE_TIMEOUT=1m", "SHIP_DEADLINE_MARGIN=1500ms",
		},
	})
	ev := c.event(0, begin, end)
	ev = []byte(strings.Replace(string(ev), `"logstoreName":"`+c.data.Logstore+`"`, `"logstoreName":"`+store+`"`, 1))
	res, err := fn.Invoke(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if res.Err == nil {
		t.Fatalf("invocation succeeded although the receiver never read: %s", res.Payload)
	}
	if res.Err.Type == "FunctionTimeout" {
		t.Fatalf("FC had to kill the invocation: %v", res.Err)
	}
	if !strings.Contains(res.Err.Message, "before the invocation's deadline") {
		t.Errorf("error %q does not say the deadline stopped it", res.Err.Message)
	}
}

// TestSlowSLSAnswersStillAnswerBeforeFCTimeout: PullLogs answers that take
// 50 ms each (one group per pull) with a 10 s function timeout; over
// repeated invocations the function answers every time before FC's
// timeout, within its deadline margin, and names why it stopped.
func TestSlowSLSAnswersStillAnswerBeforeFCTimeout(t *testing.T) {
	c := newCloud(t)
	const store = "slow"
	if err := c.emu.CreateLogstore(c.data.Project, store, 1); err != nil {
		t.Fatal(err)
	}
	for g := 0; g < 400; g++ { // 400 pulls × 50 ms = 20 s: more than the timeout allows
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

	const timeout = 10 * time.Second
	fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{
		Timeout: timeout,
		Env:     []string{"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + strconv.Itoa(rcv.port), "SLS_PULL_COUNT=1"},
	})
	ev := c.event(0, begin, end)
	ev = []byte(strings.Replace(string(ev), `"logstoreName":"`+c.data.Logstore+`"`, `"logstoreName":"`+store+`"`, 1))
	for run := 0; run < 3; run++ {
		start := time.Now()
		res, err := fn.Invoke(context.Background(), ev)
		took := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		if res.Err == nil {
			t.Fatalf("run %d: 400 pulls of 50 ms succeeded within a 10 s timeout: %s", run, res.Payload)
		}
		if res.Err.Type == "FunctionTimeout" {
			t.Fatalf("run %d: FC had to kill the invocation after %s: %v", run, took, res.Err)
		}
		if took >= timeout-time.Second {
			t.Errorf("run %d: answered after %s, not within the 3 s margin of the 10 s timeout", run, took)
		}
		if !strings.Contains(res.Err.Message, "before the invocation") {
			t.Errorf("run %d: error %q does not say the deadline stopped it", run, res.Err.Message)
		}
	}
}

// lineListener accepts syslog connections and discards what they carry.
type lineListener struct{ port int }

func listenLines(t *testing.T) lineListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				buf := make([]byte, 64<<10)
				for {
					if _, err := conn.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	return lineListener{port: ln.Addr().(*net.TCPAddr).Port}
}
