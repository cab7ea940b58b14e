package transport

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// testCA issues certificates at test time; no key is ever committed.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

func (ca *testCA) issue(t *testing.T, notAfter time.Time, usage x509.ExtKeyUsage, names ...string) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// tlsSink serves TLS on loopback and returns what each connection sent.
func tlsSink(t *testing.T, cfg *tls.Config) (string, <-chan []byte) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got := make(chan []byte, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b, _ := io.ReadAll(c)
				got <- b
			}()
		}
	}()
	return ln.Addr().String(), got
}

func sendOne(addr string, cfg *tls.Config, expectFailure bool) error {
	c := Config{Network: "tls", Address: addr, Framing: FramingOctetCounting, TLS: cfg, DialTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second}
	conn, err := Dial(context.Background(), &c)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Write([]byte("<14>1 - - - - - - hello")); err != nil {
		return err
	}
	// Under TLS 1.3 a rejected client certificate shows after the
	// handshake: Confirm is where it surfaces.
	// Each Confirm waits up to a millisecond for the server's answer.
	deadline := time.Now().Add(5 * time.Second)
	for first := true; first || expectFailure && time.Now().Before(deadline); first = false {
		if err := conn.Confirm(context.Background()); err != nil {
			return err
		}
	}
	return nil
}

func TestTLSFailuresReadLikeWhatTheyAre(t *testing.T) {
	ca, other := newTestCA(t), newTestCA(t)
	good := ca.issue(t, time.Now().Add(time.Hour), x509.ExtKeyUsageServerAuth, "localhost", "127.0.0.1")
	expired := ca.issue(t, time.Now().Add(-time.Hour), x509.ExtKeyUsageServerAuth, "localhost", "127.0.0.1")
	client := ca.issue(t, time.Now().Add(time.Hour), x509.ExtKeyUsageClientAuth, "client")

	cases := []struct {
		name   string
		server *tls.Config
		client *tls.Config
		want   string
	}{
		{"unknown authority", &tls.Config{Certificates: []tls.Certificate{good}},
			&tls.Config{RootCAs: other.pool, ServerName: "127.0.0.1"}, "signed by an unknown authority"},
		{"name mismatch", &tls.Config{Certificates: []tls.Certificate{good}},
			&tls.Config{RootCAs: ca.pool, ServerName: "siem.example.com"}, "does not match the host name"},
		{"expired", &tls.Config{Certificates: []tls.Certificate{expired}},
			&tls.Config{RootCAs: ca.pool, ServerName: "127.0.0.1"}, "expired"},
		{"no client certificate, TLS 1.2", &tls.Config{Certificates: []tls.Certificate{good}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.pool, MaxVersion: tls.VersionTLS12},
			&tls.Config{RootCAs: ca.pool, ServerName: "127.0.0.1"}, "client certificate"},
		{"no client certificate, TLS 1.3", &tls.Config{Certificates: []tls.Certificate{good}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.pool},
			&tls.Config{RootCAs: ca.pool, ServerName: "127.0.0.1"}, "client certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, _ := tlsSink(t, tc.server)
			err := sendOne(addr, tc.client, true)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}

	t.Run("mutual TLS", func(t *testing.T) {
		addr, got := tlsSink(t, &tls.Config{Certificates: []tls.Certificate{good}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.pool})
		if err := sendOne(addr, &tls.Config{RootCAs: ca.pool, ServerName: "127.0.0.1", Certificates: []tls.Certificate{client}}, false); err != nil {
			t.Fatal(err)
		}
		if b := <-got; string(b) != "23 <14>1 - - - - - - hello" {
			t.Errorf("server got %q", b)
		}
	})
}

func TestPoolCloseClosesConnectionsCleanly(t *testing.T) {
	s := newSink(t)
	p := NewPool(cfg(s.ln.Addr().String(), FramingLF))
	c, err := p.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	srv := s.accept(t)
	if err := c.Write([]byte("last")); err != nil {
		t.Fatal(err)
	}
	p.Put(c) // buffered, not yet flushed
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(srv)
	if err != nil || string(b) != "last\n" {
		t.Fatalf("after Close the receiver read %q, %v; want the flushed message then EOF", b, err)
	}
}
