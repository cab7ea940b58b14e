package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/receiver"
)

// TestServeWindowHoldsTheSample: the receive-time window `make serve`
// prints, given to backfill with the variables it prints, ships the whole
// sample.
func TestServeWindowHoldsTheSample(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	served := make(chan error, 1)
	go func() {
		served <- localcloud.Serve(ctx, localcloud.ServeOptions{DataDir: "../../testdata/logstore", Addr: "127.0.0.1:0",
			EventsDir: t.TempDir(), Out: pw})
		pw.Close()
	}()
	var header bytes.Buffer
	env := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		header.WriteString(sc.Text() + "\n")
		if exports, ok := strings.CutPrefix(sc.Text(), "export "); ok {
			for _, kv := range strings.Fields(exports) {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
			break
		}
	}
	go io.Copy(io.Discard, pr)
	m := regexp.MustCompile(`receive-time window \(sls2siem backfill\): -from (\S+) -to (\S+)\.`).FindStringSubmatch(header.String())
	if m == nil || len(env) == 0 {
		t.Fatalf("make serve printed no window or no exports:\n%s", header.String())
	}
	got := make(chan struct{}, 4096)
	rcv, err := receiver.Listen("tcp", "127.0.0.1:0", receiver.Options{Handle: func(receiver.Message) { got <- struct{}{} }})
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	host, port, _ := net.SplitHostPort(rcv.Addr())
	env["SYSLOG_HOST"], env["SYSLOG_PORT"], env["LOG_LEVEL"] = host, port, "error"
	var stdout, stderr bytes.Buffer
	code := Main(t.Context(), []string{"backfill", "-from", m[1], "-to", m[2], "-progress", "none"}, Env{
		Getenv: func(k string) string { return env[k] }, Stdout: &stdout, Stderr: &stderr, Signals: make(chan os.Signal),
	})
	var res struct{ Logs int64 }
	if code != 0 || json.Unmarshal(stdout.Bytes(), &res) != nil || res.Logs != 3000 {
		t.Fatalf("backfill of the window %s..%s: exit %d, %s\n%s", m[1], m[2], code, stdout.String(), stderr.String())
	}
	for i := range 3000 {
		select {
		case <-got:
		case <-time.After(30 * time.Second):
			t.Fatalf("the receiver got %d messages of 3000", i)
		}
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}
