package receiver

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const waitTimeout = 5 * time.Second

// collect starts a receiver whose messages are sent to the returned channel.
func collect(t *testing.T, network string, opts Options) (*Receiver, <-chan Message) {
	t.Helper()
	ch := make(chan Message, 10000)
	opts.Handle = func(m Message) { ch <- m }
	r, err := Listen(network, "127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, ch
}

// next returns the next n messages or fails after waitTimeout.
func next(t *testing.T, ch <-chan Message, n int) []Message {
	t.Helper()
	var got []Message
	deadline := time.After(waitTimeout)
	for len(got) < n {
		select {
		case m := <-ch:
			got = append(got, m)
		case <-deadline:
			t.Fatalf("received %d of %d messages before timeout", len(got), n)
		}
	}
	return got
}

// wantCount polls r.Count until it reaches n (Count is incremented once the
// handler returned) and fails if it is not exactly n.
func wantCount(t *testing.T, r *Receiver, n int64) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for r.Count() < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // polling a real condition
	}
	if got := r.Count(); got != n {
		t.Fatalf("Count = %d, want %d", got, n)
	}
}

func raws(ms []Message) []string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = string(m.Raw)
	}
	return s
}

func octet(m string) string { return fmt.Sprintf("%d %s", len(m), m) }

func dial(t *testing.T, r *Receiver) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func write(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatal(err)
	}
}

// expectClosed asserts that the peer closes c.
func expectClosed(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(waitTimeout))
	var b [1]byte
	_, err := c.Read(b[:])
	if err == nil {
		t.Fatal("connection not closed: read data")
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("connection not closed before timeout")
	}
}

func equal(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d messages %q, want %d %q", len(got), got, len(want), want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("message %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestTCPFramings(t *testing.T) {
	r, ch := collect(t, "tcp", Options{})
	c := dial(t, r)
	msgs := []string{
		"<13>1 2024-05-06T07:08:09.5Z host app 1 ID1 - octet counted",
		"<13>1 2024-05-06T07:08:09.5Z host app 1 ID2 - line framed",
		"<13>1 2024-05-06T07:08:09.5Z host app 1 ID3 - embedded\nLF\nunder octet counting",
		"<13>1 2024-05-06T07:08:09.5Z host app 1 ID4 - keeps CR\r",
		"<13>1 2024-05-06T07:08:09.5Z host app 1 ID5 - tab\tand unicode é",
	}
	write(t, c, octet(msgs[0])+msgs[1]+"\n"+octet(msgs[2])+"\n"+msgs[3]+"\n"+octet(msgs[4]))
	got := next(t, ch, len(msgs))
	equal(t, raws(got), msgs)
	for _, m := range got {
		if m.Network != "tcp" || m.Remote != c.LocalAddr().String() || m.Received.IsZero() {
			t.Errorf("metadata = %q %q %v, want tcp %q", m.Network, m.Remote, m.Received, c.LocalAddr())
		}
	}
	wantCount(t, r, int64(len(msgs)))
}

func TestTCPSplitWrites(t *testing.T) {
	r, ch := collect(t, "tcp", Options{})
	c := dial(t, r)
	stream := octet("first message") + "second message\n" + octet("third")
	for i := 0; i < len(stream); i++ { // one byte at a time
		write(t, c, stream[i:i+1])
	}
	equal(t, raws(next(t, ch, 3)), []string{"first message", "second message", "third"})
}

func TestTCPUnterminatedLastLine(t *testing.T) {
	r, ch := collect(t, "tcp", Options{})
	c := dial(t, r)
	write(t, c, "\n\nafter empty lines\nno final LF")
	c.(*net.TCPConn).CloseWrite()
	equal(t, raws(next(t, ch, 2)), []string{"after empty lines", "no final LF"})
	expectClosed(t, c)
}

func TestTCPSeveralConnections(t *testing.T) {
	var inFlight, maxInFlight atomic.Int32
	var mu sync.Mutex
	perConn := map[string][]string{}
	r, err := Listen("tcp", "127.0.0.1:0", Options{Handle: func(m Message) {
		if n := inFlight.Add(1); n > maxInFlight.Load() {
			maxInFlight.Store(n)
		}
		mu.Lock()
		perConn[m.Remote] = append(perConn[m.Remote], string(m.Raw))
		mu.Unlock()
		inFlight.Add(-1)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	const conns, each = 8, 200
	var wg sync.WaitGroup
	for i := range conns {
		c := dial(t, r)
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := bufio.NewWriter(c)
			for j := range each {
				m := fmt.Sprintf("conn %d msg %d", i, j)
				if j%2 == 0 {
					fmt.Fprintf(w, "%d %s", len(m), m)
				} else {
					fmt.Fprintf(w, "%s\n", m)
				}
			}
			w.Flush()
		}()
	}
	wg.Wait()
	wantCount(t, r, conns*each)
	if m := maxInFlight.Load(); m != 1 {
		t.Errorf("handler ran %d times concurrently, want serialised calls", m)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(perConn) != conns {
		t.Fatalf("messages from %d remotes, want %d", len(perConn), conns)
	}
	for remote, ms := range perConn {
		var i int
		if _, err := fmt.Sscanf(ms[0], "conn %d", &i); err != nil {
			t.Fatalf("%s: %q: %v", remote, ms[0], err)
		}
		for j, m := range ms {
			if want := fmt.Sprintf("conn %d msg %d", i, j); m != want {
				t.Fatalf("%s: message %d = %q, want %q (order kept per connection)", remote, j, m, want)
			}
		}
	}
}

func TestTCPMalformedClosesConnection(t *testing.T) {
	r, ch := collect(t, "tcp", Options{MaxMessageSize: 100})
	for _, frame := range []string{
		"12x hello",                       // not a digit before SP
		"0 ",                              // MSG-LEN must not start with 0
		"1234567890 x",                    // too many digits
		"101 " + strings.Repeat("a", 101), // over MaxMessageSize
		strings.Repeat("b", 101) + "\n",   // LF frame over MaxMessageSize
	} {
		c := dial(t, r)
		write(t, c, octet("good")+frame+octet("never"))
		equal(t, raws(next(t, ch, 1)), []string{"good"})
		expectClosed(t, c)
	}
	// The receiver keeps serving new connections and delivered nothing else.
	c := dial(t, r)
	write(t, c, octet(strings.Repeat("c", 100))+strings.Repeat("d", 100)+"\n")
	equal(t, raws(next(t, ch, 2)), []string{strings.Repeat("c", 100), strings.Repeat("d", 100)})
	wantCount(t, r, 7)
}

func TestTCPTruncatedFrameAtEOF(t *testing.T) {
	r, ch := collect(t, "tcp", Options{})
	c := dial(t, r)
	write(t, c, octet("whole")+"20 only part")
	c.(*net.TCPConn).CloseWrite()
	equal(t, raws(next(t, ch, 1)), []string{"whole"})
	expectClosed(t, c)
	wantCount(t, r, 1)
}

func TestCloseConnections(t *testing.T) {
	r, ch := collect(t, "tcp", Options{})
	c1, c2 := dial(t, r), dial(t, r)
	write(t, c1, "one\n")
	write(t, c2, "two\n")
	next(t, ch, 2)
	r.CloseConnections()
	expectClosed(t, c1)
	expectClosed(t, c2)
	c3 := dial(t, r) // still listening
	write(t, c3, "three\n")
	equal(t, raws(next(t, ch, 1)), []string{"three"})
	wantCount(t, r, 3)
}

func TestUDP(t *testing.T) {
	r, ch := collect(t, "udp", Options{MaxMessageSize: 1000})
	c, err := net.Dial("udp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msgs := []string{"<13>1 - - - - - first", "5 not octet counted", "with\nLF\n", strings.Repeat("x", 1000)}
	for _, m := range msgs {
		write(t, c, m)
	}
	write(t, c, strings.Repeat("y", 1001)) // over MaxMessageSize: dropped
	write(t, c, "last")
	got := next(t, ch, len(msgs)+1)
	equal(t, raws(got), append(msgs, "last"))
	if got[0].Network != "udp" || got[0].Remote != c.LocalAddr().String() {
		t.Errorf("metadata = %q %q, want udp %q", got[0].Network, got[0].Remote, c.LocalAddr())
	}
}

func TestTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	r, ch := collect(t, "tcp", Options{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	c, err := tls.Dial("tcp", r.Addr(), &tls.Config{RootCAs: pool, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	write(t, c, octet("<13>1 - - - - - over\nTLS")+"line over TLS\n")
	equal(t, raws(next(t, ch, 2)), []string{"<13>1 - - - - - over\nTLS", "line over TLS"})

	// A plaintext client gets nothing delivered.
	p := dial(t, r)
	write(t, p, "plain text\n")
	expectClosed(t, p)
	wantCount(t, r, 2)
}

func TestCloseWaitsForHandler(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	r, err := Listen("tcp", "127.0.0.1:0", Options{Handle: func(Message) {
		close(started)
		<-release
	}})
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, r)
	write(t, c, "block\n")
	<-started
	closed := make(chan error)
	go func() { closed <- r.Close() }()
	select {
	case <-closed:
		t.Fatal("Close returned while a handler was running")
	default:
	}
	close(release)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	wantCount(t, r, 1)
	if _, err := net.Dial("tcp", r.Addr()); err == nil {
		t.Error("still listening after Close")
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestListenErrors(t *testing.T) {
	if _, err := Listen("unix", "/tmp/x", Options{}); err == nil {
		t.Error("unix: no error")
	}
	if _, err := Listen("udp", "127.0.0.1:0", Options{TLS: &tls.Config{}}); err == nil {
		t.Error("udp with TLS: no error")
	}
	if _, err := Listen("tcp", "127.0.0.1:bad", Options{}); err == nil {
		t.Error("bad port: no error")
	}
}

// selfSigned returns a certificate for localhost/127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
