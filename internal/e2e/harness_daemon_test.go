package e2e

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Timeouts of the receiver harness.
const (
	receiverStartTimeout = 15 * time.Second
	receiverStopTimeout  = 10 * time.Second
)

// receiverPorts are the loopback ports of a real receiver.
type receiverPorts struct {
	UDP    int // one datagram per message
	TCP    int // octet-counted frames (rsyslog also accepts LF frames here)
	TCPLF  int // LF-terminated frames (rsyslog: same as TCP)
	TCPRaw int // LF-terminated, not parsed: Msg is the whole line (syslog-ng only)
	TLS    int // octet-counted over TLS; client certificate optional
	MTLS   int // octet-counted over TLS; client certificate required, chained to the test CA
	// RELP (rsyslog's imrelp, when installed): plain, and over TLS with
	// authMode name (the client certificate must chain to the test CA and
	// name test-client).
	RELP, RELPTLS int
}

// received is one message as a receiver stored it (its JSON output file).
type received struct {
	Input     string `json:"input"` // "udp", "tcp", "tcp_lf", "tcp_raw", "tls", "mtls"
	Pri       string `json:"pri"`
	Timestamp string `json:"timestamp"`
	Hostname  string `json:"hostname"`
	AppName   string `json:"app_name"`
	ProcID    string `json:"procid"`
	MsgID     string `json:"msgid"`
	SD        string `json:"sd"`
	Msg       string `json:"msg"`
	Raw       string `json:"raw"` // the bytes received, without framing
}

// daemon runs one receiver process with a fixed command line; it can be
// stopped and started again on the same ports. Start, Stop and Restart must
// not be called concurrently.
type daemon struct {
	name  string // for messages
	dir   string
	path  string
	args  []string // to run it in the foreground
	check []string // to check its configuration, or nil
	env   []string
	ports receiverPorts
	probe *tls.Config // to probe the TLS ports (with the client certificate)

	jsonFile, lineFile string   // outputs
	logFiles           []string // shown on failure: internal log, stderr

	cmd    *exec.Cmd     // nil when not running
	exited chan struct{} // closed when cmd has exited
	err    error         // cmd.Wait result, valid once exited is closed
}

// requireReceiver finds a receiver executable among candidates, or skips the
// test (fails it when CI is set or SLS2SIEM_REQUIRE_RECEIVERS=1).
func requireReceiver(t testing.TB, name string, candidates ...string) string {
	t.Helper()
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("%s not installed (looked for %s): run `make test-deps` (scripts/install-receivers.sh, as root)",
		name, strings.Join(candidates, ", "))
	if os.Getenv("CI") != "" || os.Getenv("SLS2SIEM_REQUIRE_RECEIVERS") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Ports returns the receiver's ports.
func (d *daemon) Ports() receiverPorts { return d.ports }

// Messages returns the messages stored so far, in order.
func (d *daemon) Messages(t testing.TB) []received {
	t.Helper()
	data, err := os.ReadFile(d.jsonFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatalf("%s: %v", d.name, err)
	}
	var msgs []received
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break // a line being written
		}
		var m received
		if err := json.Unmarshal(data[:i], &m); err != nil {
			t.Fatalf("%s: parse %s: %v: %q", d.name, d.jsonFile, err, data[:i])
		}
		m.Input = strings.TrimPrefix(m.Input, "s_")
		msgs = append(msgs, m)
		data = data[i+1:]
	}
	return msgs
}

// Lines returns the lines of the receiver's RFC 5424 reconstruction, in
// order. A message with an embedded LF spans several lines; use Messages to
// get whole messages.
func (d *daemon) Lines(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile(d.lineFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s: %v", d.name, err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	var out []string
	for _, l := range lines {
		if strings.HasSuffix(l, "\n") {
			out = append(out, strings.TrimSuffix(l, "\n"))
		}
	}
	return out
}

// WaitForCount waits until at least n messages are stored and returns them;
// it fails the test when timeout passes first.
func (d *daemon) WaitForCount(t testing.TB, n int, timeout time.Duration) []received {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		lines := d.countLines(t)
		if lines >= n {
			return d.Messages(t)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d of %d messages after %v\n%s", d.name, lines, n, timeout, d.diagnostics())
		}
		time.Sleep(5 * time.Millisecond) // polling the output file
	}
}

func (d *daemon) countLines(t testing.TB) int {
	t.Helper()
	data, err := os.ReadFile(d.jsonFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s: %v", d.name, err)
	}
	return bytes.Count(data, []byte{'\n'})
}

// start runs the daemon and waits until all its TCP ports accept connections.
func (d *daemon) start(t testing.TB) {
	t.Helper()
	if d.cmd != nil {
		t.Fatalf("%s: already running", d.name)
	}
	if d.check != nil {
		cmd := exec.Command(d.path, d.check...)
		cmd.Env = append(os.Environ(), d.env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: configuration check failed (%v):\n%s", d.name, err, out)
		}
		d.check = nil
	}
	stderr, err := os.OpenFile(filepath.Join(d.dir, d.name+".stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd := exec.Command(d.path, d.args...)
	cmd.Dir = d.dir
	cmd.Env = append(os.Environ(), d.env...)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	// Do not outlive a test binary that dies without running its cleanups.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: start: %v", d.name, err)
	}
	exited := make(chan struct{})
	d.cmd, d.exited = cmd, exited
	go func() {
		d.err = cmd.Wait()
		close(exited)
	}()

	deadline := time.Now().Add(receiverStartTimeout)
	for _, port := range d.tcpPorts() {
		for {
			select {
			case <-exited:
				d.cmd = nil
				t.Fatalf("%s exited during startup (%v)\n%s", d.name, d.err, d.diagnostics())
			default:
			}
			err := d.probePort(port)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				d.kill()
				t.Fatalf("%s: port %d not ready after %v: %v\n%s", d.name, port, receiverStartTimeout, err, d.diagnostics())
			}
			time.Sleep(10 * time.Millisecond) // polling the port
		}
	}
}

// probePort connects to port, with a TLS handshake on the TLS ports.
func (d *daemon) probePort(port int) error {
	dialer := &net.Dialer{Timeout: time.Second}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var c net.Conn
	var err error
	if (port == d.ports.TLS || port == d.ports.MTLS) && d.probe != nil {
		c, err = tls.DialWithDialer(dialer, "tcp", addr, d.probe)
	} else {
		c, err = dialer.Dial("tcp", addr)
	}
	if err != nil {
		return err
	}
	return c.Close()
}

func (d *daemon) tcpPorts() []int {
	var ps []int
	for _, p := range []int{d.ports.TCP, d.ports.TCPLF, d.ports.TCPRaw, d.ports.TLS, d.ports.MTLS, d.ports.RELP, d.ports.RELPTLS} {
		if p != 0 {
			ps = append(ps, p)
		}
	}
	return ps
}

// kill stops the process with SIGKILL and waits for it.
func (d *daemon) kill() {
	d.cmd.Process.Kill()
	<-d.exited
	d.cmd = nil
}

// Stop stops the daemon (SIGTERM, SIGKILL after a timeout). It does nothing
// when the daemon is not running. Stored messages stay readable.
func (d *daemon) Stop(t testing.TB) {
	t.Helper()
	if d.cmd == nil {
		return
	}
	select {
	case <-d.exited:
		d.cmd = nil
		t.Errorf("%s had exited on its own (%v)\n%s", d.name, d.err, d.diagnostics())
		return
	default:
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
		d.cmd = nil
	case <-time.After(receiverStopTimeout):
		d.kill()
		t.Errorf("%s: did not stop within %v, killed", d.name, receiverStopTimeout)
	}
}

// Restart stops the daemon and starts it again on the same ports.
func (d *daemon) Restart(t testing.TB) {
	t.Helper()
	d.Stop(t)
	d.start(t)
}

// diagnostics returns the receiver's own logs, for failure messages.
func (d *daemon) diagnostics() string {
	var b strings.Builder
	for _, f := range d.logFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(&b, "--- %s: %v\n", f, err)
			continue
		}
		if len(data) > 16<<10 {
			data = append([]byte("...\n"), data[len(data)-16<<10:]...)
		}
		fmt.Fprintf(&b, "--- %s:\n%s\n", f, data)
	}
	return b.String()
}

var (
	portsMu    sync.Mutex
	portsTaken = map[int]bool{}
)

// freePort returns a loopback port on which both TCP and, when udp is set,
// UDP can be bound now. It picks ports below the kernel's ephemeral range so
// that connections and ":0" listeners elsewhere do not take them while the
// receiver starts, and never returns the same port twice in one test binary.
func freePort(t testing.TB, udp bool) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	low, high := 10000, ephemeralLow()-1
	for range 1000 {
		port := 0 // kernel's choice
		if high-low >= 1000 {
			port = low + rand.IntN(high-low+1)
		}
		if portsTaken[port] {
			continue
		}
		p, ok := tryBind(port, udp)
		if ok && !portsTaken[p] {
			portsTaken[p] = true
			return p
		}
	}
	t.Fatal("no free loopback port found")
	return 0
}

func tryBind(port int, udp bool) (int, bool) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return 0, false
	}
	defer ln.Close()
	port = ln.Addr().(*net.TCPAddr).Port
	if udp {
		pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return 0, false
		}
		pc.Close()
	}
	return port, true
}

// ephemeralLow returns the first port of the kernel's ephemeral port range.
func ephemeralLow() int {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return 32768
	}
	return n
}
