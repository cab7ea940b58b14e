package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeTemp(t *testing.T, dir, name, content string, mode os.FileMode, mtime time.Time) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // umask
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	return p
}

func build(t *testing.T, args ...string) []byte {
	t.Helper()
	entries, err := parseEntries(args)
	if err != nil {
		t.Fatal(err)
	}
	mtime, err := modTime("")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.zip")
	if err := writeFile(out, entries, mtime); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReproducibleAndModes builds the same archive from files with different
// timestamps, in a different argument order, and checks that the bytes are
// equal and that each entry has the requested mode and content.
func TestReproducibleAndModes(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	t1 := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	t2 := time.Now()
	binA := writeTemp(t, a, "bin", "#!/bin/sh\necho hi\n", 0o755, t1)
	keyA := writeTemp(t, a, "key", "secret", 0o644, t1)
	binB := writeTemp(t, b, "bin", "#!/bin/sh\necho hi\n", 0o755, t2)
	keyB := writeTemp(t, b, "key", "secret", 0o644, t2)

	z1 := build(t, binA+"=fn", keyA+"=ssl/client-key.pem:0600")
	z2 := build(t, keyB+"=ssl/client-key.pem:0600", binB+"=fn")
	if !bytes.Equal(z1, z2) {
		t.Fatal("two archives of the same content differ")
	}

	zr, err := zip.NewReader(bytes.NewReader(z1), int64(len(z1)))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		mode    os.FileMode
		content string
	}{
		"fn":                 {0o755, "#!/bin/sh\necho hi\n"},
		"ssl/":               {os.ModeDir | 0o755, ""},
		"ssl/client-key.pem": {0o600, "secret"},
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		w, ok := want[f.Name]
		if !ok {
			t.Errorf("unexpected entry %s", f.Name)
			continue
		}
		if f.Mode() != w.mode {
			t.Errorf("%s: mode %v, want %v", f.Name, f.Mode(), w.mode)
		}
		if !f.Modified.Equal(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("%s: modified %v, want the fixed 1980-01-01", f.Name, f.Modified)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if string(got) != w.content {
			t.Errorf("%s: content %q, want %q", f.Name, got, w.content)
		}
	}
	if strings.Join(names, " ") != "fn ssl/ ssl/client-key.pem" {
		t.Errorf("entries %v, want sorted with the directory first", names)
	}
}

// TestUnzipKeepsExecutableBit extracts the archive with Info-ZIP unzip (what
// a user inspecting the package runs) and checks the executable still runs.
func TestUnzipKeepsExecutableBit(t *testing.T) {
	if _, err := exec.LookPath("unzip"); err != nil {
		t.Skip("unzip is not installed")
	}
	dir := t.TempDir()
	bin := writeTemp(t, dir, "bin", "#!/bin/sh\necho from-the-zip\n", 0o755, time.Now())
	zipPath := filepath.Join(dir, "fn.zip")
	if err := os.WriteFile(zipPath, build(t, bin+"=code/fn"), 0o644); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, "x")
	if out, err := exec.Command("unzip", "-q", zipPath, "-d", dest).CombinedOutput(); err != nil {
		t.Fatalf("unzip: %v: %s", err, out)
	}
	out, err := exec.Command(filepath.Join(dest, "code", "fn")).Output()
	if err != nil || string(out) != "from-the-zip\n" {
		t.Fatalf("extracted executable: %q, %v", out, err)
	}
}

func TestBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"a"}, {"=x"}, {"a="}, {"a=/abs"}, {"a=../up"}, {"a=x/../y"}, {"a=x:999"}, {"a=x:rw"},
		{"a=x", "b=x"},
	} {
		if _, err := parseEntries(args); err == nil {
			t.Errorf("parseEntries(%q) accepted", args)
		}
	}
	if _, err := modTime("12"); err == nil {
		t.Error("SOURCE_DATE_EPOCH before 1980 accepted")
	}
	if m, err := modTime("1700000000"); err != nil || m.Unix() != 1700000000 {
		t.Errorf("SOURCE_DATE_EPOCH=1700000000: %v, %v", m, err)
	}
}
