package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testPKI is a throw-away PKI generated at test time (ECDSA P-256): a CA, a
// server certificate for localhost/127.0.0.1 and a client certificate signed
// by it, and an unrelated second CA with its own client certificate for
// wrong-CA tests. All files are PEM in Dir.
type testPKI struct {
	Dir string

	CAFile, CAKeyFile         string // the CA receivers trust
	ServerCertFile, ServerKey string // server certificate (localhost, 127.0.0.1)
	ClientCertFile, ClientKey string // client certificate signed by the CA

	OtherCAFile, OtherCAKeyFile         string // an unrelated CA
	OtherClientCertFile, OtherClientKey string // client certificate signed by the unrelated CA

	CAPool, OtherCAPool         *x509.CertPool
	Server, Client, OtherClient tls.Certificate
}

type issued struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	tls  tls.Certificate
}

// newTestPKI generates the PKI and writes its PEM files into a new temporary
// directory.
func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	dir := t.TempDir()
	p := &testPKI{Dir: dir}
	file := func(name string) string { return filepath.Join(dir, name) }

	ca := issue(t, "Test Syslog CA", nil, caTemplate)
	server := issue(t, "localhost", ca, func(c *x509.Certificate) {
		c.DNSNames = []string{"localhost"}
		c.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	})
	client := issue(t, "test-client", ca, clientTemplate)
	other := issue(t, "Unrelated Test CA", nil, caTemplate)
	otherClient := issue(t, "other-client", other, clientTemplate)

	p.CAFile, p.CAKeyFile = writePair(t, ca, file("ca.pem"), file("ca.key"))
	p.ServerCertFile, p.ServerKey = writePair(t, server, file("server.pem"), file("server.key"))
	p.ClientCertFile, p.ClientKey = writePair(t, client, file("client.pem"), file("client.key"))
	p.OtherCAFile, p.OtherCAKeyFile = writePair(t, other, file("other-ca.pem"), file("other-ca.key"))
	p.OtherClientCertFile, p.OtherClientKey = writePair(t, otherClient, file("other-client.pem"), file("other-client.key"))

	p.CAPool = x509.NewCertPool()
	p.CAPool.AddCert(ca.cert)
	p.OtherCAPool = x509.NewCertPool()
	p.OtherCAPool.AddCert(other.cert)
	p.Server, p.Client, p.OtherClient = server.tls, client.tls, otherClient.tls
	return p
}

// clientConfig returns a TLS client configuration trusting the CA, with the
// given client certificate (nil for none).
func (p *testPKI) clientConfig(cert *tls.Certificate) *tls.Config {
	c := &tls.Config{RootCAs: p.CAPool, ServerName: "localhost"}
	if cert != nil {
		c.Certificates = []tls.Certificate{*cert}
	}
	return c
}

func caTemplate(c *x509.Certificate) {
	c.IsCA = true
	c.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
}

func clientTemplate(c *x509.Certificate) {
	c.DNSNames = []string{c.Subject.CommonName}
	c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
}

// issue creates a key and a certificate for cn, signed by parent (self-signed
// when parent is nil), after edit adjusted the template.
func issue(t testing.TB, cn string, parent *issued, edit func(*x509.Certificate)) *issued {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		t.Fatalf("serial: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	edit(tmpl)
	signer, signerCert := key, tmpl
	if parent != nil {
		signer, signerCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, &key.PublicKey, signer)
	if err != nil {
		t.Fatalf("create certificate %s: %v", cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse certificate %s: %v", cn, err)
	}
	return &issued{cert: cert, key: key, tls: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}
}

// writePair writes the certificate and its PKCS #8 key as PEM files.
func writePair(t testing.TB, is *issued, certFile, keyFile string) (string, string) {
	t.Helper()
	keyDER, err := x509.MarshalPKCS8PrivateKey(is.key)
	if err != nil {
		t.Fatalf("marshal key: %v", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: is.cert.Raw})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
