package fcemu

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Instance is one function instance: a child process plus the runtime
// contract in front of it. Its methods are safe for concurrent use.
type Instance struct {
	cfg    Config
	out    *syncWriter
	slots  chan struct{} // one token per invocation in flight
	stopCh chan struct{} // closed by Stop

	startMu sync.Mutex // serialises (re)starts and Stop

	mu      sync.Mutex
	proc    *process
	starts  int
	stopped bool
}

// Start starts the function process, waits until it is ready and runs its
// initializer hook (if it has one). ctx bounds the start only.
func Start(ctx context.Context, cfg Config) (*Instance, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	i := &Instance{
		cfg:    cfg,
		out:    &syncWriter{w: cfg.Output},
		slots:  make(chan struct{}, cfg.InstanceConcurrency),
		stopCh: make(chan struct{}),
	}
	if _, err := i.running(ctx); err != nil {
		return nil, err
	}
	return i, nil
}

// Restarts reports how many times the process was started, including the
// first start: 1 after Start, 2 after the first restart.
func (i *Instance) Restarts() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.starts
}

// Invoke hands event to the function and waits for its answer. The error is
// an infrastructure failure (the process died, could not be started, the
// instance was stopped, or ctx ended); the function's own failure, including
// a timeout, is in Result.Err.
func (i *Instance) Invoke(ctx context.Context, event []byte) (*Result, error) {
	return i.InvokeWithHeaders(ctx, event, nil)
}

// InvokeWithHeaders is Invoke with extra x-fc-* headers (e.g.
// x-fc-retry-count), which override the emulator's own except the request id
// and the deadline.
func (i *Instance) InvokeWithHeaders(ctx context.Context, event []byte, extra http.Header) (*Result, error) {
	release, err := i.acquire(ctx)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		p, err := i.running(ctx)
		if err != nil {
			release()
			return nil, err
		}
		c := newCall(typeHandler, event, i.header(typeHandler, extra), i.cfg.Timeout, i.deadlineHeader())
		o, err := i.await(ctx, p, c, release)
		if err != nil {
			return nil, err
		}
		if o.undelivered && attempt == 0 {
			continue // the function never saw it: try once on a fresh process
		}
		release()
		return o.res, o.err
	}
}

// PreFreeze calls the function's pre-freeze hook. It does nothing when no
// process is running or the function has no such hook, and under
// HooksConfigured, as FC 3.0 has no pre-freeze hook.
func (i *Instance) PreFreeze(ctx context.Context) error {
	i.mu.Lock()
	p, stopped := i.proc, i.stopped
	i.mu.Unlock()
	if stopped {
		return ErrStopped
	}
	if p == nil || p.gone() || i.cfg.Terms.Hooks == HooksConfigured {
		return nil
	}
	return i.lifecycle(ctx, p, typePreFreeze)
}

// Stop calls the pre-stop hook (under HooksConfigured, only if configured),
// thaws a frozen process, sends SIGTERM, kills the process if it has not
// exited after a grace period (5s, or when ctx ends) and waits for it.
// The process is always stopped; the error reports a failed pre-stop hook.
// Invocations still in flight fail with ErrProcessExited; later ones with
// ErrStopped.
func (i *Instance) Stop(ctx context.Context) error {
	i.startMu.Lock()
	defer i.startMu.Unlock()
	i.mu.Lock()
	if i.stopped {
		i.mu.Unlock()
		return nil
	}
	i.stopped = true
	close(i.stopCh)
	p := i.proc
	i.mu.Unlock()
	if p == nil {
		return nil
	}
	var hookErr error
	if !p.gone() {
		hookErr = i.lifecycle(ctx, p, typePreStop)
		p.thaw()
		p.terminate("instance stopped")
		t := time.NewTimer(stopGrace)
		select {
		case <-p.done:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	p.kill("instance stopped")
	<-p.done
	return hookErr
}

// acquire takes an invocation slot; the returned func gives it back.
func (i *Instance) acquire(ctx context.Context) (func(), error) {
	select {
	case <-i.stopCh:
		return nil, ErrStopped
	default:
	}
	select {
	case i.slots <- struct{}{}:
		return sync.OnceFunc(func() { <-i.slots }), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("fcemu: wait for a free slot: %w", ctx.Err())
	case <-i.stopCh:
		return nil, ErrStopped
	}
}

// running returns the live process, starting one if there is none.
func (i *Instance) running(ctx context.Context) (*process, error) {
	i.startMu.Lock()
	defer i.startMu.Unlock()
	i.mu.Lock()
	p, stopped := i.proc, i.stopped
	i.mu.Unlock()
	if stopped {
		return nil, ErrStopped
	}
	if p != nil {
		if !p.gone() {
			return p, nil
		}
		<-p.done // a killed process must be gone before its port is reused
	}
	return i.spawn(ctx)
}

// spawn starts a process, waits until it is ready and runs the initializer.
// The caller holds startMu.
func (i *Instance) spawn(ctx context.Context) (*process, error) {
	p, err := startProcess(i.cfg, i.out)
	if err != nil {
		return nil, err
	}
	i.mu.Lock()
	i.proc = p
	i.starts++
	i.mu.Unlock()

	rctx, cancel := context.WithTimeout(ctx, i.cfg.ReadyTimeout)
	err = p.tr.waitReady(rctx, p)
	cancel()
	if err == nil {
		err = i.lifecycle(ctx, p, typeInitializer)
	}
	if err != nil {
		p.kill("start failed")
		<-p.done
		return nil, fmt.Errorf("fcemu: start %s: %w", filepath.Base(i.cfg.Binary), err)
	}
	return p, nil
}

// lifecycle runs hook typ on p. Under HooksAll every hook is called and a
// hook the function lacks is not an error; under HooksConfigured only a
// configured hook is called, with its own timeout, and any failure counts.
func (i *Instance) lifecycle(ctx context.Context, p *process, typ funcType) error {
	timeout := i.cfg.Timeout
	strict := i.cfg.Terms.Hooks == HooksConfigured
	if strict {
		h := i.cfg.Lifecycle.hook(typ)
		if h == nil {
			return nil
		}
		if h.Timeout > 0 {
			timeout = h.Timeout
		}
	}
	c := newCall(typ, nil, i.header(typ, nil), timeout, i.deadlineHeader())
	o, err := i.await(ctx, p, c, func() {})
	if err != nil {
		return err
	}
	if o.err != nil {
		return o.err
	}
	if e := o.res.Err; e != nil && (strict || !missingHook(e)) {
		return fmt.Errorf("fcemu: %s hook: %w", typ, e)
	}
	return nil
}

// missingHook reports whether e says the function has no such hook.
func missingHook(e *FunctionError) bool {
	// fc-runtime-go-sdk panics with "no initializer handler registered",
	// "no prefreeze handler registered" or "no prestop handler registered".
	return e.Type == typeMissingHook ||
		strings.HasPrefix(e.Message, "no ") && strings.HasSuffix(e.Message, " handler registered")
}

// outcome is how a call ended.
type outcome struct {
	res         *Result
	err         error
	undelivered bool // the process exited before the function got the call
}

// await runs c on p and waits for its outcome or for ctx. When ctx ends
// first, the call is abandoned and release runs once the outcome is known.
// A frozen process is thawed first (terms.go: Freeze), and frozen again
// once no invocation is in flight (not after a hook: an initializer is
// followed by the invocation that started the instance).
func (i *Instance) await(ctx context.Context, p *process, c *call, release func()) (outcome, error) {
	if err := i.begin(ctx, p); err != nil {
		release()
		return outcome{}, fmt.Errorf("fcemu: %s %s: %w", c.typ, c.id, err)
	}
	ch := make(chan outcome, 1)
	go func() {
		o := i.supervise(p, c)
		i.end(p, c.typ == typeHandler)
		ch <- o
	}()
	select {
	case o := <-ch:
		return o, nil
	case <-ctx.Done():
		close(c.abandon)
		go func() {
			<-ch
			release()
		}()
		return outcome{}, fmt.Errorf("fcemu: %s %s: %w", c.typ, c.id, ctx.Err())
	}
}

// supervise hands c to p and enforces the function timeout.
func (i *Instance) supervise(p *process, c *call) outcome {
	p.tr.send(p, c)
	select {
	case <-c.delivered:
	case <-c.abandon:
		if p.tr.withdraw(c) {
			return outcome{err: context.Canceled, undelivered: true}
		}
		<-c.delivered
	case <-p.done:
		select {
		case <-c.delivered:
		default:
			return outcome{err: p.exitError(c, false), undelivered: true}
		}
	}

	timer := time.NewTimer(time.Until(c.deadline))
	defer timer.Stop()
	select {
	case <-c.answered:
	case <-timer.C:
		select {
		case <-c.answered:
		default:
			if p.gone() {
				// Already being killed (another call timed out, or Stop):
				// this call dies with the process, not by its own timeout.
				<-p.done
				return outcome{err: p.exitError(c, true)}
			}
			p.kill(fmt.Sprintf("%s %s timed out", c.typ, c.id))
			return outcome{res: &Result{
				RequestID: c.id,
				Err:       &FunctionError{Type: TypeFunctionTimeout, Message: timeoutMessage(c.timeout)},
				Duration:  time.Since(c.sentAt),
			}}
		}
	case <-p.done:
		select {
		case <-c.answered:
		default:
			return outcome{err: p.exitError(c, true)}
		}
	}
	if c.infraErr != nil {
		// Usually the process died under the call: name its exit status.
		t := time.NewTimer(time.Second)
		defer t.Stop()
		select {
		case <-p.done:
			return outcome{err: p.exitError(c, true)}
		case <-t.C:
		}
		var ka *keepAliveError
		if errors.As(c.infraErr, &ka) {
			// The process lives but closed the connection FC kept alive:
			// FC reports the invocation failed.
			return outcome{res: &Result{
				RequestID: c.id,
				Err: &FunctionError{Type: typeUnhandled, Message: "Process exited unexpectedly before completing request: " + ka.Error() +
					" (FC keeps connections to the function's HTTP server alive, across freezes, and requires the server to keep idle connections 15 minutes or more)"},
				Duration: time.Since(c.sentAt),
			}}
		}
		return outcome{err: fmt.Errorf("fcemu: %s %s: %w", c.typ, c.id, c.infraErr)}
	}
	return outcome{res: c.result()}
}

// header builds the x-fc-* headers of a call (without request id and
// deadline, which are set on delivery).
func (i *Instance) header(typ funcType, extra http.Header) http.Header {
	cfg := i.cfg
	h := http.Header{}
	h.Set("x-fc-function-type", strconv.Itoa(int(typ)))
	h.Set("x-fc-function-timeout", strconv.Itoa(cfg.timeoutSeconds()))
	h.Set("x-fc-function-name", cfg.FunctionName)
	h.Set("x-fc-function-handler", filepath.Base(cfg.Binary))
	h.Set("x-fc-function-memory", strconv.Itoa(cfg.MemoryMB))
	h.Set("x-fc-region", cfg.Region)
	h.Set("x-fc-account-id", cfg.AccountID)
	h.Set("x-fc-qualifier", "LATEST")
	h.Set("x-fc-retry-count", "0")
	if c := cfg.Credentials; c.AccessKeyID != "" {
		h.Set("x-fc-access-key-id", c.AccessKeyID)
		h.Set("x-fc-access-key-secret", c.AccessKeySecret)
		h.Set("x-fc-security-token", c.SecurityToken)
	}
	for k, v := range extra {
		if ck := http.CanonicalHeaderKey(k); ck != "X-Fc-Request-Id" && ck != "X-Fc-Function-Deadline" {
			h[ck] = append([]string(nil), v...)
		}
	}
	if cfg.Contract == ContractCustom {
		cfg.Terms.Headers.filter(h)
	}
	return h
}

// deadlineHeader reports whether calls carry x-fc-function-deadline: on
// the go1 runtime API always (fc-runtime-go-sdk requires it), on a custom
// runtime unless the terms are documented headers only.
func (i *Instance) deadlineHeader() bool {
	return i.cfg.Contract == ContractGo1 || i.cfg.Terms.Headers.allows("X-Fc-Function-Deadline")
}

// begin counts a call in flight on p. If p is frozen, it waits until p has
// been frozen for the terms' hold (or ctx ends), then thaws it.
func (i *Instance) begin(ctx context.Context, p *process) error {
	frozen, since := p.enter()
	if !frozen {
		return nil
	}
	if wait := time.Until(since.Add(i.cfg.Terms.Freeze.Hold)); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-p.done:
		case <-ctx.Done():
			p.leave()
			return fmt.Errorf("wait for the frozen instance: %w", ctx.Err())
		}
	}
	p.thaw()
	return nil
}

// end counts a call done on p and, after an invocation (mayFreeze), freezes
// p when it was the last call in flight and the terms freeze idle
// instances.
func (i *Instance) end(p *process, mayFreeze bool) {
	if idle := p.leave(); !idle || !mayFreeze || i.cfg.Terms.Freeze.Off {
		return
	}
	i.mu.Lock()
	stopped := i.stopped
	i.mu.Unlock()
	if !stopped {
		p.freezeIfIdle()
	}
}

// Frozen reports whether the running process is frozen (SIGSTOP) between
// invocations.
func (i *Instance) Frozen() bool {
	i.mu.Lock()
	p := i.proc
	i.mu.Unlock()
	return p != nil && p.isFrozen()
}

// PID returns the process id of the running function process, or 0 when
// none runs (benchmarks read its peak memory from /proc).
func (i *Instance) PID() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.proc == nil || i.proc.gone() {
		return 0
	}
	return i.proc.cmd.Process.Pid
}
