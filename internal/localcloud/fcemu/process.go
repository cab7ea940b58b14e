package fcemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// transport hands calls to one function process under one contract.
type transport interface {
	// env returns the contract's environment variables for the child.
	env() []string
	// send hands c to the function; the answer arrives through c.answer.
	send(p *process, c *call)
	// withdraw removes c if it was not delivered yet and reports whether it
	// did.
	withdraw(c *call) bool
	// waitReady returns once the function is ready for calls.
	waitReady(ctx context.Context, p *process) error
	// close releases the transport once the process has exited.
	close()
}

// process is one run of the function binary.
type process struct {
	cmd *exec.Cmd
	tr  transport

	// ctx is cancelled when the process is being killed or has exited.
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed once the process has exited

	mu      sync.Mutex
	reason  string // why the emulator killed it, if it did
	waitErr error  // cmd.Wait's error, valid once done is closed

	// Freezing (terms.go: Freeze).
	fmu      sync.Mutex
	inflight int       // calls begun and not yet done
	frozen   bool      // the process group is stopped (SIGSTOP)
	frozenAt time.Time // when it was stopped
}

// enter counts a call in flight and tells whether the process is frozen,
// and since when.
func (p *process) enter() (frozen bool, since time.Time) {
	p.fmu.Lock()
	defer p.fmu.Unlock()
	p.inflight++
	return p.frozen, p.frozenAt
}

// leave counts a call done and reports whether none is in flight.
func (p *process) leave() (idle bool) {
	p.fmu.Lock()
	defer p.fmu.Unlock()
	p.inflight--
	return p.inflight == 0
}

// freezeIfIdle stops the process group if no call is in flight.
func (p *process) freezeIfIdle() {
	p.fmu.Lock()
	defer p.fmu.Unlock()
	if p.inflight > 0 || p.frozen || p.gone() {
		return
	}
	if err := signalGroup(p.cmd.Process, syscall.SIGSTOP); err == nil {
		// The freeze is complete once the process is stopped: callers (and
		// tests) may rely on it when end returns.
		waitStopped(p.cmd.Process.Pid)
		p.frozen, p.frozenAt = true, time.Now()
	}
}

// thaw continues a frozen process group.
func (p *process) thaw() {
	p.fmu.Lock()
	defer p.fmu.Unlock()
	if !p.frozen {
		return
	}
	p.frozen = false
	if !p.gone() {
		_ = signalGroup(p.cmd.Process, syscall.SIGCONT)
	}
}

func (p *process) isFrozen() bool {
	p.fmu.Lock()
	defer p.fmu.Unlock()
	return p.frozen
}

// startProcess starts cfg.Binary under cfg.Contract.
func startProcess(cfg Config, out io.Writer) (*process, error) {
	var tr transport
	switch cfg.Contract {
	case ContractGo1:
		api, err := newRuntimeAPI()
		if err != nil {
			return nil, err
		}
		tr = api
	default:
		port := cfg.Port
		if port == 0 {
			var err error
			if port, err = freePort(); err != nil {
				return nil, err
			}
		}
		tr = newCustomRuntime(port, cfg.Terms)
	}

	cmd := exec.Command(cfg.Binary, cfg.Args...)
	cmd.Dir = filepath.Dir(cfg.Binary)
	cmd.Env = append(append(baseEnv(cfg), tr.env()...), cfg.Env...)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		tr.close()
		return nil, fmt.Errorf("fcemu: start %s: %w", cfg.Binary, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	p := &process{cmd: cmd, tr: tr, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go p.wait(cfg.FunctionName)
	return p, nil
}

// wait reaps the process and tears the transport down.
func (p *process) wait(name string) {
	err := p.cmd.Wait()
	p.cancel()
	p.mu.Lock()
	p.waitErr = err
	reason := p.reason
	p.mu.Unlock()
	p.tr.close()
	close(p.done)
	if reason == "" {
		slog.Warn("fcemu: function process exited", "function", name, "pid", p.cmd.Process.Pid, "status", p.exitStatus())
	}
}

// gone reports whether the process has exited or is being killed.
func (p *process) gone() bool { return p.ctx.Err() != nil }

// kill kills the process group; reason is recorded for error messages.
func (p *process) kill(reason string) {
	p.mu.Lock()
	if p.reason == "" {
		p.reason = reason
	}
	p.mu.Unlock()
	p.cancel()
	select {
	case <-p.done:
	default:
		_ = signalGroup(p.cmd.Process, syscall.SIGKILL)
	}
}

// terminate asks the process group to exit.
func (p *process) terminate(reason string) {
	p.mu.Lock()
	if p.reason == "" {
		p.reason = reason
	}
	p.mu.Unlock()
	select {
	case <-p.done:
	default:
		_ = signalGroup(p.cmd.Process, syscall.SIGTERM)
	}
}

// exitStatus describes how the process ended, e.g. "exit status 3" or
// "signal: killed (invocation X timed out)". Valid once done is closed.
func (p *process) exitStatus() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := "exit status 0"
	if p.waitErr != nil {
		s = p.waitErr.Error()
	}
	if p.reason != "" {
		s += " (" + p.reason + ")"
	}
	return s
}

// exitError is the infrastructure error for call c on this exited process.
func (p *process) exitError(c *call, delivered bool) error {
	if delivered {
		return fmt.Errorf("fcemu: %s %s: %w: %s", c.typ, c.id, ErrProcessExited, p.exitStatus())
	}
	return fmt.Errorf("fcemu: %s %s not delivered: %w: %s", c.typ, c.id, ErrProcessExited, p.exitStatus())
}

// baseEnv is the environment FC gives every function, minus the contract's
// own variables.
func baseEnv(cfg Config) []string {
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	env := []string{
		"PATH=" + path,
		"HOME=" + os.TempDir(),
		"FC_FUNC_CODE_PATH=" + filepath.Dir(cfg.Binary),
		"FC_FUNCTION_NAME=" + cfg.FunctionName,
		"FC_FUNCTION_HANDLER=" + filepath.Base(cfg.Binary),
		"FC_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(cfg.MemoryMB),
		"FC_FUNCTION_VERSION=LATEST",
		"FC_REGION=" + cfg.Region,
		"FC_ACCOUNT_ID=" + cfg.AccountID,
		"FC_INSTANCE_ID=" + newRequestID(),
	}
	if tz, ok := os.LookupEnv("TZ"); ok {
		env = append(env, "TZ="+tz)
	}
	if c := cfg.Credentials; c.AccessKeyID != "" {
		env = append(env,
			"ALIBABA_CLOUD_ACCESS_KEY_ID="+c.AccessKeyID,
			"ALIBABA_CLOUD_ACCESS_KEY_SECRET="+c.AccessKeySecret,
			"ALIBABA_CLOUD_SECURITY_TOKEN="+c.SecurityToken)
	}
	return env
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("fcemu: pick a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// syncWriter serialises writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// errNotReady is returned when the function does not become ready in time.
var errNotReady = errors.New("function not ready")
