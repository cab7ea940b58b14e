package relp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeConn is the server side of one connection of a fake RELP receiver.
type fakeConn struct {
	t  *testing.T
	nc net.Conn
	fr *frameReader
}

// fakeServer listens on 127.0.0.1 and runs serve on the first connection.
// The test ends only after serve has returned.
func fakeServer(t *testing.T, serve func(*fakeConn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		conn net.Conn
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		mu.Lock()
		conn = nc
		mu.Unlock()
		defer nc.Close()
		serve(&fakeConn{t: t, nc: nc, fr: newFrameReader(nc, 1<<20)})
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		if conn != nil {
			conn.Close()
		}
		mu.Unlock()
		<-done
	})
	return ln.Addr().String()
}

// expect reads the next frame from the client, which must be cmd.
func (f *fakeConn) expect(cmd string) (frame, bool) {
	fm, err := f.fr.next()
	if err != nil {
		f.t.Errorf("fake server: reading %s: %v", cmd, err)
		return frame{}, false
	}
	if fm.cmd != cmd {
		f.t.Errorf("fake server: got %d %s %q, want %s", fm.txnr, fm.cmd, fm.data, cmd)
		return frame{}, false
	}
	return fm, true
}

func (f *fakeConn) send(s string) {
	if _, err := io.WriteString(f.nc, s); err != nil {
		f.t.Errorf("fake server: write: %v", err)
	}
}

// rspFrame builds an rsp frame.
func rspFrame(txnr uint32, data string) string {
	return string(appendFrame(nil, txnr, cmdRsp, []byte(data)))
}

const okOffers = "200 OK\nrelp_version=0\nrelp_software=fake,0,none\ncommands=syslog"

// answerOpen reads the open command, checks its offers and accepts it.
func (f *fakeConn) answerOpen() bool {
	fm, ok := f.expect(cmdOpen)
	if !ok {
		return false
	}
	o := parseOffers(fm.data)
	if !o.has("relp_version", "0") || !o.has("commands", cmdSyslog) || !o.has("relp_software", "test") {
		f.t.Errorf("fake server: open offers %q", fm.data)
	}
	f.send(rspFrame(fm.txnr, okOffers))
	return true
}

// readSyslog reads n syslog frames.
func (f *fakeConn) readSyslog(n int) bool {
	for range n {
		if _, ok := f.expect(cmdSyslog); !ok {
			return false
		}
	}
	return true
}

var testOpts = Options{Software: "test,0,none", Timeout: 5 * time.Second}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return nc
}

// openFake dials addr and opens a Client, aborted when the test ends.
func openFake(t *testing.T, addr string, opts Options) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Open(ctx, dial(t, addr), addr, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { c.Abort() })
	return c
}

func sendN(t *testing.T, c *Client, n int, payload string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := range n {
		seq, err := c.Send(ctx, []byte(fmt.Sprintf("<13>1 - h a - - - %s %d", payload, i)))
		if err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
		if seq != c.Sent()-1 {
			t.Fatalf("Send %d returned seq %d, Sent() = %d", i, seq, c.Sent())
		}
	}
}

func waitCtx(t *testing.T, c *Client, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return c.Wait(ctx)
}

func TestFakeHappyPath(t *testing.T) {
	addr := fakeServer(t, func(f *fakeConn) {
		if !f.answerOpen() {
			return
		}
		for i := range 3 {
			fm, ok := f.expect(cmdSyslog)
			if !ok {
				return
			}
			if want := fmt.Sprintf("<13>1 - h a - - - m %d", i); string(fm.data) != want {
				f.t.Errorf("fake server: syslog %q, want %q", fm.data, want)
			}
			f.send(rspFrame(fm.txnr, "200 OK"))
		}
		fm, ok := f.expect(cmdClose)
		if !ok {
			return
		}
		if fm.txnr != 5 || len(fm.data) != 0 {
			f.t.Errorf("fake server: close %d %q", fm.txnr, fm.data)
		}
		f.send(rspFrame(fm.txnr, "") + "0 serverclose 0\n")
	})
	c := openFake(t, addr, testOpts)
	sendN(t, c, 3, "m")
	if err := waitCtx(t, c, 5*time.Second); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if a, err := c.Poll(); a != 3 || err != nil || c.Acked() != 3 || c.Sent() != 3 {
		t.Fatalf("Poll = %d, %v; Acked %d Sent %d", a, err, c.Acked(), c.Sent())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := c.Send(ctx, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after Close: %v, want ErrClosed", err)
	}
	if err := c.Close(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v, want ErrClosed", err)
	}
}

// TestFaults runs the client against receivers that misbehave after
// answering open and reading 5 syslog frames (TXNR 2..6).
func TestFaults(t *testing.T) {
	const secret = "SECRET-PAYLOAD"
	for _, tc := range []struct {
		name   string
		opts   Options
		script string // sent after reading the 5 frames
		reset  bool   // then reset the connection instead of closing it
		acked  uint64 // Acked() after the failure
		is     error
		want   []string // in the error text, besides the address
	}{
		{name: "garbage", script: rspFrame(2, "200 OK") + "hello, this is not RELP\n",
			acked: 1, is: ErrProtocol, want: []string{`"hello, this is not RELP\n"`, "TXNR must start with a digit"}},
		{name: "unknown txnr", script: rspFrame(2, "200 OK") + rspFrame(77, "200 OK"),
			acked: 1, is: ErrProtocol, want: []string{"rsp for unknown TXNR 77 (expected 3)", `"77 rsp 6 200 OK\n"`}},
		{name: "duplicate txnr", script: rspFrame(2, "200 OK") + rspFrame(2, "200 OK"),
			acked: 1, is: ErrProtocol, want: []string{"duplicate rsp for TXNR 2 (expected 3)", `"2 rsp 6 200 OK\n"`}},
		{name: "out of order", script: rspFrame(3, "200 OK"),
			acked: 0, is: ErrProtocol, want: []string{"rsp for TXNR 3 out of order (expected 2)"}},
		{name: "rsp txnr 0", script: rspFrame(0, "200 OK"),
			acked: 0, is: ErrProtocol, want: []string{"rsp with TXNR 0"}},
		{name: "command from server", script: rspFrame(2, "200 OK") + "3 syslog 2 hi\n",
			acked: 1, is: ErrProtocol, want: []string{"unexpected syslog command with TXNR 3", `"3 syslog 2 hi\n"`}},
		{name: "non-numeric code", script: rspFrame(2, "200 OK") + rspFrame(3, "2x0 OK"),
			acked: 1, is: ErrProtocol, want: []string{"rsp CODE is not a 3-digit number in the answer to syslog", `"3 rsp 6 2x0 OK\n"`}},
		{name: "empty rsp", script: rspFrame(2, ""),
			acked: 0, is: ErrProtocol, want: []string{"rsp CODE is not a 3-digit number", `"2 rsp 0\n"`}},
		{name: "longer than DATALEN", script: rspFrame(2, "200 OK") + "3 rsp 3 200 OK\n",
			acked: 1, is: ErrProtocol, want: []string{"frame longer than its DATALEN 3", `"3 rsp 3 200 OK\n"`}},
		{name: "DATALEN over MaxFrame", opts: Options{MaxFrame: 1024}, script: rspFrame(2, "200 OK") + "3 rsp 2000 200 OK",
			acked: 1, is: ErrProtocol, want: []string{"DATALEN 2000 exceeds the limit of 1024 bytes", `"3 rsp 2000 200 OK"`}},
		{name: "500", script: rspFrame(2, "200 OK") + rspFrame(3, "500 error") + rspFrame(4, "200 OK"),
			acked: 1, is: ErrRefused, want: []string{`refused the syslog command: 500 "error"`}},
		{name: "serverclose", script: rspFrame(2, "200 OK") + rspFrame(3, "200 OK") + "0 serverclose 0\n",
			acked: 2, is: ErrServerClose, want: []string{"closed the RELP session (serverclose)"}},
		{name: "serverclose txnr 5", script: "5 serverclose 0\n",
			acked: 0, is: ErrProtocol, want: []string{"unexpected serverclose command with TXNR 5"}},
		{name: "acks 3 then EOF", script: rspFrame(2, "200 OK") + rspFrame(3, "200 OK") + rspFrame(4, "200 OK"),
			acked: 3, is: io.EOF, want: []string{"connection closed by the receiver (EOF), unanswered commands: 2"}},
		{name: "cut mid-frame", script: rspFrame(2, "200 OK") + "3 rsp 6 20",
			acked: 1, is: io.ErrUnexpectedEOF, want: []string{"connection closed in the middle of a frame", `"3 rsp 6 20"`}},
		{name: "reset", reset: true, // (unread data may be dropped on a reset: no ack first)
			acked: 0, want: []string{"connection reset by peer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := fakeServer(t, func(f *fakeConn) {
				if !f.answerOpen() || !f.readSyslog(5) {
					return
				}
				f.send(tc.script)
				if tc.reset {
					f.nc.(*net.TCPConn).SetLinger(0) // close with RST
				}
			})
			opts := testOpts
			if tc.opts.MaxFrame != 0 {
				opts.MaxFrame = tc.opts.MaxFrame
			}
			c := openFake(t, addr, opts)
			sendN(t, c, 5, secret)
			err := waitCtx(t, c, 5*time.Second)
			if err == nil {
				t.Fatal("Wait succeeded")
			}
			t.Logf("error: %v", err)
			var e *Error
			if !errors.As(err, &e) || e.Addr != addr {
				t.Fatalf("error %T %v is not an *Error for %s", err, err, addr)
			}
			msg := err.Error()
			if !strings.Contains(msg, addr) {
				t.Errorf("error does not name the receiver %s: %v", addr, msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not contain %s: %v", w, msg)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error is not %v: %v", tc.is, err)
			}
			if strings.Contains(msg, secret) {
				t.Errorf("error contains message contents: %v", msg)
			}
			if c.Acked() != tc.acked || c.Sent() != 5 {
				t.Errorf("Acked() = %d, Sent() = %d; want %d, 5", c.Acked(), c.Sent(), tc.acked)
			}
			// The error sticks: the client is unusable.
			if a, perr := c.Poll(); a != tc.acked || perr != err {
				t.Errorf("Poll = %d, %v; want %d, %v", a, perr, tc.acked, err)
			}
			if _, serr := c.Send(context.Background(), []byte("more")); serr != err {
				t.Errorf("Send after the error: %v, want %v", serr, err)
			}
			if werr := waitCtx(t, c, time.Second); werr != err {
				t.Errorf("Wait after the error: %v, want %v", werr, err)
			}
			if cerr := c.Close(context.Background()); cerr != err {
				t.Errorf("Close after the error: %v, want %v", cerr, err)
			}
		})
	}
}

func TestCode500Fields(t *testing.T) {
	addr := fakeServer(t, func(f *fakeConn) {
		if f.answerOpen() && f.readSyslog(1) {
			f.send(rspFrame(2, "500 queue full, "+strings.Repeat("z", 100)))
		}
	})
	c := openFake(t, addr, testOpts)
	sendN(t, c, 1, "m")
	err := waitCtx(t, c, 5*time.Second)
	var e *Error
	if !errors.As(err, &e) || e.Code != 500 || e.Op != cmdSyslog || !errors.Is(err, ErrRefused) {
		t.Fatalf("Wait: %#v", err)
	}
	if want := "queue full, " + strings.Repeat("z", quoteLen-12) + "..."; e.Text != want {
		t.Fatalf("Text = %q, want %q", e.Text, want)
	}
}

func TestOpenFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer string // to the open command (TXNR 1)
		close  bool   // close without answering
		is     error
		want   string
	}{
		{name: "refused", answer: rspFrame(1, "500 not accepting"), is: ErrRefused,
			want: `refused the open command: 500 "not accepting"`},
		{name: "no syslog", answer: rspFrame(1, "200 OK\nrelp_version=0\ncommands=eventlog"), is: ErrNoSyslog,
			want: `does not accept the RELP syslog command (its offers: "relp_version=0\ncommands=eventlog")`},
		{name: "no relp_version", answer: rspFrame(1, "200 OK\ncommands=syslog"), is: ErrProtocol,
			want: "relp open: receiver ADDR: RELP protocol violation: answer to open without a relp_version offer"},
		{name: "garbage", answer: "HTTP/1.1 400 Bad Request\r\n\r\n", is: ErrProtocol,
			want: `"HTTP/1.1 400 Bad Request\r\n\r\n"`},
		{name: "wrong txnr", answer: rspFrame(2, okOffers), is: ErrProtocol,
			want: "rsp for unknown TXNR 2 (expected 1)"},
		{name: "closed", close: true, is: io.EOF,
			want: "relp open: receiver ADDR: connection closed by the receiver (EOF), unanswered commands: 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := fakeServer(t, func(f *fakeConn) {
				if _, ok := f.expect(cmdOpen); ok && !tc.close {
					f.send(tc.answer)
				}
			})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			nc := dial(t, addr)
			c, err := Open(ctx, nc, addr, testOpts)
			if err == nil {
				c.Abort()
				t.Fatal("Open succeeded")
			}
			t.Logf("error: %v", err)
			want := strings.ReplaceAll(tc.want, "ADDR", addr)
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), addr) {
				t.Fatalf("Open: %v\nwant %v containing %s", err, tc.is, want)
			}
			// Open closed nc.
			if _, werr := nc.Write([]byte("x")); !errors.Is(werr, net.ErrClosed) {
				t.Fatalf("nc not closed after a failed Open: %v", werr)
			}
		})
	}
}

func TestOpenTimeout(t *testing.T) {
	addr := fakeServer(t, func(f *fakeConn) {
		f.expect(cmdOpen)
		f.fr.next() // never answers; returns when the client closes
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	opts := testOpts
	opts.Timeout = 200 * time.Millisecond
	start := time.Now()
	_, err := Open(ctx, dial(t, addr), addr, opts)
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "no answer to open") {
		t.Fatalf("Open: %v, want a timeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Open took %v with Timeout 200ms", d)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Options.Timeout expired, not ctx: %v", err)
	}
}

func TestWindowFull(t *testing.T) {
	release := make(chan struct{})
	unblock := sync.OnceFunc(func() { close(release) })
	addr := fakeServer(t, func(f *fakeConn) {
		if !f.answerOpen() || !f.readSyslog(4) {
			return
		}
		<-release
		f.send(rspFrame(2, "200 OK"))
		if !f.readSyslog(1) {
			return
		}
		f.send(rspFrame(3, "200 OK") + rspFrame(4, "200 OK") + rspFrame(5, "200 OK") + rspFrame(6, "200 OK"))
	})
	t.Cleanup(unblock) // before the fake server's cleanup
	opts := testOpts
	opts.Window = 4
	c := openFake(t, addr, opts)
	sendN(t, c, 4, "m")
	// The window is full: the fifth Send flushes, waits, and times out.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.Send(ctx, []byte("fifth"))
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) ||
		!strings.Contains(err.Error(), "window of 4 frames full (0 of 4 acknowledged)") {
		t.Fatalf("Send with a full window: %v", err)
	}
	if c.Sent() != 4 || c.Acked() != 0 {
		t.Fatalf("Sent %d Acked %d", c.Sent(), c.Acked())
	}
	// A timeout does not break the session: once a slot is free, Send goes on.
	unblock()
	sendN(t, c, 1, "m")
	if err := waitCtx(t, c, 5*time.Second); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if c.Sent() != 5 || c.Acked() != 5 {
		t.Fatalf("Sent %d Acked %d", c.Sent(), c.Acked())
	}
}

func TestWaitTimeoutThenSuccess(t *testing.T) {
	release := make(chan struct{})
	unblock := sync.OnceFunc(func() { close(release) })
	addr := fakeServer(t, func(f *fakeConn) {
		if !f.answerOpen() || !f.readSyslog(3) {
			return
		}
		f.send(rspFrame(2, "200 OK"))
		<-release
		f.send(rspFrame(3, "200 OK") + rspFrame(4, "200 OK"))
	})
	t.Cleanup(unblock)
	c := openFake(t, addr, testOpts)
	sendN(t, c, 3, "m")
	err := waitCtx(t, c, 300*time.Millisecond)
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "1 of 3 frames acknowledged") {
		t.Fatalf("Wait: %v", err)
	}
	if a, perr := c.Poll(); a != 1 || perr != nil {
		t.Fatalf("Poll after a timeout = %d, %v", a, perr)
	}
	unblock()
	if err := waitCtx(t, c, 5*time.Second); err != nil || c.Acked() != 3 {
		t.Fatalf("second Wait: %v, Acked %d", err, c.Acked())
	}
}

func TestCloseWithoutAnswer(t *testing.T) {
	addr := fakeServer(t, func(f *fakeConn) {
		if !f.answerOpen() || !f.readSyslog(2) {
			return
		}
		f.send(rspFrame(2, "200 OK"))
		f.expect(cmdClose)
		f.fr.next() // returns when the client closes
	})
	c := openFake(t, addr, testOpts)
	sendN(t, c, 2, "m")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := c.Close(ctx)
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "no answer to close; 1 of 2 frames acknowledged") {
		t.Fatalf("Close: %v", err)
	}
	if c.Acked() != 1 {
		t.Fatalf("Acked %d", c.Acked())
	}
	// Close closed the connection: the fake server's read returned.
}

func TestCloseAllAckedWithoutCloseAnswer(t *testing.T) {
	// Every frame is confirmed; the receiver ignores close: Close reports
	// success after its bound, and closes the connection.
	closed := make(chan error, 1)
	addr := fakeServer(t, func(f *fakeConn) {
		if !f.answerOpen() || !f.readSyslog(2) {
			return
		}
		f.send(rspFrame(2, "200 OK") + rspFrame(3, "200 OK"))
		f.expect(cmdClose)
		_, err := f.fr.next()
		closed <- err
	})
	c := openFake(t, addr, testOpts)
	sendN(t, c, 2, "m")
	if err := waitCtx(t, c, 5*time.Second); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-closed; err != io.EOF {
		t.Fatalf("fake server after Close: %v, want EOF", err)
	}
}

func TestCloseAfterServerclose(t *testing.T) {
	// Every frame was acknowledged before the receiver went away: Close
	// reports success; the error stays visible in Poll.
	addr := fakeServer(t, func(f *fakeConn) {
		if f.answerOpen() && f.readSyslog(2) {
			f.send(rspFrame(2, "200 OK") + rspFrame(3, "200 OK") + "0 serverclose 0\n")
		}
	})
	c := openFake(t, addr, testOpts)
	sendN(t, c, 2, "m")
	if err := waitCtx(t, c, 5*time.Second); err != nil && !errors.Is(err, ErrServerClose) {
		t.Fatalf("Wait: %v", err)
	}
	// The serverclose may be processed after the last ack: wait for it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := c.Poll(); errors.Is(err, ErrServerClose) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("serverclose not seen")
		}
		<-c.notify // the reader's next state change
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// TestTxnrWrap runs a session whose TXNRs cross 999999999 -> 1 against an
// echoing fake server, and checks the numbers on the wire and the acks.
func TestTxnrWrap(t *testing.T) {
	result := make(chan []uint32, 1)
	addr := fakeServer(t, func(f *fakeConn) {
		var got []uint32
		defer func() { result <- got }()
		for {
			fm, err := f.fr.next()
			if err != nil {
				return
			}
			got = append(got, fm.txnr)
			switch fm.cmd {
			case cmdOpen:
				f.send(rspFrame(fm.txnr, okOffers))
			case cmdSyslog:
				f.send(rspFrame(fm.txnr, "200 OK"))
			case cmdClose:
				f.send(rspFrame(fm.txnr, "") + "0 serverclose 0\n")
				return
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := open(ctx, dial(t, addr), addr, testOpts, 999999998)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Abort()
	for i := range 4 {
		seq, err := c.Send(ctx, []byte("m"))
		if err != nil || seq != uint64(i) {
			t.Fatalf("Send %d = %d, %v", i, seq, err)
		}
	}
	if err := c.Wait(ctx); err != nil || c.Acked() != 4 {
		t.Fatalf("Wait: %v, Acked %d", err, c.Acked())
	}
	if err := c.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	want := []uint32{999999998, 999999999, 1, 2, 3, 4}
	if got := <-result; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("TXNRs on the wire %v, want %v", got, want)
	}
}

func TestSendBufferedUntilFlush(t *testing.T) {
	got := make(chan int, 1)
	addr := fakeServer(t, func(f *fakeConn) {
		if !f.answerOpen() {
			return
		}
		n := 0
		for {
			fm, err := f.fr.next()
			if err != nil {
				got <- n
				return
			}
			n++
			f.send(rspFrame(fm.txnr, "200 OK"))
		}
	})
	c := openFake(t, addr, testOpts)
	sendN(t, c, 10, "m")
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := waitCtx(t, c, 5*time.Second); err != nil || c.Acked() != 10 {
		t.Fatalf("Wait: %v, Acked %d", err, c.Acked())
	}
	c.Abort()
	if n := <-got; n != 10 {
		t.Fatalf("server read %d frames", n)
	}
	if err := c.Flush(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Flush after Abort: %v", err)
	}
}

func TestSoftwareWithLF(t *testing.T) {
	addr := fakeServer(t, func(f *fakeConn) { f.fr.next() })
	_, err := Open(context.Background(), dial(t, addr), addr, Options{Software: "a\nb"})
	if err == nil || !strings.Contains(err.Error(), "relp_software offer contains LF") {
		t.Fatalf("Open: %v", err)
	}
}

// TestAnswerBeforeTheFrameIsWrittenIsAProtocolError: a receiver that
// acknowledges a TXNR the client has registered but not yet written to
// the socket (it is still in the write buffer) commits a protocol
// violation: the answer confirms nothing, the session fails, and the
// frame counts as unacknowledged (it is resent on a new session).
func TestAnswerBeforeTheFrameIsWrittenIsAProtocolError(t *testing.T) {
	ready := make(chan struct{})
	addr := fakeServer(t, func(f *fakeConn) {
		if !f.answerOpen() {
			return
		}
		<-ready
		f.send(rspFrame(2, "200 OK")) // the first syslog frame: never received
		f.fr.next()
	})
	c := openFake(t, addr, testOpts)
	sendN(t, c, 3, "buffered")
	if c.Flushed() != 0 {
		t.Fatalf("Flushed() = %d before Flush, want 0", c.Flushed())
	}
	close(ready)
	deadline := time.Now().Add(5 * time.Second)
	var err error
	for err == nil && time.Now().Before(deadline) {
		_, err = c.Poll()
		time.Sleep(time.Millisecond) // polling the reader's state
	}
	if !errors.Is(err, ErrProtocol) || c.Acked() != 0 {
		t.Fatalf("after an answer to an unwritten frame: err %v, Acked %d; want a protocol error and nothing acknowledged", err, c.Acked())
	}
	if !strings.Contains(err.Error(), "before its syslog frame was written whole to the socket") {
		t.Errorf("error %q does not say why", err)
	}
}

// TestFlushedCountsFramesWrittenWhole: Flushed counts the syslog frames
// that reached the socket, not those still buffered.
func TestFlushedCountsFramesWrittenWhole(t *testing.T) {
	addr := fakeServer(t, func(f *fakeConn) {
		if !f.answerOpen() {
			return
		}
		for {
			fm, err := f.fr.next()
			if err != nil {
				return
			}
			f.send(rspFrame(fm.txnr, "200 OK"))
		}
	})
	c := openFake(t, addr, testOpts)
	sendN(t, c, 5, "m")
	if c.Flushed() != 0 || c.Sent() != 5 {
		t.Fatalf("before Flush: Flushed %d Sent %d, want 0 and 5", c.Flushed(), c.Sent())
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if c.Flushed() != 5 {
		t.Fatalf("after Flush: Flushed %d, want 5", c.Flushed())
	}
	if err := waitCtx(t, c, 5*time.Second); err != nil || c.Acked() != 5 {
		t.Fatalf("Wait: %v, Acked %d", err, c.Acked())
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.Flushed() != 5 {
		t.Fatalf("after Close: Flushed %d, want 5 (close is not a syslog frame)", c.Flushed())
	}
}
