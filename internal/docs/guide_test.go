package docs

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A guide is the ```sh blocks of one section of a page, which a reader
// types in one shell. Each line is a command, with an optional comment
// (" # …") that says what it does; when the comment says "exit N" the
// command must exit with N (else 0), and every `backquoted` fragment of the
// comment must be in what the command prints (stdout and stderr). A command
// ending in & runs in the background, as typed.

// step is one command of a guide.
type step struct {
	line     string   // as the page shows it
	cmd      string   // without the comment
	exit     int      // the exit status the comment says, 0 by default
	want     []string // the fragments its output must hold
	reread   bool     // a read of the receiver's file, which may lag a moment behind
	parallel bool     // runs in the background (ends in &)
}

var (
	exitStatus = regexp.MustCompile(`\bexit (\d+)\b`)
	fragment   = regexp.MustCompile("`([^`]+)`")
)

// guideSteps returns the steps of the ```sh blocks of the section under
// heading (up to the next heading of the same or a higher level) in page.
func guideSteps(t *testing.T, page, heading string) []step {
	t.Helper()
	_, sec, ok := strings.Cut(page, "\n"+heading+"\n")
	if !ok {
		t.Fatalf("no section %q", heading)
	}
	// The section ends at the next heading of its level or higher.
	level := strings.IndexByte(heading, ' ')
	var lines []string
	fence := ""
	for _, line := range strings.Split(sec, "\n") {
		if !inFence(&fence, line) {
			if h := len(line) - len(strings.TrimLeft(line, "#")); h > 0 && h <= level && strings.HasPrefix(line[h:], " ") {
				break
			}
		}
		lines = append(lines, line)
	}
	var steps []step
	in, indent := false, ""
	for _, line := range lines {
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case !in && trimmed == "```sh":
			in, indent = true, line[:len(line)-len(trimmed)]
			continue
		case in && trimmed == "```":
			in = false
			continue
		case !in || trimmed == "":
			continue
		}
		line = strings.TrimPrefix(line, indent)
		cmd, comment := splitComment(line)
		s := step{line: line, cmd: strings.TrimSpace(cmd)}
		if m := exitStatus.FindStringSubmatch(comment); m != nil {
			s.exit, _ = strconv.Atoi(m[1])
		}
		for _, m := range fragment.FindAllStringSubmatch(comment, -1) {
			s.want = append(s.want, m[1])
		}
		s.parallel = strings.HasSuffix(s.cmd, "&")
		s.reread = strings.HasPrefix(s.cmd, "wc -l ") || strings.HasPrefix(s.cmd, "head ")
		steps = append(steps, s)
	}
	if len(steps) == 0 {
		t.Fatalf("section %q has no ```sh block", heading)
	}
	return steps
}

// splitComment splits a shell line at its comment: a # after a space,
// outside quotes.
func splitComment(line string) (cmd, comment string) {
	var quote rune
	for i, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '#' && i > 0 && line[i-1] == ' ':
			return line[:i], line[i+1:]
		}
	}
	return line, ""
}

// freePort returns a loopback port nobody listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// copyRepo copies the repository's files (git's tracked and untracked ones,
// not the ignored: no bin/, no dist/, no node_modules) to dir: what a fresh
// clone holds.
func copyRepo(t *testing.T, dir string) {
	t.Helper()
	out, err := exec.Command("git", "-C", repo, "ls-files", "-co", "--exclude-standard", "-z").Output()
	if err != nil {
		t.Skipf("the guide runs in a copy of the repository, which takes git: %v", err)
	}
	n := 0
	for _, f := range strings.Split(string(out), "\x00") {
		src := filepath.Join(repo, f)
		fi, err := os.Lstat(src)
		if f == "" || err != nil || !fi.Mode().IsRegular() {
			continue // deleted in the working tree, or not a file
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n < 100 {
		t.Fatalf("copied %d files of the repository", n)
	}
}

// runGuide runs the guide of page's section under heading in one bash, in
// a copy of the repository, and checks every step. The guide's fixed
// places are moved so that runs on a shared machine do not collide: /tmp/
// to a temporary directory, and the ports of make serve (18080) and make
// receiver (15514) to free ones, given to make as SERVE_ADDR and
// RECEIVER_ADDR.
func runGuide(t *testing.T, pagePath, heading string) {
	if testing.Short() {
		t.Skip("builds and runs the local cloud")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("the guide runs make")
	}
	b, err := os.ReadFile(filepath.Join(repo, pagePath))
	if err != nil {
		t.Fatal(err)
	}
	steps := guideSteps(t, string(b), heading)

	clone, tmp, out := t.TempDir(), t.TempDir(), t.TempDir()
	copyRepo(t, clone)
	servePort, receiverPort := freePort(t), freePort(t)
	place := strings.NewReplacer("/tmp/", tmp+"/", "18080", servePort, "15514", receiverPort)

	var script strings.Builder
	script.WriteString("set +e\n")
	for i, s := range steps {
		cmd := place.Replace(s.cmd)
		switch {
		case s.parallel:
			script.WriteString(cmd + "\n")
		case s.reread && len(s.want) > 0:
			// What the receiver's kernel acknowledged it may still be
			// writing to the file: read again for up to 30 s, as a reader
			// looking a moment later would.
			fmt.Fprintf(&script, "for try in $(seq 300); do { %s\n} > %s/%d.out 2>&1; echo $? > %s/%d.rc", cmd, out, i, out, i)
			for _, w := range s.want {
				fmt.Fprintf(&script, "; grep -qF -- %s %s/%d.out", shellQuote(place.Replace(w)), out, i)
			}
			script.WriteString(" && break; sleep 0.1; done\n")
		default:
			fmt.Fprintf(&script, "{ %s\n} > %s/%d.out 2>&1; echo $? > %s/%d.rc\n", cmd, out, i, out, i)
		}
	}

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	bash := exec.CommandContext(ctx, "bash", "-c", script.String())
	bash.Dir = clone
	bash.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// The whole process group (the background jobs included) ends with
	// the guide.
	bash.Cancel = func() error { return syscall.Kill(-bash.Process.Pid, syscall.SIGKILL) }
	bash.Env = append(guideEnv(), "SERVE_ADDR=127.0.0.1:"+servePort, "RECEIVER_ADDR=127.0.0.1:"+receiverPort)
	// A file, not a pipe: background jobs keep what they inherit open.
	log, err := os.Create(filepath.Join(out, "shell.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	bash.Stdout, bash.Stderr = log, log
	err = bash.Run()
	if bash.Process != nil {
		_ = syscall.Kill(-bash.Process.Pid, syscall.SIGKILL) // jobs a failed step left running
	}
	if err != nil {
		shell, _ := os.ReadFile(log.Name())
		t.Errorf("the guide's shell: %v\n%s", err, tail(shell))
	}

	for i, s := range steps {
		if s.parallel {
			continue
		}
		rc, err := os.ReadFile(fmt.Sprintf("%s/%d.rc", out, i))
		if err != nil {
			t.Errorf("%s: %q did not run (an earlier step hung?)", pagePath, s.line)
			continue
		}
		got, _ := os.ReadFile(fmt.Sprintf("%s/%d.out", out, i))
		code, _ := strconv.Atoi(strings.TrimSpace(string(rc)))
		if code != s.exit {
			t.Errorf("%s: %q exited %d, the guide says %d; it printed:\n%s", pagePath, s.line, code, s.exit, tail(got))
		}
		for _, w := range s.want {
			if !strings.Contains(string(got), place.Replace(w)) {
				t.Errorf("%s: %q printed no %q; it printed:\n%s", pagePath, s.line, w, tail(got))
			}
		}
	}
}

// guideEnv is the test's environment without sls2siem's own variables: a
// reader starts from a shell that sets none.
func guideEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "SYSLOG_") || strings.HasPrefix(k, "SLS_") || strings.HasPrefix(k, "SHIP_") ||
			strings.HasPrefix(k, "ALIBABA_CLOUD_") || strings.HasPrefix(k, "LOG_") || k == "SERVE_ADDR" || strings.HasPrefix(k, "RECEIVER_") ||
			strings.HasPrefix(k, "MAKE") || k == "MFLAGS" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// tail returns the last lines of a step's output.
func tail(b []byte) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = append([]string{"…"}, lines[len(lines)-20:]...)
	}
	return strings.Join(lines, "\n")
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// TestQuickStart runs README's Quick start as written.
func TestQuickStart(t *testing.T) {
	t.Parallel()
	runGuide(t, "README.md", "## Quick start")
}

// TestByHandGuide runs docs/local-cloud.md's guide to every command as
// written.
func TestByHandGuide(t *testing.T) {
	t.Parallel()
	runGuide(t, "docs/local-cloud.md", "## Running sls2siem by hand against the local cloud")
}

// TestGuideSteps: the parser reads what a step's comment says.
func TestGuideSteps(t *testing.T) {
	page := "# P\n\n## G\n\n```sh\nmake serve > /tmp/x &  # job 1\n  echo '#' \"a # b\"   # exit 3: says `a # b`, `c`\n\nwc -l < f # `1500`\n```\n\n## Next\n\n```sh\nnot this\n```\n"
	steps := guideSteps(t, page, "## G")
	if len(steps) != 3 {
		t.Fatalf("%d steps: %+v", len(steps), steps)
	}
	if !steps[0].parallel || steps[0].cmd != "make serve > /tmp/x &" || steps[0].exit != 0 {
		t.Errorf("step 0: %+v", steps[0])
	}
	if steps[1].cmd != `echo '#' "a # b"` || steps[1].exit != 3 || len(steps[1].want) != 2 || steps[1].want[0] != "a # b" {
		t.Errorf("step 1: %+v", steps[1])
	}
	if !steps[2].reread || steps[2].want[0] != "1500" {
		t.Errorf("step 2: %+v", steps[2])
	}
}
