package ship

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/config"
	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/slsemu"
	"sls2siem/internal/secret"
)

var creds = secret.Credentials{AccessKeyID: "STS.ship", AccessKeySecret: "ship-secret", SecurityToken: "ship-token"}

// lineSink is a TCP receiver on loopback that collects LF-framed lines and
// counts connections.
type lineSink struct {
	ln    net.Listener
	mu    sync.Mutex
	lines []string
	conns []net.Conn
	got   chan struct{}
}

func newLineSink(t *testing.T) *lineSink {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &lineSink{ln: ln, got: make(chan struct{}, 1<<16)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			go func() {
				sc := bufio.NewScanner(c)
				sc.Buffer(nil, 1<<20)
				for sc.Scan() {
					s.mu.Lock()
					s.lines = append(s.lines, sc.Text())
					s.mu.Unlock()
					s.got <- struct{}{}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.dropConnections()
	})
	return s
}

func (s *lineSink) wait(t *testing.T, n int) []string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		if len(s.lines) >= n {
			out := append([]string(nil), s.lines...)
			s.mu.Unlock()
			return out
		}
		s.mu.Unlock()
		select {
		case <-s.got:
		case <-timeout:
			t.Fatalf("sink got %d lines, want %d", len(s.lines), n)
		}
	}
}

func (s *lineSink) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *lineSink) dropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
}

func setup(t *testing.T, groups, logsPerGroup int) (*Shipper, *lineSink, []byte) {
	t.Helper()
	sink := newLineSink(t)
	s, ev := setupTo(t, groups, logsPerGroup, sink.ln.Addr().(*net.TCPAddr).Port, nil)
	return s, sink, ev
}

// setupTo is setup with a receiver of the caller's at port and more
// variables.
func setupTo(t *testing.T, groups, logsPerGroup, port int, extra map[string]string) (*Shipper, []byte) {
	t.Helper()
	emu := slsemu.New()
	emu.AddCredential(slsemu.Credential{AccessKeyID: creds.AccessKeyID, AccessKeySecret: creds.AccessKeySecret, SecurityToken: creds.SecurityToken})
	endpoint, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	if err := emu.CreateLogstore("proj", "store", 1); err != nil {
		t.Fatal(err)
	}
	for g := 0; g < groups; g++ {
		lg := &sls.LogGroup{Topic: proto.String("t"), Source: proto.String("src")}
		for i := 0; i < logsPerGroup; i++ {
			lg.Logs = append(lg.Logs, &sls.Log{Time: proto.Uint32(1732500000), Contents: []*sls.LogContent{
				{Key: proto.String("n"), Value: proto.String(strconv.Itoa(g*logsPerGroup + i))},
			}})
		}
		if _, err := emu.Append("proj", "store", 0, lg, time.Unix(1732500000, 0)); err != nil {
			t.Fatal(err)
		}
	}
	begin, _ := emu.Cursor("proj", "store", 0, "begin")
	end, _ := emu.Cursor("proj", "store", 0, "end")
	cfg, err := config.Load(func(k string) string {
		if v, ok := extra[k]; ok {
			return v
		}
		return map[string]string{"SYSLOG_HOST": "127.0.0.1", "SYSLOG_PORT": strconv.Itoa(port), "SLS_PULL_COUNT": "3",
			"SLS_ALLOWED_ENDPOINTS": localcloud.AllowedPatterns(endpoint), "SLS_HTTPS": "false"}[k]
	}, config.UseTrigger)
	if err != nil {
		t.Fatal(err)
	}
	s := New(cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	t.Cleanup(func() { s.Close() })
	ev, _ := json.Marshal(map[string]any{"source": map[string]any{
		"projectName": "proj", "logstoreName": "store", "endpoint": endpoint, "shardId": 0, "beginCursor": begin, "endCursor": end,
	}})
	return s, ev
}

func TestShipsEveryLogAndReusesTheConnection(t *testing.T) {
	s, sink, ev := setup(t, 10, 4)
	for round := 1; round <= 2; round++ {
		sum, err := s.Ship(t.Context(), Invocation{RequestID: "r", Event: ev, Credentials: creds})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Logs != 40 || sum.LogGroups != 10 || sum.Bytes == 0 {
			t.Fatalf("summary %+v", sum)
		}
		lines := sink.wait(t, 40*round)
		for i, l := range lines[40*(round-1):] {
			if !strings.HasSuffix(l, "||n="+strconv.Itoa(i)) {
				t.Fatalf("round %d line %d = %q", round, i, l)
			}
		}
	}
	if n := sink.connections(); n != 1 {
		t.Errorf("two invocations used %d connections, want 1", n)
	}
}

func TestStalePooledConnectionIsReplaced(t *testing.T) {
	s, sink, ev := setup(t, 5, 2)
	if _, err := s.Ship(t.Context(), Invocation{Event: ev, Credentials: creds}); err != nil {
		t.Fatal(err)
	}
	sink.wait(t, 10)
	sink.dropConnections() // the receiver restarted while the instance was idle
	if _, err := s.Ship(t.Context(), Invocation{Event: ev, Credentials: creds}); err != nil {
		t.Fatal(err)
	}
	lines := sink.wait(t, 20)
	if len(lines) != 20 {
		t.Fatalf("got %d lines, want 20", len(lines))
	}
}

func TestErrorsCarryNoSecrets(t *testing.T) {
	s, _, ev := setup(t, 2, 2)
	bad := creds
	bad.AccessKeySecret = "a-wrong-secret"
	_, err := s.Ship(t.Context(), Invocation{Event: ev, Credentials: bad})
	if err == nil || !strings.Contains(err.Error(), "SignatureNotMatch") {
		t.Fatalf("wrong secret: %v", err)
	}
	for _, secret := range []string{"a-wrong-secret", creds.AccessKeySecret, creds.SecurityToken} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error leaks a credential: %v", err)
		}
	}
}

// resetSink resets every connection as soon as it is accepted, without
// reading, and its receive buffer is the smallest the kernel allows: a
// batch written on it lands in the local socket but is never acknowledged
// by the receiver's TCP stack in full.
func resetSink(t *testing.T) (port int, conns *atomic.Int64) {
	t.Helper()
	lc := net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1) })
		if err == nil {
			err = serr
		}
		return err
	}}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	conns = new(atomic.Int64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, conns
}

// TestRetriesAreBoundedByConfirmedProgress: a receiver that resets every
// connection confirms nothing (its TCP stack never acknowledges a whole
// batch), so SYSLOG_MAX_RETRIES=1 allows exactly one reconnection,
// whatever the local socket accepted, and the summary counts it exactly.
func TestRetriesAreBoundedByConfirmedProgress(t *testing.T) {
	port, conns := resetSink(t)
	s, ev := setupTo(t, 200, 50, port, map[string]string{"SYSLOG_MAX_RETRIES": "1", "SYSLOG_RETRY_BACKOFF": "1ms"})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	sum, err := s.Ship(ctx, Invocation{RequestID: "r", Event: ev, Credentials: creds})
	if err == nil {
		t.Fatalf("a receiver that resets every connection confirmed the range: %+v", sum)
	}
	if !strings.Contains(err.Error(), "SYSLOG_MAX_RETRIES=1") || !strings.Contains(err.Error(), "without a confirmed log") {
		t.Errorf("error %q does not say the retries ran out without progress", err)
	}
	if sum.Reconnects != 1 || conns.Load() != 2 {
		t.Errorf("reconnects %d over %d connections, want 1 reconnect and 2 connections", sum.Reconnects, conns.Load())
	}
	if sum.Resent < 0 || sum.SendFailure == "" {
		t.Errorf("summary %+v: want resent >= 0 and the send failure's kind", sum)
	}
	if sum.Logs != 0 {
		t.Errorf("%d logs counted as delivered; the receiver confirmed none", sum.Logs)
	}
}

// TestMarginThatLeavesNoTimeIsNamed: an invocation whose remaining time is
// within SHIP_DEADLINE_MARGIN fails at once, saying why.
func TestMarginThatLeavesNoTimeIsNamed(t *testing.T) {
	s, sink, ev := setup(t, 3, 3)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second) // the margin is 3s
	defer cancel()
	_, err := s.Ship(ctx, Invocation{RequestID: "r", Event: ev, Credentials: creds})
	if err == nil || !strings.Contains(err.Error(), "no more than SHIP_DEADLINE_MARGIN=3s") {
		t.Fatalf("error %v, want one naming SHIP_DEADLINE_MARGIN", err)
	}
	if sink.connections() != 0 {
		t.Errorf("%d connections to the receiver for an invocation that had no time", sink.connections())
	}
}
