package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"sls2siem/internal/relp"
)

// rsyslogQueueConf: imrelp into a ruleset whose queue is {{.Queue}}; the
// action is {{.Action}}.
const rsyslogQueueConf = `global(workDirectory="%[1]s/work" maxMessageSize="64k")
module(load="imrelp")
ruleset(name="r" %[2]s) {
  %[3]s
}
input(type="imrelp" address="127.0.0.1" port="%[4]d" ruleset="r" maxDataSize="256k")
`

// runRsyslog starts rsyslogd with conf and waits until port accepts.
func runRsyslog(t *testing.T, dir, conf string, port int) *exec.Cmd {
	t.Helper()
	file := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/sbin/rsyslogd", "-n", "-f", file, "-i", filepath.Join(dir, "pid"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", loopback(port), time.Second)
		if err == nil {
			c.Close()
			return cmd
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslogd not listening on %d: %v\n%s", port, err, out.String())
		}
		time.Sleep(10 * time.Millisecond) // polling the port
	}
}

// TestRELPAckIsQueuedNotWritten measures what an acknowledgement is worth
// when the receiver is killed: 200 messages, every one acknowledged with
// 200 while the receiver's output is down (they wait in its queue), then
// kill -9 and a restart with a working output. With the default in-memory
// queue every acknowledged message is lost; with a disk queue none is.
func TestRELPAckIsQueuedNotWritten(t *testing.T) {
	requireImrelp(t)
	const n = 200
	for _, c := range []struct {
		name     string
		queue    string
		wantLost int
	}{
		{"in-memory queue (default)", ``, n},
		{"disk queue", `queue.type="Disk" queue.filename="relpq" queue.checkpointInterval="1" queue.saveOnShutdown="on"`, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "work"), 0o755); err != nil {
				t.Fatal(err)
			}
			port, down := freePort(t, false), closedPort(t)
			out := filepath.Join(dir, "out.log")
			// The output is a forwarder to a closed port: suspended, so
			// the acknowledged messages stay in the queue.
			stuck := fmt.Sprintf(`action(type="omfwd" target="127.0.0.1" port="%d" protocol="tcp" action.resumeRetryCount="-1" action.resumeInterval="1")`, down)
			cmd := runRsyslog(t, dir, fmt.Sprintf(rsyslogQueueConf, dir, c.queue, stuck, port), port)

			nc, err := net.Dial("tcp", loopback(port))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			client, err := relp.Open(ctx, nc, loopback(port), relp.Options{Software: "sls2siem-test,1,none"})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < n; i++ {
				if _, err := client.Send(ctx, []byte("<13>1 2026-12-01T00:00:00Z h app - - - queued-"+strconv.Itoa(i))); err != nil {
					t.Fatal(err)
				}
			}
			if err := client.Wait(ctx); err != nil || client.Acked() != n {
				t.Fatalf("acknowledged %d of %d: %v", client.Acked(), n, err)
			}
			client.Abort()
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()

			// Restart with a working output, and wait for the queue to
			// drain (the queue files gone) or a bound.
			write := fmt.Sprintf(`action(type="omfile" file="%s" template="RSYSLOG_FileFormat")`, out)
			runRsyslog(t, dir, fmt.Sprintf(rsyslogQueueConf, dir, c.queue, write, port), port)
			got := 0
			deadline := time.Now().Add(3 * time.Second) // the disk queue drains in well under a second here
			for {
				data, _ := os.ReadFile(out)
				got = bytes.Count(data, []byte("queued-"))
				if got >= n || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond) // polling the output file
			}
			lost := n - min(got, n)
			t.Logf("%s: %d acknowledged, %d written after kill -9 and restart, %d lost", c.name, n, got, lost)
			if lost != c.wantLost {
				t.Fatalf("lost %d of %d acknowledged messages, want %d", lost, n, c.wantLost)
			}
		})
	}
}
