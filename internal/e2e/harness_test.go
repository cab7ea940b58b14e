package e2e

import (
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"
)

// receiverUnderTest is what both real-receiver harnesses provide.
type receiverUnderTest interface {
	Ports() receiverPorts
	Messages(t testing.TB) []received
	Lines(t testing.TB) []string
	WaitForCount(t testing.TB, n int, timeout time.Duration) []received
	Restart(t testing.TB)
}

func TestHarnessRsyslog(t *testing.T) {
	r := startRsyslog(t)
	testReceiver(t, r, r.PKI, map[string]string{"lf": "tcp", "octet": "tcp"})
}

func TestHarnessSyslogNG(t *testing.T) {
	r := startSyslogNG(t)
	testReceiver(t, r, r.PKI, map[string]string{"lf": "tcp_lf", "octet": "tcp"})
}

// testReceiver sends RFC 5424 messages over every transport and checks that
// they arrive byte-exact, that mTLS needs a client certificate from the test
// CA, and that the receiver keeps its ports across a restart.
func testReceiver(t *testing.T, r receiverUnderTest, pki *testPKI, tcpInput map[string]string) {
	p := r.Ports()
	msg := func(id, text string) string {
		return fmt.Sprintf(`<13>1 2024-05-06T07:08:09.5Z tlshost app-%s 42 %s [x@32473 a="b\]c"] %s`, id, id, text)
	}
	want := map[string]string{} // MSGID -> input
	send := []struct {
		id, input string
		send      func(m string)
	}{
		{"TCPLF", tcpInput["lf"], func(m string) { sendStream(t, loopback(p.TCPLF), lfFrame, m) }},
		{"TCPOCT", tcpInput["octet"], func(m string) { sendStream(t, loopback(p.TCP), octetFrame, m) }},
		{"UDP", "udp", func(m string) { sendUDP(t, loopback(p.UDP), m) }},
		{"TLS", "tls", func(m string) { sendTLS(t, loopback(p.TLS), pki.clientConfig(nil), m) }},
		{"MTLS", "mtls", func(m string) { sendTLS(t, loopback(p.MTLS), pki.clientConfig(&pki.Client), m) }},
	}
	var sent []string
	for _, s := range send {
		m := msg(s.id, "over "+s.id+" with\ttab, é and an embedded\nLF")
		if s.id == "UDP" || s.id == "TCPLF" {
			m = msg(s.id, "over "+s.id+" with\ttab and é")
		}
		s.send(m)
		want[s.id] = s.input
		sent = append(sent, m)
	}

	// mTLS without a client certificate, or with one from another CA: the
	// server must close the connection and store nothing.
	for _, c := range []struct {
		id   string
		cert *tls.Certificate
	}{{"NOCERT", nil}, {"OTHERCA", &pki.OtherClient}} {
		conn, err := dialTLS(loopback(p.MTLS), pki.clientConfig(c.cert))
		if err != nil {
			t.Logf("mTLS %s: handshake refused: %v", c.id, err)
			continue // rejected during the handshake (TLS 1.2)
		}
		// TLS 1.3: the client finishes first; the server's verdict follows.
		fmt.Fprint(conn, octetFrame(msg(c.id, "must be rejected")))
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err = conn.Read(make([]byte, 1))
		if err == nil || strings.Contains(err.Error(), "timeout") {
			t.Errorf("mTLS %s: connection not closed by the receiver: %v", c.id, err)
		} else {
			t.Logf("mTLS %s: rejected: %v", c.id, err)
		}
		conn.Close()
	}
	// A client that trusts another CA refuses the server.
	other := pki.clientConfig(&pki.Client)
	other.RootCAs = pki.OtherCAPool
	if conn, err := dialTLS(loopback(p.TLS), other); err == nil {
		conn.Close()
		t.Error("TLS handshake succeeded with a client trusting an unrelated CA")
	}

	// A last message proves the rejected ones had their chance to arrive.
	last := msg("LAST", "after the rejected ones")
	sendTLS(t, loopback(p.MTLS), pki.clientConfig(&pki.Client), last)
	want["LAST"] = "mtls"
	sent = append(sent, last)

	got := r.WaitForCount(t, len(sent), 10*time.Second)
	checkReceived(t, got, sent, want)
	if testing.Verbose() {
		for _, m := range got {
			t.Logf("%+v", m)
		}
	}

	// Restart keeps the ports and the stored messages.
	r.Restart(t)
	if r.Ports() != p {
		t.Errorf("ports changed across restart: %+v -> %+v", p, r.Ports())
	}
	again := msg("RESTART", "after restart")
	sendStream(t, loopback(p.TCP), octetFrame, again)
	want["RESTART"] = tcpInput["octet"]
	sent = append(sent, again)
	got = r.WaitForCount(t, len(sent), 10*time.Second)
	checkReceived(t, got, sent, want)
	wantLines := 0
	for _, s := range sent {
		wantLines += strings.Count(s, "\n") + 1
	}
	if lines := r.Lines(t); len(lines) != wantLines || !strings.HasSuffix(lines[len(lines)-1], "RESTART [x@32473 a=\"b\\]c\"] after restart") {
		t.Errorf("line file: %d lines, want %d ending with the RESTART message: %q", len(lines), wantLines, lines)
	}
}

func checkReceived(t *testing.T, got []received, sent []string, input map[string]string) {
	t.Helper()
	byID := map[string]received{}
	for _, m := range got {
		if _, dup := byID[m.MsgID]; dup {
			t.Errorf("message %s stored twice", m.MsgID)
		}
		byID[m.MsgID] = m
	}
	if len(got) != len(sent) {
		t.Errorf("stored %d messages, want %d: %+v", len(got), len(sent), got)
	}
	for _, s := range sent {
		id := strings.Fields(s)[5]
		m, ok := byID[id]
		if !ok {
			t.Errorf("message %s not stored", id)
			continue
		}
		if m.Raw != s {
			t.Errorf("%s: raw = %q, want %q", id, m.Raw, s)
		}
		if m.Input != input[id] {
			t.Errorf("%s: input = %q, want %q", id, m.Input, input[id])
		}
		if m.Hostname != "tlshost" || m.AppName != "app-"+id || m.ProcID != "42" || m.Pri != "13" {
			t.Errorf("%s: header = %q %q %q pri %q, want tlshost app-%s 42 pri 13", id, m.Hostname, m.AppName, m.ProcID, m.Pri, id)
		}
		if wantMsg := s[strings.Index(s, `"] `)+3:]; m.Msg != wantMsg {
			t.Errorf("%s: msg = %q, want %q", id, m.Msg, wantMsg)
		}
		if !strings.HasPrefix(m.Timestamp, "2024-05-06T07:08:09.5") {
			t.Errorf("%s: timestamp = %q", id, m.Timestamp)
		}
	}
}
