package relp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testMessage is message i: an RFC 5424 line of about 200 bytes whose
// unique id is "id=NNNNNN".
func testMessage(i int) []byte {
	return fmt.Appendf(nil, "<13>1 2026-01-02T03:04:05.000Z sls2siem-test relptest - - - id=%06d %s", i,
		strings.Repeat("abcdefghij", 13))
}

var idRE = regexp.MustCompile(`id=(\d{6}) `)

// countIDs counts each message id in the receiver's lines, and checks that
// every line is exactly the message sent with its id.
func countIDs(t *testing.T, lines []string) map[int]int {
	t.Helper()
	counts := map[int]int{}
	for _, l := range lines {
		m := idRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("unexpected line %q", l)
		}
		id, _ := strconv.Atoi(m[1])
		if want := string(testMessage(id)); l != want {
			t.Fatalf("line %q\nwant %q", l, want)
		}
		counts[id]++
	}
	return counts
}

func checkExactlyOnce(t *testing.T, counts map[int]int, n int) {
	t.Helper()
	var missing, dup []int
	for i := range n {
		switch c := counts[i]; {
		case c == 0:
			missing = append(missing, i)
		case c > 1:
			dup = append(dup, i)
		}
	}
	if len(counts) > n || len(missing) > 0 || len(dup) > 0 {
		t.Fatalf("%d distinct ids, want %d; missing %d %v; duplicated %d %v",
			len(counts), n, len(missing), head(missing), len(dup), head(dup))
	}
}

func head(s []int) []int { return s[:min(len(s), 10)] }

func dialTCP(t testing.TB, addr string) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return nc
}

func openReal(t testing.TB, nc net.Conn, addr string, opts Options) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Open(ctx, nc, addr, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { c.Abort() })
	return c
}

var realOpts = Options{Software: "sls2siem-test,0,none", Window: 128, Timeout: 10 * time.Second}

// sendRange sends messages from..to-1 and returns after Wait.
func sendRange(t *testing.T, c *Client, from, to int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := from; i < to; i++ {
		if _, err := c.Send(ctx, testMessage(i)); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	if err := c.Wait(ctx); err != nil {
		t.Fatalf("Wait: %v", err)
	}
}

func closeClient(t *testing.T, c *Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestImrelpDelivery(t *testing.T) {
	const n = 5000
	r := startReceiver(t, receiverConfig{})
	c := openReal(t, dialTCP(t, r.Addr), r.Addr, realOpts)
	sendRange(t, c, 0, n)
	if c.Acked() != n || c.Sent() != n {
		t.Fatalf("Acked %d Sent %d, want %d", c.Acked(), c.Sent(), n)
	}
	if a, err := c.Poll(); a != n || err != nil {
		t.Fatalf("Poll = %d, %v", a, err)
	}
	closeClient(t, c)
	r.WaitLines(n, 30*time.Second)
	r.Stop() // writes everything queued: nothing more can arrive
	checkExactlyOnce(t, countIDs(t, r.Lines()), n)
}

// TestImrelpSessions checks several sequential sessions on one receiver and
// that imrelp ends a session with rsp then serverclose (Close waits for it).
func TestImrelpSessions(t *testing.T) {
	r := startReceiver(t, receiverConfig{})
	for s := range 3 {
		c := openReal(t, dialTCP(t, r.Addr), r.Addr, realOpts)
		sendRange(t, c, s*100, s*100+100)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := c.Close(ctx)
		cancel()
		if err != nil {
			t.Fatalf("session %d: Close: %v", s, err)
		}
		c.mu.Lock()
		ended, closeAnswered, serr := c.st.ended, c.st.closeAnswered(), c.st.err
		c.mu.Unlock()
		if !ended || !closeAnswered || serr != nil {
			t.Fatalf("session %d after Close: ended %v, close answered %v, err %v", s, ended, closeAnswered, serr)
		}
	}
	r.WaitLines(300, 30*time.Second)
	r.Stop()
	checkExactlyOnce(t, countIDs(t, r.Lines()), 300)
}

// TestImrelpFreeze: a receiver frozen (SIGSTOP) before the frames reach
// it answers nothing; Wait fails; the receiver is killed and restarted; the
// unacknowledged frames are resent on a new Client and all arrive once.
func TestImrelpFreeze(t *testing.T) {
	const n = 400
	r := startReceiver(t, receiverConfig{})
	opts := realOpts
	opts.Window = 1000 // all 400 in flight
	opts.Timeout = 2 * time.Second
	c1 := openReal(t, dialTCP(t, r.Addr), r.Addr, opts)
	r.Freeze()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range n {
		if _, err := c1.Send(ctx, testMessage(i)); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	if err := c1.Flush(); err != nil {
		t.Fatalf("Flush: %v", err) // 80 KB fit in the loopback socket buffers
	}
	short, cancelShort := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancelShort()
	err := c1.Wait(short)
	acked := c1.Acked()
	t.Logf("Wait on the frozen receiver: %v (Acked %d)", err, acked)
	if !errors.Is(err, ErrTimeout) || acked >= n {
		t.Fatalf("Wait on a frozen receiver: %v, Acked %d", err, acked)
	}
	r.Kill()
	c1.Abort()

	r.Start()
	c2 := openReal(t, dialTCP(t, r.Addr), r.Addr, realOpts)
	// Resend every frame c1 did not get acknowledged: seq >= Acked().
	sendRange(t, c2, int(acked), n)
	if c2.Acked() != uint64(n)-acked {
		t.Fatalf("second client Acked %d, want %d", c2.Acked(), uint64(n)-acked)
	}
	closeClient(t, c2)
	r.WaitLines(n-int(acked), 30*time.Second)
	r.Stop()
	counts := countIDs(t, r.Lines())
	// The frozen rsyslogd read nothing before it was killed, so every
	// message arrived from the second session, exactly once.
	checkExactlyOnce(t, counts, n)
}

// TestImrelpOversize documents imrelp's size limits: a message larger than
// maxMessageSize but within maxDataSize is acknowledged and stored
// truncated; the sender must apply its own size rule.
func TestImrelpOversize(t *testing.T) {
	r := startReceiver(t, receiverConfig{MaxMessageSize: "8k", MaxDataSize: "256k"})
	c := openReal(t, dialTCP(t, r.Addr), r.Addr, realOpts)
	big := append(testMessage(0), strings.Repeat("x", 20<<10)...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Send(ctx, big); err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(ctx); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	closeClient(t, c)
	lines := r.WaitLines(1, 30*time.Second)
	t.Logf("sent %d bytes, stored %d bytes", len(big), len(lines[0]))
	if len(lines[0]) >= len(big) || len(lines[0]) > 8<<10 || !strings.HasPrefix(string(big), lines[0]) {
		t.Fatalf("stored %d bytes of %d: not truncated to maxMessageSize 8k", len(lines[0]), len(big))
	}
}

// TestImrelpTLS runs RELP over TLS with both imrelp authModes, and checks
// that client certificates imrelp must not accept are refused.
func TestImrelpTLS(t *testing.T) {
	requireImrelp(t)
	ca := newTestCA(t, "relp-test")
	other := newTestCA(t, "other") // not trusted by the receiver
	server := ca.issue(t, "localhost", true)
	permitted := ca.issue(t, "client.example", false)
	intruder := ca.issue(t, "intruder.example", false)
	foreign := other.issue(t, "client.example", false)

	none := issued{}
	for _, tc := range []struct {
		name      string
		lib       string
		authMode  string
		permitted []string
		client    issued
		ok        bool
	}{
		{"gnutls/name/permitted", "", "name", []string{"client.example"}, permitted, true},
		{"gnutls/name/wildcard", "", "name", []string{"*.example"}, intruder, true},
		{"gnutls/name/not permitted", "", "name", []string{"client.example"}, intruder, false},
		{"gnutls/name/untrusted CA", "", "name", []string{"client.example"}, foreign, false},
		{"gnutls/name/no certificate", "", "name", []string{"client.example"}, none, false},
		{"gnutls/certvalid/any name", "", "certvalid", nil, intruder, true},
		// librelp 1.11.0's GnuTLS driver does not verify the chain in
		// certvalid mode (fixed upstream after 1.13, commit e616484):
		// a certificate from any CA is accepted. This case documents it;
		// when it fails, librelp was fixed: update docs/delivery.md.
		{"gnutls/certvalid/untrusted CA accepted", "", "certvalid", nil, foreign, true},
		{"gnutls/certvalid/no certificate", "", "certvalid", nil, none, false},
		{"openssl/name/permitted", "openssl", "name", []string{"client.example"}, permitted, true},
		{"openssl/name/not permitted", "openssl", "name", []string{"client.example"}, intruder, false},
		{"openssl/certvalid/any name", "openssl", "certvalid", nil, intruder, true},
		{"openssl/certvalid/untrusted CA", "openssl", "certvalid", nil, foreign, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startReceiver(t, receiverConfig{TLS: &receiverTLS{
				Lib: tc.lib, CA: ca.File, Cert: server.CertFile, Key: server.KeyFile,
				AuthMode: tc.authMode, PermittedPeers: tc.permitted,
			}})
			// GetClientCertificate sends the certificate even when it does not
			// chain to a CA the receiver names (with Certificates, crypto/tls
			// would then send none).
			client := tc.client.TLS
			cfg := &tls.Config{RootCAs: ca.Pool, MinVersion: tls.VersionTLS12,
				GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &client, nil }}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: cfg}
			nc, err := d.DialContext(ctx, "tcp", r.Addr)
			if err != nil {
				if tc.ok {
					t.Fatalf("TLS handshake: %v\n%s", err, r.Diagnostics())
				}
				t.Logf("refused at the TLS handshake: %v", err)
				return
			}
			c, err := Open(ctx, nc, r.Addr, realOpts)
			if !tc.ok {
				if err == nil {
					// Not refused before open: the first Wait must fail.
					defer c.Abort()
					c.Send(ctx, testMessage(0))
					err = c.Wait(ctx)
					if err == nil {
						t.Fatal("a client certificate imrelp must refuse was accepted")
					}
				}
				t.Logf("refused: %v", err)
				if !strings.Contains(err.Error(), r.Addr) {
					t.Fatalf("error does not name the receiver: %v", err)
				}
				if errors.Is(err, ErrTimeout) {
					t.Fatalf("refusal seen only as a timeout: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open over TLS: %v\n%s", err, r.Diagnostics())
			}
			t.Cleanup(func() { c.Abort() })
			sendRange(t, c, 0, 500)
			closeClient(t, c)
			r.WaitLines(500, 30*time.Second)
			r.Stop()
			checkExactlyOnce(t, countIDs(t, r.Lines()), 500)
		})
	}
}

// BenchmarkSendImrelp measures messages per second into imrelp over
// plain TCP, window 128, ~200-byte messages, until all are acknowledged.
func BenchmarkSendImrelp(b *testing.B) {
	r := startReceiver(b, receiverConfig{})
	msg := testMessage(0)
	b.SetBytes(int64(len(msg)))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := openReal(b, dialTCP(b, r.Addr), r.Addr, realOpts)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, err := c.Send(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
	if err := c.Wait(ctx); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	if err := c.Close(ctx); err != nil {
		b.Fatal(err)
	}
}
