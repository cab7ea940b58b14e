package receivers

import (
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"sls2siem/internal/transport"
)

// fakeProbes answers the set's probes as the test says, and records them.
type fakeProbes struct {
	mu     sync.Mutex
	ok     map[string]bool
	probes []string // addresses, in order
	at     []time.Duration
	start  time.Time
}

func (f *fakeProbes) probe(ctx context.Context, cfg *transport.Config) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.probes = append(f.probes, cfg.Address)
	f.at = append(f.at, time.Since(f.start))
	if f.ok[cfg.Address] {
		return nil
	}
	return &transport.SendError{Kind: transport.KindRefused, Op: "connect", Address: cfg.Address, Network: "tcp",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
}

func (f *fakeProbes) set(addr string, ok bool) {
	f.mu.Lock()
	f.ok[addr] = ok
	f.mu.Unlock()
}

func (f *fakeProbes) of(addr string) []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []time.Duration
	for i, a := range f.probes {
		if a == addr {
			out = append(out, f.at[i])
		}
	}
	return out
}

func newSet(t *testing.T, policy Policy, addrs ...string) (*Set, *fakeProbes) {
	t.Helper()
	f := &fakeProbes{ok: map[string]bool{}, start: time.Now()}
	var cfgs []transport.Config
	for _, a := range addrs {
		c := transport.DefaultConfig(transport.NetworkTCP)
		c.Address = a
		cfgs = append(cfgs, c)
	}
	s := New(cfgs, Options{Policy: policy, FailbackProbes: 3, ProbeInterval: time.Second, MaxRetries: 2, Probe: f.probe})
	t.Cleanup(func() { s.Close() })
	return s, f
}

func names(s *Set, routes int) []string {
	var out []string
	for range routes {
		out = append(out, s.NewRoute().Current().Name())
	}
	return out
}

// TestFailoverAndFailBack: ranges go to the first receiver; one that fails
// is skipped by every new route, probed with a doubling pause while its
// probes fail, and used again after three probes in a row answered,
// ProbeInterval apart; a route held elsewhere fails back at a boundary.
func TestFailoverAndFailBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, f := newSet(t, Failover, "a:1", "b:1", "c:1")
		if got := names(s, 3); !slices.Equal(got, []string{"a:1", "a:1", "a:1"}) {
			t.Fatalf("failover routes: %v", got)
		}
		rt := s.NewRoute()
		if rt.Use().Name() != "a:1" {
			t.Fatal("not a")
		}
		if healthy := rt.Failed(transport.KindRefused); !healthy || rt.Use().Name() != "b:1" || rt.Switches() != 1 {
			t.Fatalf("after a failed: on %s (healthy %v), %d switches", rt.Current().Name(), healthy, rt.Switches())
		}
		if got := names(s, 2); !slices.Equal(got, []string{"b:1", "b:1"}) {
			t.Fatalf("with a down, new routes go to %v", got)
		}
		st := s.Status()
		if st[0].Up || st[0].LastFailure != "refused" || !st[1].Up || !s.AnyUp() {
			t.Fatalf("status %+v", st)
		}
		// a's probes fail for a while: 1 s, then 2, 4, 8 (the bound) apart.
		time.Sleep(16 * time.Second)
		synctest.Wait()
		if got := f.of("a:1"); !slices.Equal(got, []time.Duration{1 * time.Second, 3 * time.Second, 7 * time.Second, 15 * time.Second}) {
			t.Fatalf("a probed at %v", got)
		}
		// It answers from now on: three probes in a row, a second apart.
		f.set("a:1", true)
		time.Sleep(8*time.Second + 500*time.Millisecond) // 24.5 s: two answered
		synctest.Wait()
		if s.Status()[0].Up {
			t.Fatal("a up before its third probe")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if got := f.of("a:1"); !slices.Equal(got[4:], []time.Duration{23 * time.Second, 24 * time.Second, 25 * time.Second}) || !s.Status()[0].Up {
			t.Fatalf("a probed at %v, up %v", got, s.Status()[0].Up)
		}
		if got := names(s, 1); got[0] != "a:1" {
			t.Fatalf("after fail-back new routes go to %v", got)
		}
		if !rt.Rebalance() || rt.Use().Name() != "a:1" || rt.Switches() != 2 {
			t.Fatalf("rebalance: on %s, %d switches", rt.Current().Name(), rt.Switches())
		}
		// Nothing is down: nothing is probed any more.
		n := len(f.of("a:1"))
		time.Sleep(time.Minute)
		if len(f.of("a:1")) != n {
			t.Fatal("a probed while up")
		}
	})
}

// TestRoundRobin: new routes take the receivers in turn, skipping those
// that are down; a route stays on its receiver unless it fails.
func TestRoundRobin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _ := newSet(t, RoundRobin, "a:1", "b:1", "c:1")
		if got := names(s, 4); !slices.Equal(got, []string{"a:1", "b:1", "c:1", "a:1"}) {
			t.Fatalf("round-robin: %v", got)
		}
		rt := s.NewRoute() // b
		rt.Use()
		rt.Failed(transport.KindConfirm)
		if rt.Current().Name() != "c:1" {
			t.Fatalf("after b failed: %s, want the next one, c", rt.Current().Name())
		}
		if got := names(s, 3); !slices.Equal(got, []string{"c:1", "a:1", "c:1"}) {
			t.Fatalf("with b down: %v", got)
		}
		if rt.Rebalance() {
			t.Fatal("a round-robin route on a healthy receiver moved")
		}
	})
}

// TestNoneUp: when every receiver is down a route still has one: the next
// that has not failed since its last progress, then the next one; a
// confirmed delivery brings it up. MaxSwitches bounds the switches.
func TestNoneUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _ := newSet(t, Failover, "a:1", "b:1", "c:1")
		rt := s.NewRoute()
		var seq []string
		for range 7 {
			seq = append(seq, rt.Use().Name())
			if healthy := rt.Failed(transport.KindTimeout); healthy && len(seq) >= 3 {
				t.Fatalf("switch %d to a healthy receiver with every one down", len(seq))
			}
		}
		if !slices.Equal(seq, []string{"a:1", "b:1", "c:1", "a:1", "b:1", "c:1", "a:1"}) || s.AnyUp() {
			t.Fatalf("routes over receivers all down: %v, any up %v", seq, s.AnyUp())
		}
		if rt.Switches() != 6 || s.MaxSwitches() != 6 || !rt.TooManySwitches() {
			t.Fatalf("switches %d, max %d", rt.Switches(), s.MaxSwitches())
		}
		rt.Progress()
		if st := s.Status(); !st[1].Up || st[0].Up || st[2].Up {
			t.Fatalf("after progress on b: %+v", st)
		}
		// Progress forgets the failures: the next failure tries c first.
		rt.Failed(transport.KindTimeout)
		if rt.Current().Name() != "c:1" {
			t.Fatalf("after b failed again: %s", rt.Current().Name())
		}
	})
}

// TestSingleReceiver: one receiver is always the one used, never probed,
// and never switched from.
func TestSingleReceiver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, f := newSet(t, RoundRobin, "only:1")
		rt := s.NewRoute()
		for range 5 {
			rt.Use()
			if rt.Failed(transport.KindRefused) || rt.Current().Name() != "only:1" {
				t.Fatal("moved off the only receiver")
			}
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if len(f.of("only:1")) != 0 || rt.Switches() != 0 || rt.Usage() != nil || rt.TooManySwitches() {
			t.Fatalf("probes %v, switches %d, usage %v", f.of("only:1"), rt.Switches(), rt.Usage())
		}
		if s.Status()[0].Up {
			t.Fatal("up after a failure")
		}
		rt.Progress()
		if !s.Status()[0].Up {
			t.Fatal("down after a confirmed delivery")
		}
	})
}

// TestUsage: what each receiver took, in the order used, and what was
// written again after a switch.
func TestUsage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _ := newSet(t, Failover, "a:1", "b:1", "c:1")
		rt := s.NewRoute()
		rt.Use()
		rt.Settle(100, 0) // a confirmed 100, then failed
		rt.Failed(transport.KindConfirm)
		rt.Use()
		rt.Settle(250, 30) // b: 150 more, 30 of them written to a before
		u := rt.Usage()
		want := Usage{Logs: []Share{{"a:1", 100}, {"b:1", 150}}, Switches: 1, ResentAfterSwitch: 30}
		if u == nil || !slices.Equal(u.Logs, want.Logs) || u.Switches != 1 || u.ResentAfterSwitch != 30 {
			t.Fatalf("usage %+v, want %+v", u, want)
		}
		// A receiver the route moved to but never used is not listed.
		rt.Failed(transport.KindConfirm)
		if u := rt.Usage(); len(u.Logs) != 2 {
			t.Fatalf("usage %+v", u)
		}
	})
}

// TestCloseStopsProbes: Close ends the prober; a route used afterwards
// restarts it for the receivers still down.
func TestCloseStopsProbes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, f := newSet(t, Failover, "a:1", "b:1")
		rt := s.NewRoute()
		rt.Use()
		rt.Failed(transport.KindRefused)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if n := len(f.of("a:1")); n != 0 {
			t.Fatalf("%d probes after Close", n)
		}
		s.NewRoute().Current()
		time.Sleep(time.Second)
		synctest.Wait()
		if n := len(f.of("a:1")); n != 1 {
			t.Fatalf("%d probes after a new route, want 1 (overdue)", n)
		}
	})
}

// TestDialProbe: the default probe is the transport's connect: a port
// where nothing listens is refused.
func TestDialProbe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	cfg := transport.DefaultConfig(transport.NetworkTCP)
	cfg.Address = addr
	if err := dialProbe(context.Background(), &cfg); err != nil {
		t.Fatalf("probe of a listener: %v", err)
	}
	ln.Close()
	err = dialProbe(context.Background(), &cfg)
	var se *transport.SendError
	if !errors.As(err, &se) || se.Kind != transport.KindRefused {
		t.Fatalf("probe of a closed port: %v", err)
	}
}
