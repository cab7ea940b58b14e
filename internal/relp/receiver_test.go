package relp

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"
)

// The real receiver: rsyslog 8.2302 with imrelp (Debian 12 rsyslog-relp).
const (
	rsyslogdPath = "/usr/sbin/rsyslogd"
	imrelpPath   = "/usr/lib/x86_64-linux-gnu/rsyslog/imrelp.so"
)

// requireImrelp skips the test when rsyslogd or imrelp is missing, or fails
// it when SLS2SIEM_REQUIRE_RECEIVERS=1.
func requireImrelp(tb testing.TB) {
	tb.Helper()
	for _, p := range []string{rsyslogdPath, imrelpPath} {
		if _, err := os.Stat(p); err != nil {
			msg := fmt.Sprintf("%s missing (apt-get install rsyslog-relp, or scripts/install-receivers.sh): %v", p, err)
			if os.Getenv("SLS2SIEM_REQUIRE_RECEIVERS") == "1" {
				tb.Fatal(msg)
			}
			tb.Skip(msg)
		}
	}
}

// receiverTLS configures imrelp's TLS.
type receiverTLS struct {
	Lib            string // imrelp tls.tlslib: "" (librelp's default, GnuTLS) or "openssl"
	CA, Cert, Key  string // files
	AuthMode       string // "name" or "certvalid"
	PermittedPeers []string
}

// receiverConfig is what varies between the tests' imrelp inputs.
type receiverConfig struct {
	TLS            *receiverTLS
	MaxMessageSize string // rsyslog global maxMessageSize (default here 64k)
	MaxDataSize    string // imrelp maxDataSize (default here 256k)
}

// receiver is one rsyslogd with one imrelp input on 127.0.0.1, writing
// each message's rawmsg as one line to Out.
type receiver struct {
	tb     testing.TB
	Dir    string
	Port   int
	Addr   string
	Out    string
	conf   string
	cmd    *exec.Cmd
	exited chan struct{}
}

var receiverConf = template.Must(template.New("rsyslog.conf").Parse(`# rsyslogd with imrelp only, for internal/relp tests.
global(
  workDirectory="{{.Dir}}/work"
  maxMessageSize="{{.Cfg.MaxMessageSize}}"
  processInternalMessages="on"
  inputs.timeout.shutdown="200"
)
module(load="imrelp"{{with .Cfg.TLS}}{{if .Lib}} tls.tlslib="{{.Lib}}"{{end}}{{end}})
template(name="raw" type="string" string="%rawmsg%\n")
ruleset(name="r") {
  action(type="omfile" file="{{.Out}}" template="raw")
  stop
}
input(type="imrelp" port="{{.Port}}" address="127.0.0.1" ruleset="r" maxDataSize="{{.Cfg.MaxDataSize}}"
{{- with .Cfg.TLS}}
  tls="on" tls.caCert="{{.CA}}" tls.myCert="{{.Cert}}" tls.myPrivKey="{{.Key}}"
  tls.authMode="{{.AuthMode}}"
{{- if .PermittedPeers}} tls.permittedPeer=[{{range $i, $p := .PermittedPeers}}{{if $i}}, {{end}}"{{$p}}"{{end}}]{{end}}
{{- end}})
*.* action(type="omfile" file="{{.Dir}}/internal.log")
`))

// startReceiver writes the configuration, starts rsyslogd and waits until
// its port accepts connections. It is stopped when the test ends.
func startReceiver(tb testing.TB, cfg receiverConfig) *receiver {
	tb.Helper()
	requireImrelp(tb)
	if cfg.MaxMessageSize == "" {
		cfg.MaxMessageSize = "64k"
	}
	if cfg.MaxDataSize == "" {
		cfg.MaxDataSize = "256k"
	}
	dir := tb.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "work"), 0o755); err != nil {
		tb.Fatal(err)
	}
	r := &receiver{tb: tb, Dir: dir, Port: freePort(tb), Out: filepath.Join(dir, "messages.log"), conf: filepath.Join(dir, "rsyslog.conf")}
	r.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(r.Port))
	var b bytes.Buffer
	if err := receiverConf.Execute(&b, map[string]any{"Dir": dir, "Port": r.Port, "Out": r.Out, "Cfg": cfg}); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(r.conf, b.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	if out, err := exec.Command(rsyslogdPath, "-N1", "-f", r.conf).CombinedOutput(); err != nil {
		tb.Fatalf("rsyslogd -N1: %v\n%s\n%s", err, out, b.Bytes())
	}
	tb.Cleanup(r.Stop)
	r.Start()
	return r
}

// Start starts rsyslogd (again, on the same port) and waits for its port.
func (r *receiver) Start() {
	tb := r.tb
	tb.Helper()
	if r.cmd != nil {
		tb.Fatal("rsyslogd already running")
	}
	logf, err := os.OpenFile(filepath.Join(r.Dir, "rsyslogd.stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(rsyslogdPath, "-n", "-f", r.conf, "-i", filepath.Join(r.Dir, "rsyslogd.pid"))
	cmd.Dir = r.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test binary
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	r.cmd, r.exited = cmd, make(chan struct{})
	go func(exited chan struct{}) {
		cmd.Wait()
		close(exited)
	}(r.exited)

	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", r.Addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-r.exited:
			r.cmd = nil
			tb.Fatalf("rsyslogd exited during startup\n%s", r.Diagnostics())
		case <-deadline:
			r.Kill()
			tb.Fatalf("rsyslogd port %d not ready: %v\n%s", r.Port, err, r.Diagnostics())
		case <-tick.C:
		}
	}
}

// Stop stops rsyslogd gracefully (it writes what it queued), or kills it
// after 10 s. It does nothing when rsyslogd is not running.
func (r *receiver) Stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGCONT) // in case it was frozen
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
		r.cmd = nil
	case <-time.After(10 * time.Second):
		r.tb.Errorf("rsyslogd did not stop within 10s, killing it")
		r.Kill()
	}
}

// Kill stops rsyslogd with SIGKILL: what it had queued in memory is lost.
func (r *receiver) Kill() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Kill()
	<-r.exited
	r.cmd = nil
}

// Freeze stops rsyslogd with SIGSTOP and waits until the kernel reports it
// stopped: from then on it reads nothing and answers nothing.
func (r *receiver) Freeze() {
	tb := r.tb
	tb.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		tb.Fatal(err)
	}
	stat := fmt.Sprintf("/proc/%d/stat", r.cmd.Process.Pid)
	r.poll(5*time.Second, "rsyslogd stopped", func() bool {
		b, err := os.ReadFile(stat)
		if err != nil {
			tb.Fatal(err)
		}
		// pid (comm) STATE ...: the state follows the last ')'.
		i := bytes.LastIndexByte(b, ')')
		return i >= 0 && i+2 < len(b) && (b[i+2] == 'T' || b[i+2] == 't')
	})
}

// Lines returns the complete lines written to Out so far.
func (r *receiver) Lines() []string {
	b, err := os.ReadFile(r.Out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		r.tb.Fatal(err)
	}
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	} else {
		return nil
	}
	return strings.Split(string(b), "\n")
}

// WaitLines polls Out until it holds at least n lines.
func (r *receiver) WaitLines(n int, timeout time.Duration) []string {
	r.tb.Helper()
	var lines []string
	r.poll(timeout, fmt.Sprintf("%d lines in %s", n, r.Out), func() bool {
		lines = r.Lines()
		return len(lines) >= n
	})
	return lines
}

// poll checks cond every 10 ms until it holds, failing the test after timeout.
func (r *receiver) poll(timeout time.Duration, what string, cond func() bool) {
	r.tb.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(timeout)
	for !cond() {
		select {
		case <-deadline:
			r.tb.Fatalf("no %s after %v\n%s", what, timeout, r.Diagnostics())
		case <-tick.C:
		}
	}
}

// Diagnostics returns rsyslogd's own messages, for failures.
func (r *receiver) Diagnostics() string {
	var b strings.Builder
	for _, f := range []string{"internal.log", "rsyslogd.stderr"} {
		data, err := os.ReadFile(filepath.Join(r.Dir, f))
		if err != nil {
			fmt.Fprintf(&b, "--- %s: %v\n", f, err)
			continue
		}
		if len(data) > 8<<10 {
			data = data[len(data)-8<<10:]
		}
		fmt.Fprintf(&b, "--- %s:\n%s\n", f, data)
	}
	return b.String()
}

// freePort returns a loopback port that can be bound now, below the
// kernel's ephemeral range so that outgoing connections do not take it
// while rsyslogd starts (or restarts on it).
func freePort(tb testing.TB) int {
	tb.Helper()
	for range 100 {
		port := 20000 + rand.IntN(10000)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			ln.Close()
			return port
		}
	}
	tb.Fatal("no free loopback port")
	return 0
}
