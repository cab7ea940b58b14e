package deploy

import (
	"archive/zip"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// testPKI writes a throw-away CA, a client certificate it signed, the
// client's key, and an unrelated key, as PEM files in dir. Nothing of it is
// committed: the repository holds no key material.
func testPKI(t *testing.T, dir string) (ca, cert, key, otherKey string) {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
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
	writeKey := func(name string, k *ecdsa.PrivateKey) string {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return write(name, "PRIVATE KEY", der)
	}
	caKey, clientKey := newKey(), newKey()
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test SIEM CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	clientTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "sls2siem"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	clientDER, err := x509.CreateCertificate(rand.Reader, clientTmpl, caTmpl, &clientKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("client.pem", "CERTIFICATE", clientDER),
		writeKey("client-key.pem", clientKey), writeKey("other-key.pem", newKey())
}

// makeLayer runs `make layer` with the given files; it returns the zip path
// and make's output.
func makeLayer(t *testing.T, dir, ca, cert, key string) (string, string, error) {
	t.Helper()
	p := packaged(t)
	bin := filepath.Dir(filepath.Dir(p.Zip)) // the BIN and DIST of the package
	out := filepath.Join(dir, "dist")
	cmd := exec.Command("make", "-s", "-C", repo, "layer",
		"BIN="+filepath.Join(bin, "bin"), "DIST="+out,
		"LAYER_CA="+ca, "LAYER_CERT="+cert, "LAYER_KEY="+key)
	b, err := cmd.CombinedOutput()
	return filepath.Join(out, "sls2siem-layer.zip"), string(b), err
}

// TestLayer packs a CA bundle and a client certificate and key with
// `make layer`, checks the zip's entries and modes, that it is
// reproducible, and that the function accepts the files where docs/deploy.md and
// deploy/example.env say the layer puts them.
func TestLayer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca, cert, key, _ := testPKI(t, dir)

	zipPath, out, err := makeLayer(t, filepath.Join(dir, "a"), ca, cert, key)
	if err != nil {
		t.Fatalf("make layer: %v\n%s", err, out)
	}
	checkNoKey(t, out, key)
	want := map[string]struct {
		src  string
		mode os.FileMode
	}{
		"ssl/":               {"", os.ModeDir | 0o755},
		"ssl/siem-ca.pem":    {ca, 0o644},
		"ssl/client.pem":     {cert, 0o644},
		"ssl/client-key.pem": {key, 0o600},
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != len(want) {
		t.Errorf("the layer has %d entries, want %d", len(zr.File), len(want))
	}
	for _, f := range zr.File {
		w, ok := want[f.Name]
		if !ok {
			t.Errorf("unexpected layer entry %s", f.Name)
			continue
		}
		if f.Mode() != w.mode {
			t.Errorf("%s: mode %v, want %v", f.Name, f.Mode(), w.mode)
		}
		if w.src == "" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if src, _ := os.ReadFile(w.src); !bytes.Equal(got, src) {
			t.Errorf("%s differs from %s", f.Name, w.src)
		}
	}

	again, out, err := makeLayer(t, filepath.Join(dir, "b"), ca, cert, key)
	if err != nil {
		t.Fatalf("make layer: %v\n%s", err, out)
	}
	if a, b := readFile(t, zipPath), readFile(t, again); !bytes.Equal(a, b) {
		t.Error("two make layer runs gave different zips")
	}

	// FC unpacks the layer under /opt: with the documented variables, /opt
	// moved to a temporary directory, the function accepts the files.
	opt := filepath.Join(dir, "opt")
	if err := unzip(zipPath, opt); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "SYSLOG_HOST=siem.example.com", "SYSLOG_PROTOCOL=tls"}
	example := string(readFile(t, filepath.Join(repo, "deploy", "example.env")))
	readme := readDoc(t, "deploy.md")
	for _, v := range []string{"SYSLOG_TLS_CA_FILE=/opt/ssl/siem-ca.pem", "SYSLOG_TLS_CERT_FILE=/opt/ssl/client.pem", "SYSLOG_TLS_KEY_FILE=/opt/ssl/client-key.pem"} {
		if !strings.Contains(example, v) {
			t.Errorf("deploy/example.env does not show %s", v)
		}
		if !strings.Contains(readme, v) {
			t.Errorf("docs/deploy.md does not show %s", v)
		}
		env = append(env, strings.Replace(v, "/opt", opt, 1))
	}
	check := exec.Command(packaged(t).Binary(), "check")
	check.Env = env
	if b, err := check.CombinedOutput(); err != nil {
		t.Errorf("sls2siem check with the layer's files: %v\n%s", err, b)
	}
}

// TestLayerRejectsBadInput checks that make layer packs nothing when the
// files would not work, and says why.
func TestLayerRejectsBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca, cert, _, otherKey := testPKI(t, dir)
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, ca, cert, key, want string
	}{
		{"no CA", filepath.Join(dir, "missing.pem"), "", "", "LAYER_CA=none"},
		{"CA unset", "", "", "", "no CA bundle given"},
		{"CA not PEM", notPEM, "", "", "SYSLOG_TLS_CA_FILE"},
		{"key of another certificate", ca, cert, otherKey, "SYSLOG_TLS_CERT_FILE"},
		{"certificate without key", ca, cert, "", "needs both files"},
	} {
		// A layer of an earlier run must not stay behind to be deployed.
		sub := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-"))
		if err := os.MkdirAll(filepath.Join(sub, "dist"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, "dist", "sls2siem-layer.zip"), []byte("an earlier layer"), 0o644); err != nil {
			t.Fatal(err)
		}
		zipPath, out, err := makeLayer(t, sub, c.ca, c.cert, c.key)
		if err == nil {
			t.Errorf("%s: make layer succeeded:\n%s", c.name, out)
		} else if !strings.Contains(out, c.want) {
			t.Errorf("%s: make layer failed without saying %q:\n%s", c.name, c.want, out)
		}
		if _, err := os.Stat(zipPath); err == nil {
			t.Errorf("%s: make layer left %s behind", c.name, zipPath)
		}
		if c.key != "" {
			checkNoKey(t, out, c.key)
		}
	}
}

// TestLayerWithoutCA: LAYER_CA=none says on purpose that the SIEM needs no
// CA bundle (a public CA signs its certificate): make layer then packs the
// client certificate and key alone, which the function accepts, or, with
// neither, a layer that only says it carries nothing.
func TestLayerWithoutCA(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, cert, key, _ := testPKI(t, dir)

	zipPath, out, err := makeLayer(t, filepath.Join(dir, "client"), "none", cert, key)
	if err != nil {
		t.Fatalf("make layer LAYER_CA=none with a client certificate: %v\n%s", err, out)
	}
	checkNoKey(t, out, key)
	if got, want := zipNames(t, zipPath), []string{"ssl/", "ssl/client-key.pem", "ssl/client.pem"}; !slices.Equal(got, want) {
		t.Errorf("the layer holds %v, want %v", got, want)
	}
	opt := filepath.Join(dir, "opt")
	if err := unzip(zipPath, opt); err != nil {
		t.Fatal(err)
	}
	check := exec.Command(packaged(t).Binary(), "check")
	check.Env = []string{"PATH=" + os.Getenv("PATH"), "SYSLOG_HOST=siem.example.com", "SYSLOG_PROTOCOL=tls",
		"SYSLOG_TLS_CERT_FILE=" + filepath.Join(opt, "ssl", "client.pem"), "SYSLOG_TLS_KEY_FILE=" + filepath.Join(opt, "ssl", "client-key.pem")}
	if b, err := check.CombinedOutput(); err != nil {
		t.Errorf("sls2siem check with the layer's client certificate: %v\n%s", err, b)
	}

	zipPath, out, err = makeLayer(t, filepath.Join(dir, "nothing"), "none", "", "")
	if err != nil {
		t.Fatalf("make layer LAYER_CA=none: %v\n%s", err, out)
	}
	if !strings.Contains(out, "LAYER_CA=none") {
		t.Errorf("make layer LAYER_CA=none does not say what it packed:\n%s", out)
	}
	if got, want := zipNames(t, zipPath), []string{"ssl/", "ssl/README.txt"}; !slices.Equal(got, want) {
		t.Errorf("the layer holds %v, want %v", got, want)
	}
}

// zipNames returns the sorted entry names of a zip.
func zipNames(t *testing.T, path string) []string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	return names
}

// checkNoKey fails when out holds a line of the PEM key in file key.
func checkNoKey(t *testing.T, out, key string) {
	t.Helper()
	for _, line := range strings.Split(string(readFile(t, key)), "\n") {
		if len(line) > 16 && !strings.HasPrefix(line, "-----") && strings.Contains(out, line) {
			t.Errorf("the output shows the private key %s:\n%s", key, out)
			return
		}
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
