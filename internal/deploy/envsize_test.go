package deploy

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sls2siem/internal/localcloud/fcemu"
	"sls2siem/internal/localcloud/receiver"
)

// rsaPKI is a throw-away RSA-2048 PKI, the size a SIEM's CA and client
// certificates usually have: a CA, a server certificate for 127.0.0.1, a
// client certificate and its key, as PEM files in dir.
type rsaPKI struct {
	ca, cert, key string // PEM files
	server        tls.Certificate
}

func newRSAPKI(t *testing.T, dir string) rsaPKI {
	t.Helper()
	newKey := func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	now := time.Now()
	caKey, serverKey, clientKey := newKey(), newKey(), newKey()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test SIEM CA", Organization: []string{"sls2siem tests"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, key *rsa.PrivateKey, ips ...net.IP) []byte {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, Organization: []string{"sls2siem tests"}},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IPAddresses: ips,
			KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caTmpl, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	serverDER := issue(2, "siem", x509.ExtKeyUsageServerAuth, serverKey, net.ParseIP("127.0.0.1"))
	clientDER := issue(3, "sls2siem", x509.ExtKeyUsageClientAuth, clientKey)
	keyDER, err := x509.MarshalPKCS8PrivateKey(clientKey)
	if err != nil {
		t.Fatal(err)
	}
	return rsaPKI{
		ca: write("ca.pem", "CERTIFICATE", caDER), cert: write("client.pem", "CERTIFICATE", clientDER),
		key:    write("client-key.pem", "PRIVATE KEY", keyDER),
		server: tls.Certificate{Certificate: [][]byte{serverDER}, PrivateKey: serverKey},
	}
}

// TestInlinePEMsNeedALayer: RSA certificates as PEM text in the
// environment (SYSLOG_TLS_CA, _CERT, _KEY, which docs/configuration.md offers) push a
// function's environment over FC's 4 KB: s.yaml renders it, the FC
// emulator refuses to start it as FC refuses the deployment, and
// `sls2siem check` says so before deploying, naming the layer variables.
// The same files from the layer (make layer, unpacked where FC puts it)
// fit: the function starts, and `check -probe` completes a mutual-TLS
// handshake with them.
func TestInlinePEMsNeedALayer(t *testing.T) {
	t.Parallel()
	p := packaged(t)
	dir := t.TempDir()
	pki := newRSAPKI(t, dir)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(readFile(t, pki.ca))
	rcv, err := receiver.Listen("tcp", "127.0.0.1:0", receiver.Options{TLS: &tls.Config{
		Certificates: []tls.Certificate{pki.server}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert,
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	_, port, _ := splitPort(rcv.Addr())

	base := deployEnv()
	base["SYSLOG_HOST"], base["SYSLOG_PORT"], base["SYSLOG_PROTOCOL"] = "127.0.0.1", port, "tls"
	start := func(env map[string]string) error {
		f := render(t, env).byTrigger(t, "log")
		cfg := deployed(t, p, f)
		cfg.Output = io.Discard
		fn, err := fcemu.Start(context.Background(), cfg)
		if err == nil {
			fn.Stop(context.Background())
		}
		return err
	}
	check := func(env map[string]string, args ...string) (string, error) {
		cmd := exec.Command(p.Binary(), append([]string{"check"}, args...)...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		for k, v := range env {
			if !strings.HasPrefix(k, "SLS2SIEM_") {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	inline := map[string]string{}
	for k, v := range base {
		inline[k] = v
	}
	inline["SYSLOG_TLS_CA"] = string(readFile(t, pki.ca))
	inline["SYSLOG_TLS_CERT"] = string(readFile(t, pki.cert))
	inline["SYSLOG_TLS_KEY"] = string(readFile(t, pki.key))
	if err := start(inline); err == nil || !strings.Contains(err.Error(), "Function Compute allows 4 KB") {
		t.Errorf("the function with inline PEMs started (%v): FC refuses an environment over 4 KB", err)
	}
	out, err := check(inline)
	if err == nil || !strings.Contains(out, "Function Compute allows 4 KB") ||
		!strings.Contains(out, "put the files in a layer (make layer) and set SYSLOG_TLS_CA_FILE=/opt/ssl/siem-ca.pem, SYSLOG_TLS_CERT_FILE=/opt/ssl/client.pem, SYSLOG_TLS_KEY_FILE=/opt/ssl/client-key.pem instead") {
		t.Errorf("sls2siem check with inline PEMs: %v\n%s", err, out)
	}
	checkNoKey(t, out, pki.key)

	zipPath, mout, err := makeLayer(t, filepath.Join(dir, "layer"), pki.ca, pki.cert, pki.key)
	if err != nil {
		t.Fatalf("make layer: %v\n%s", err, mout)
	}
	opt := filepath.Join(dir, "opt") // FC unpacks the layer under /opt
	if err := unzip(zipPath, opt); err != nil {
		t.Fatal(err)
	}
	layered := map[string]string{}
	for k, v := range base {
		layered[k] = v
	}
	layered["SYSLOG_TLS_CA_FILE"] = filepath.Join(opt, "ssl", "siem-ca.pem")
	layered["SYSLOG_TLS_CERT_FILE"] = filepath.Join(opt, "ssl", "client.pem")
	layered["SYSLOG_TLS_KEY_FILE"] = filepath.Join(opt, "ssl", "client-key.pem")
	if err := start(layered); err != nil {
		t.Errorf("the function with the layer's files: %v", err)
	}
	if out, err := check(layered, "-probe", "-mode", "trigger"); err != nil || !strings.Contains(out, "receiver") {
		t.Errorf("sls2siem check -probe with the layer's files: %v\n%s", err, out)
	}
}
