package deploy

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"sls2siem/internal/fcruntime"
	"sls2siem/internal/localcloud/fcemu"
)

// workDir holds what the tests build; TestMain removes it.
var workDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sls2siem-deploy-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	workDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// pkg is what `make package` produced, unpacked the way FC unpacks it.
type pkg struct {
	Zip     string // the code zip
	Entry   string // the binary's name inside the zip
	CodeDir string // the zip unpacked: FC's /code
}

// Binary is the unpacked binary, the file FC starts.
func (p pkg) Binary() string { return filepath.Join(p.CodeDir, p.Entry) }

var (
	pkgOnce sync.Once
	pkgOut  pkg
	pkgErr  error
)

// packaged runs `make package` once per test binary, into workDir.
func packaged(t testing.TB) pkg {
	t.Helper()
	pkgOnce.Do(func() { pkgOut, pkgErr = makePackage(filepath.Join(workDir, "pkg")) })
	if pkgErr != nil {
		t.Fatal(pkgErr)
	}
	return pkgOut
}

// mkzipLine is the Makefile's package recipe: `mkzip -o ZIP BINARY=ENTRY:MODE`.
var mkzipLine = regexp.MustCompile(`mkzip -o (\S+) (\S+)=([^:\s]+):([0-7]+)`)

// packageRecipe returns the zip path and the binary's entry name of
// `make package`, with the given make variables.
func packageRecipe(vars ...string) (zipPath, entry string, err error) {
	out, err := exec.Command("make", append([]string{"-s", "-n", "-C", repo, "package"}, vars...)...).CombinedOutput()
	if err != nil {
		return "", "", fmt.Errorf("make -n package: %v\n%s", err, out)
	}
	m := mkzipLine.FindStringSubmatch(string(out))
	if m == nil {
		return "", "", fmt.Errorf("make -n package runs no `mkzip -o ZIP BINARY=NAME:MODE`:\n%s", out)
	}
	return m[1], m[3], nil
}

// makePackage runs `make package` with its output directories under dir,
// and unpacks the zip into dir/code.
func makePackage(dir string) (pkg, error) {
	vars := []string{"BIN=" + filepath.Join(dir, "bin"), "DIST=" + filepath.Join(dir, "dist")}
	zipPath, entry, err := packageRecipe(vars...)
	if err != nil {
		return pkg{}, err
	}
	cmd := exec.Command("make", append([]string{"-s", "-C", repo, "package"}, vars...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return pkg{}, fmt.Errorf("make package: %v\n%s", err, out)
	}
	p := pkg{Zip: zipPath, Entry: entry, CodeDir: filepath.Join(dir, "code")}
	return p, unzip(p.Zip, p.CodeDir)
}

// unzip extracts every file of the archive with its mode, as FC does.
func unzip(zipPath, dest string) error {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return err
	}
	defer zr.Close()
	for _, f := range zr.File {
		path := filepath.Join(dest, filepath.FromSlash(f.Name))
		if f.Mode().IsDir() {
			if err := os.MkdirAll(path, 0o755); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		if err := os.WriteFile(path, b, f.Mode().Perm()); err != nil {
			return err
		}
		if err := os.Chmod(path, f.Mode().Perm()); err != nil { // umask
			return err
		}
	}
	return nil
}

// TestPackage checks the code zip: it is where s.yaml's code points, holds
// only the binary, executable, static for linux/amd64 and stripped, and two
// `make package` runs give the same bytes.
func TestPackage(t *testing.T) {
	t.Parallel()
	p := packaged(t)

	defaultZip, _, err := packageRecipe()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range render(t, deployEnv()).functions(t) {
		if f.Props.Code != "./"+defaultZip {
			t.Errorf("s.yaml: function %s deploys code %q, but make package writes %s", f.Key, f.Props.Code, defaultZip)
		}
	}

	zr, err := zip.OpenReader(p.Zip)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != p.Entry {
		var names []string
		for _, f := range zr.File {
			names = append(names, f.Name)
		}
		t.Fatalf("the code zip holds %v, want only %s", names, p.Entry)
	}
	if mode := zr.File[0].Mode(); mode != 0o755 {
		t.Errorf("%s has mode %v in the zip, want -rwxr-xr-x", p.Entry, mode)
	}

	ef, err := elf.Open(p.Binary())
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	if ef.Machine != elf.EM_X86_64 || ef.OSABI != elf.ELFOSABI_NONE && ef.OSABI != elf.ELFOSABI_LINUX {
		t.Errorf("the binary is for %v/%v, want linux/amd64", ef.OSABI, ef.Machine)
	}
	for _, prog := range ef.Progs {
		if prog.Type == elf.PT_INTERP {
			t.Error("the binary is dynamically linked: build it with CGO_ENABLED=0")
		}
	}
	if ef.Section(".symtab") != nil {
		t.Error("the binary has a symbol table: build it with -ldflags=-s")
	}

	again, err := makePackage(filepath.Join(workDir, "pkg-again"))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(p.Zip)
	b, _ := os.ReadFile(again.Zip)
	if !bytes.Equal(a, b) {
		t.Error("two make package runs gave different zips")
	}
	if fi, err := os.Stat(p.Zip); err == nil {
		t.Logf("code zip: %d bytes; binary: %d bytes", fi.Size(), mustSize(t, p.Binary()))
	}
}

func mustSize(t testing.TB, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestRuntimeCommandAndPort checks that every function runs the packaged
// binary the same way, on a custom runtime with the port the binary
// serves, and that each really starts under both contracts as s.yaml
// deploys it (rendered environment, empty values included, timeout and
// lifecycle hooks, FC 3.0's documented terms): the custom runtime with
// s.yaml's command, the go1 runtime without arguments (it has none), where
// SHIP_FUNCTION says which function it is. Each answers an invocation as
// its own handler does.
func TestRuntimeCommandAndPort(t *testing.T) {
	t.Parallel()
	p := packaged(t)
	env := deployEnv()
	// SLS on a closed loopback port: every call fails at once, naming it.
	port := closedPort(t)
	env["SLS_ENDPOINT"], env["SLS_ALLOWED_ENDPOINTS"], env["SLS_HTTPS"] = "127.0.0.1:"+port, "127.0.0.1:"+port, "false"
	env["SHIP_DEADLETTER_LOGSTORE"] = "sls2siem-deadletter"
	env["SHIP_DEADLETTER_KEY"] = "deploy-test-key-0123456789abcdef0123" // 32 bytes and more, as redrive requires
	tpl := render(t, env)
	fns := tpl.functions(t)
	first := fns[0].Props
	for _, f := range fns {
		pr := f.Props
		switch pr.Runtime {
		case "custom.debian10", "custom.debian11", "custom.debian12":
		default:
			t.Errorf("function %s: runtime %q, want custom.debian10 or newer", f.Key, pr.Runtime)
		}
		c := pr.CustomRuntimeConfig
		if c == nil || len(c.Command) == 0 {
			t.Fatalf("function %s: no customRuntimeConfig.command", f.Key)
		}
		if want := "/code/" + p.Entry; c.Command[0] != want {
			t.Errorf("function %s: command %q, want %s (the binary in the code zip, unpacked under /code)", f.Key, c.Command[0], want)
		}
		if c.Port != fcruntime.DefaultServerPort {
			t.Errorf("function %s: port %d, but the binary serves on %d (FC_CUSTOM_LISTEN_PORT's default)", f.Key, c.Port, fcruntime.DefaultServerPort)
		}
		if f.Key == redriveKey {
			// The redrive function runs the same binary as `redrive -serve`.
			if pr.Runtime != first.Runtime || pr.Code != first.Code || fmt.Sprint(c.Command) != fmt.Sprint(first.CustomRuntimeConfig.Command) ||
				fmt.Sprint(c.Args) != "[redrive -serve]" {
				t.Errorf("function %s runs %s %v %s: want the same binary as %s with args redrive -serve", f.Key, pr.Runtime, *c, pr.Code, fns[0].Key)
			}
		} else if pr.Runtime != first.Runtime || pr.Code != first.Code || fmt.Sprint(*c) != fmt.Sprint(*first.CustomRuntimeConfig) {
			t.Errorf("function %s runs %s %v %s, function %s runs %s %v %s: both must run the same binary the same way",
				f.Key, pr.Runtime, *c, pr.Code, fns[0].Key, first.Runtime, *first.CustomRuntimeConfig, first.Code)
		}
	}

	timer, _ := json.Marshal(map[string]string{"triggerTime": time.Now().UTC().Format(time.RFC3339), "triggerName": "timer", "payload": ""})
	for _, f := range fns {
		event, want := []byte(`{"source":{}}`), "trigger event: field source." // the trigger function's own check
		switch f.Key {
		case consumerKey:
			event, want = timer, "127.0.0.1:"+port // the consumer group's first call
		case redriveKey:
			event, want = timer, "sls2siem-deadletter" // the pass reads the dead-letter logstore
		}
		for _, contract := range []fcemu.Contract{fcemu.ContractCustom, fcemu.ContractGo1} {
			t.Run(f.Key+"/"+string(contract), func(t *testing.T) {
				cfg := deployed(t, p, f)
				cfg.Contract, cfg.Output = contract, io.Discard
				cfg.Credentials = fcemu.Credentials{AccessKeyID: "STS.deploy", AccessKeySecret: "deploy-secret", SecurityToken: "deploy-token"}
				if contract == fcemu.ContractGo1 {
					cfg.Args = nil // FC runs the go1 handler with no arguments
				}
				fn, err := fcemu.Start(context.Background(), cfg)
				if err != nil {
					t.Fatalf("start %s %v under the %s contract: %v", p.Entry, cfg.Args, contract, err)
				}
				defer fn.Stop(context.Background())
				res, err := fn.Invoke(context.Background(), event)
				if err != nil {
					t.Fatal(err)
				}
				if res.Err == nil || !strings.Contains(res.Err.Message, want) {
					t.Errorf("invocation: %+v, want the function's error naming %q", res.Err, want)
				}
			})
		}
	}
}
