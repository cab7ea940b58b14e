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
