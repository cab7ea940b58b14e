// Package receivers is the set of syslog receivers a Shipper delivers to
// (SYSLOG_HOST's list): one connection pool per receiver, each receiver's
// health, shared by every invocation of the instance, and the choice of
// the receiver a range (trigger mode) or a shard's batch stream (consumer
// mode) goes to. It knows nothing of logs: ship's retry loop and the
// consumer report what failed and what was confirmed, and ask where to go.
//
// # Health
//
// A receiver is up until a delivery on it fails (Route.Failed); it is then
// down, and every route of the instance skips it while another receiver is
// up, so that no invocation pays its dial timeout again. A receiver that is
// down is probed with the transport's own connect (TCP connect, TLS
// handshake, RELP open; nothing is sent), the first time ProbeInterval
// after the failure; each failed probe doubles the pause, up to
// MaxProbeBackoff times ProbeInterval. Once a probe answers, the next ones
// follow ProbeInterval apart, and after FailbackProbes answers in a row the
// receiver is up again. A delivery that confirms logs on a receiver that is
// down (used because none was up) brings it up at once. With a single
// receiver nothing is probed and nothing skipped: it is always the one
// used, as before there were several.
//
// # Selection
//
// Failover: a route takes the first receiver in list order that is up.
// Round-robin: a new route takes the next receiver that is up, from a
// counter the instance shares. A route keeps its receiver until a delivery
// on it fails; it then moves to the first receiver that is up (failover)
// or the next one after it in list order (round-robin); when none is up, to
// the next one after it that has not failed since the route last confirmed
// progress, else simply the next one. Where nothing is unconfirmed
// (consumer mode, between batches) Route.Rebalance fails back: a failover
// route returns to an earlier receiver that is up again, and any route
// leaves a receiver that is down for one that is up.
package receivers

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"sls2siem/internal/transport"
)

// Policy is how several receivers share the logs (SYSLOG_BALANCE).
type Policy string

// Policies.
const (
	// Failover sends to the first healthy receiver in list order.
	Failover Policy = "failover"
	// RoundRobin sends each range (each shard's batch stream) to the next
	// healthy receiver.
	RoundRobin Policy = "round-robin"
)

// Policies lists the policies, as SYSLOG_BALANCE takes them.
var Policies = []string{string(Failover), string(RoundRobin)}

// MaxProbeBackoff bounds the pause between two failed probes of a
// receiver, in ProbeIntervals.
const MaxProbeBackoff = 8

// Options configure a Set.
type Options struct {
	Policy Policy
	// FailbackProbes is how many probes in a row a receiver found down
	// must answer before it is up again (at least 1).
	FailbackProbes int
	// ProbeInterval is the pause before the first probe of a receiver
	// found down, and between probes that answer.
	ProbeInterval time.Duration
	// MaxRetries is SYSLOG_MAX_RETRIES: a route may switch receivers at
	// most receivers × max(MaxRetries, 1) times (MaxSwitches).
	MaxRetries int
	// Log gets the health changes of a set of several receivers (nil:
	// none are logged).
	Log *slog.Logger
	// Probe tries a receiver (nil: the transport's Dial, then Close).
	Probe func(ctx context.Context, cfg *transport.Config) error
}

// Receiver is one receiver of the set: its address, its connection pool
// and its health.
type Receiver struct {
	name  string
	index int
	cfg   transport.Config
	pool  *transport.Pool
	up    atomic.Bool
	// Guarded by Set.mu: the kind of the failure that put it down (or of
	// the last failed probe), probes answered in a row, the pause after a
	// failed probe and when the next probe is due.
	lastFailure transport.Kind
	successes   int
	backoff     time.Duration
	nextProbe   time.Time
}

// Name is the receiver's host:port: its name in logs, summaries and the
// receiver label of the metrics.
func (r *Receiver) Name() string { return r.name }

// Pool is the receiver's connection pool.
func (r *Receiver) Pool() *transport.Pool { return r.pool }

// Up reports whether the receiver is healthy.
func (r *Receiver) Up() bool { return r.up.Load() }

// Set is the receivers of a function instance (or a daemon). It is safe
// for concurrent use.
type Set struct {
	opts Options
	list []*Receiver
	log  *slog.Logger

	mu      sync.Mutex
	rr      int  // round-robin counter
	probing bool // the prober runs
	closed  bool
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{} // closed when the prober ends
}

// New returns the set of the receivers cfgs (at least one), each with its
// own connection pool, all up.
func New(cfgs []transport.Config, opts Options) *Set {
	if len(cfgs) == 0 {
		panic("receivers: no receiver")
	}
	opts.FailbackProbes = max(opts.FailbackProbes, 1)
	if opts.ProbeInterval <= 0 {
		opts.ProbeInterval = 30 * time.Second
	}
	if opts.Policy == "" {
		opts.Policy = Failover
	}
	if opts.Probe == nil {
		opts.Probe = dialProbe
	}
	log := opts.Log
	if log == nil || len(cfgs) == 1 {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Set{opts: opts, log: log, wake: make(chan struct{}, 1), stop: make(chan struct{})}
	for i, c := range cfgs {
		r := &Receiver{name: c.Address, index: i, cfg: c, pool: transport.NewPool(c)}
		r.up.Store(true)
		s.list = append(s.list, r)
	}
	return s
}

// probeKey marks the context of a health probe.
type probeKey struct{}

// IsProbe reports whether ctx is a health probe's: a transport.Config.Dial
// hook (the delivery simulator's network) can tell probes from deliveries.
func IsProbe(ctx context.Context) bool { return ctx.Value(probeKey{}) != nil }

// dialProbe connects as shipping would (TCP, TLS handshake, RELP open) and
// closes the connection without sending anything.
func dialProbe(ctx context.Context, cfg *transport.Config) error {
	c, err := transport.Dial(ctx, cfg)
	if err != nil {
		return err
	}
	c.Close()
	return nil
}

// Len is the number of receivers.
func (s *Set) Len() int { return len(s.list) }

// Receivers are the receivers, in SYSLOG_HOST's order.
func (s *Set) Receivers() []*Receiver { return s.list }

// Policy is the set's policy.
func (s *Set) Policy() Policy { return s.opts.Policy }

// Status is what a receiver's health is now.
type Status struct {
	Receiver string `json:"receiver"`
	Up       bool   `json:"up"`
	// LastFailure is the kind of the failure that put it down, or of the
	// last probe that failed (while it is down).
	LastFailure string `json:"lastFailure,omitempty"`
}

// Status reports every receiver's health, in list order.
func (s *Set) Status() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Status, len(s.list))
	for i, r := range s.list {
		out[i] = Status{Receiver: r.name, Up: r.up.Load()}
		if !out[i].Up {
			out[i].LastFailure = string(r.lastFailure)
		}
	}
	return out
}

// AnyUp reports whether a receiver is healthy.
func (s *Set) AnyUp() bool {
	for _, r := range s.list {
		if r.up.Load() {
			return true
		}
	}
	return false
}

// MaxSwitches is how many times a route may switch receivers before its
// range fails: receivers × max(SYSLOG_MAX_RETRIES, 1).
func (s *Set) MaxSwitches() int { return len(s.list) * max(s.opts.MaxRetries, 1) }

// Close stops the probes and closes every pool's idle connections. The
// set stays usable (FC's pre-stop may come before a last invocation).
func (s *Set) Close() error {
	s.mu.Lock()
	var done chan struct{}
	if s.probing {
		close(s.stop)
		done = s.done
	}
	s.closed = true
	s.mu.Unlock()
	if done != nil {
		<-done
	}
	s.mu.Lock()
	s.closed = false
	s.stop = make(chan struct{})
	s.mu.Unlock()
	var errs []error
	for _, r := range s.list {
		errs = append(errs, r.pool.Close())
	}
	return errors.Join(errs...)
}

// markDown records that a delivery on r failed with kind. s.mu is held.
func (s *Set) markDown(r *Receiver, kind transport.Kind) {
	if kind == "" {
		kind = "other"
	}
	r.lastFailure = kind
	r.successes = 0
	if !r.up.Swap(false) {
		return // down already: its probes go on as scheduled
	}
	if len(s.list) == 1 {
		return // nothing else to send to: its next delivery is its probe
	}
	r.backoff = s.opts.ProbeInterval
	r.nextProbe = time.Now().Add(r.backoff)
	s.log.Warn("syslog receiver down: skipped while another is up, until it answers health probes",
		"receiver", r.name, "kind", string(kind), "probeIn", r.backoff.String(), "probesNeeded", s.opts.FailbackProbes)
	s.startProber()
}

// markUp records that r is healthy again. s.mu is held.
func (s *Set) markUp(r *Receiver, why string) {
	if r.up.Swap(true) {
		return
	}
	r.successes, r.backoff = 0, 0
	s.log.Info("syslog receiver up: in use again", "receiver", r.name, "why", why)
}

// pick chooses a receiver for a route: from was its receiver (nil for a
// new route), failed the receivers that failed since the route last
// confirmed progress. s.mu is held.
func (s *Set) pick(from *Receiver, failed []bool) *Receiver {
	n := len(s.list)
	if n == 1 {
		return s.list[0]
	}
	start := 0 // failover: list order
	switch {
	case from != nil && s.opts.Policy == RoundRobin:
		start = from.index + 1
	case from == nil && s.opts.Policy == RoundRobin:
		start = s.rr
		s.rr = (s.rr + 1) % n
	}
	for i := range n {
		if r := s.list[(start+i)%n]; r.up.Load() {
			return r
		}
	}
	// None is up: the next one after from that has not failed since the
	// route's last progress, preferring one whose probes answer.
	if from != nil {
		start = from.index + 1
	}
	var untried *Receiver
	for i := range n {
		r := s.list[(start+i)%n]
		if failed[r.index] {
			continue
		}
		if r.successes > 0 {
			return r
		}
		if untried == nil {
			untried = r
		}
	}
	if untried != nil {
		return untried
	}
	return s.list[start%n]
}

// startProber starts the goroutine that probes the receivers that are
// down, unless it runs. s.mu is held.
func (s *Set) startProber() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
	if s.probing || s.closed {
		return
	}
	s.probing = true
	s.done = make(chan struct{})
	go s.probeLoop(s.stop, s.done)
}

// probeLoop probes each receiver that is down when its probe is due, until
// none is down or the set is closed.
func (s *Set) probeLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), probeKey{}, true))
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		var next time.Time
		var due []*Receiver
		now := time.Now()
		for _, r := range s.list {
			switch {
			case r.up.Load():
			case !r.nextProbe.After(now):
				due = append(due, r)
			case next.IsZero() || r.nextProbe.Before(next):
				next = r.nextProbe
			}
		}
		if len(due) == 0 && next.IsZero() {
			s.probing = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		if len(due) == 0 {
			timer.Reset(time.Until(next))
			select {
			case <-timer.C:
			case <-s.wake:
				timer.Stop()
			case <-stop:
				s.mu.Lock()
				s.probing = false
				s.mu.Unlock()
				return
			}
			continue
		}
		for _, r := range due {
			err := s.opts.Probe(ctx, &r.cfg)
			if ctx.Err() != nil {
				s.mu.Lock()
				s.probing = false
				s.mu.Unlock()
				return
			}
			s.mu.Lock()
			s.probed(r, err)
			s.mu.Unlock()
		}
	}
}

// probed records a probe's outcome. s.mu is held.
func (s *Set) probed(r *Receiver, err error) {
	if r.up.Load() {
		return // a delivery brought it up meanwhile
	}
	now := time.Now()
	if err != nil {
		r.successes = 0
		r.lastFailure = transport.KindOf(err)
		if r.lastFailure == "" {
			r.lastFailure = "other"
		}
		r.backoff = min(2*r.backoff, MaxProbeBackoff*s.opts.ProbeInterval)
		r.nextProbe = now.Add(r.backoff)
		s.log.Debug("syslog receiver health probe failed", "receiver", r.name, "error", err.Error(), "next", r.backoff.String())
		return
	}
	r.successes++
	if r.successes >= s.opts.FailbackProbes {
		s.markUp(r, "answered health probes in a row")
		return
	}
	r.nextProbe = now.Add(s.opts.ProbeInterval)
}
