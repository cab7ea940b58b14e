package localcloud

import (
	"bufio"
	"context"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
)

// chanWriter hands every write to the test.
type chanWriter chan string

func (c chanWriter) Write(p []byte) (int, error) {
	c <- string(p)
	return len(p), nil
}

// TestReceive: make receiver's receiver takes two TCP connections at once
// (LF and octet-counting framing) and UDP on the same port, writes each
// message as a line, and says where it listens and how many it got.
func TestReceive(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	out := make(chanWriter, 10)
	done := make(chan error, 1)
	go func() {
		done <- Receive(ctx, ReceiveOptions{Addr: "127.0.0.1:0", Out: out, Log: pw})
		pw.Close()
	}()
	logs := bufio.NewScanner(pr)
	if !logs.Scan() || !strings.HasPrefix(logs.Text(), "receiving syslog on tcp and udp 127.0.0.1:") {
		t.Fatalf("first log line %q", logs.Text())
	}
	addr := strings.Fields(strings.TrimPrefix(logs.Text(), "receiving syslog on tcp and udp "))[0]

	// Both connections stay open while the other writes: a receiver that
	// served one connection at a time would never read the second.
	a, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	u, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	for _, w := range []struct {
		c   net.Conn
		msg string
	}{{b, "<14>1 - - - - - - second\n"}, {a, "23 <14>1 - - - - - - first"}, {u, "<14>1 - - - - - - third"}} {
		if _, err := io.WriteString(w.c, w.msg); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"<14>1 - - - - - - first\n", "<14>1 - - - - - - second\n", "<14>1 - - - - - - third\n"}
	var got []string
	for range want {
		select {
		case line := <-out:
			got = append(got, line)
		case err := <-done:
			t.Fatalf("the receiver stopped (%v) after %q", err, got)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("received %q, want %q", got, want)
	}
	cancel()
	if !logs.Scan() || logs.Text() != "received 3 messages (tcp 2, udp 1)" {
		t.Errorf("last log line %q", logs.Text())
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
