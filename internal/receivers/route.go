package receivers

import (
	"errors"

	"sls2siem/internal/transport"
)

// ErrTooManySwitches is wrapped by the error of a range that switched
// receivers more than MaxSwitches times: receivers that keep failing and
// recovering must not make it bounce forever.
var ErrTooManySwitches = errors.New("too many receiver switches")

// Route is the way one range (trigger mode) or one shard's batch stream
// (consumer mode) takes through the set: the receiver it sends to, the
// receivers that failed since it last confirmed progress, how many times
// it switched, and which receivers took how many of its logs. A Route is
// used by one goroutine.
type Route struct {
	set    *Set
	cur    *Receiver
	failed []bool // by receiver index, since the last progress
	// switches counts the changes of the receiver used (Use): the
	// receiver last used, and how many times it changed.
	lastUsed *Receiver
	switches int
	// The account (Settle): logs confirmed per receiver (by index), the
	// receivers in the order first used, what was settled so far, and
	// whether the route came to its receiver after a failure on another
	// (what it writes again there was written to the other: resent after
	// a switch).
	logs                       []int64
	order                      []int
	settledLogs, settledResent int64
	switchedIn                 bool
	resentAfterSwitch          int64
}

// NewRoute starts a route; it takes its receiver when first asked.
func (s *Set) NewRoute() *Route {
	return &Route{set: s, failed: make([]bool, len(s.list)), logs: make([]int64, len(s.list))}
}

// Current is the receiver the route sends to, chosen on the first call.
func (rt *Route) Current() *Receiver {
	if rt.cur == nil {
		s := rt.set
		s.mu.Lock()
		rt.cur = s.pick(nil, rt.failed)
		if len(s.list) > 1 && !s.probing && !allUp(s.list) {
			s.startProber() // after a Close, receivers still down are probed again
		}
		s.mu.Unlock()
	}
	return rt.cur
}

// Use is Current, for a delivery: the receiver counts as used (Usage
// lists it), and as a switch when it is not the one used last.
func (rt *Route) Use() *Receiver {
	r := rt.Current()
	if rt.lastUsed != nil && rt.lastUsed != r {
		rt.switches++
	}
	rt.lastUsed = r
	rt.use(r)
	return r
}

func allUp(list []*Receiver) bool {
	for _, r := range list {
		if !r.up.Load() {
			return false
		}
	}
	return true
}

// use notes that the route uses r.
func (rt *Route) use(r *Receiver) {
	for _, i := range rt.order {
		if i == r.index {
			return
		}
	}
	rt.order = append(rt.order, r.index)
}

// Failed records that a delivery on the route's receiver failed with
// kind (transport.KindOf the error; "" for another error): the receiver is
// down for every route of the set (a single receiver stays the one used),
// and the route moves to the next receiver (see the package
// documentation). It reports whether the route switched to another
// receiver that is up: then there is nothing to wait for before using it.
func (rt *Route) Failed(kind transport.Kind) (switchedToHealthy bool) {
	cur := rt.Current()
	s := rt.set
	s.mu.Lock()
	rt.failed[cur.index] = true
	s.markDown(cur, kind)
	next := s.pick(cur, rt.failed)
	s.mu.Unlock()
	rt.moveTo(next, true)
	return next != cur && next.Up()
}

// moveTo makes next the route's receiver; afterFailure says whether what
// the route writes there next may have been written to the other.
func (rt *Route) moveTo(next *Receiver, afterFailure bool) {
	rt.switchedIn = next != rt.cur && afterFailure
	rt.cur = next
}

// Progress records that the route's receiver confirmed logs: every
// receiver may be tried again after a failure, and a receiver that was
// down (used because no other was up) is up again.
func (rt *Route) Progress() {
	clear(rt.failed)
	if rt.cur != nil && !rt.cur.up.Load() {
		s := rt.set
		s.mu.Lock()
		s.markUp(rt.cur, "a delivery on it was confirmed")
		s.mu.Unlock()
	}
}

// Forgive forgets the failures since the last progress, without judging
// the receiver's health: the receiver confirmed logs and then failed.
func (rt *Route) Forgive() { clear(rt.failed) }

// Rebalance is called where nothing the route carried is unconfirmed
// (consumer mode, between batches): a failover route returns to the first
// receiver that is up (fail-back), any route leaves a receiver that is
// down for one that is up. It reports whether the route switched.
func (rt *Route) Rebalance() bool {
	if rt.cur == nil || len(rt.set.list) == 1 {
		return false
	}
	s := rt.set
	var next *Receiver
	s.mu.Lock()
	switch {
	case s.opts.Policy == Failover:
		next = s.firstUp(0)
	case !rt.cur.up.Load():
		next = s.firstUp(rt.cur.index + 1)
	}
	s.mu.Unlock()
	if next == nil || next == rt.cur {
		return false
	}
	rt.moveTo(next, false)
	return true
}

// firstUp is the first receiver that is up, in list order from start
// (cyclically); nil when none is. s.mu is held.
func (s *Set) firstUp(start int) *Receiver {
	n := len(s.list)
	for i := range n {
		if r := s.list[(start+i)%n]; r.up.Load() {
			return r
		}
	}
	return nil
}

// Switches counts the route's switches from one receiver to another (the
// receiver it delivered to changed).
func (rt *Route) Switches() int { return rt.switches }

// TooManySwitches reports whether the route's next delivery would make it
// switch more than the set's MaxSwitches times.
func (rt *Route) TooManySwitches() bool {
	next := rt.switches
	if rt.lastUsed != nil && rt.cur != rt.lastUsed {
		next++
	}
	return next > rt.set.MaxSwitches()
}

// Settle attributes what the range confirmed since the last call to the
// route's receiver: logs and resent are the range's totals so far (the
// ledger's Logs and Resent). Call it before every switch and at the end.
func (rt *Route) Settle(logs, resent int64) {
	if rt.cur == nil {
		return
	}
	rt.logs[rt.cur.index] += logs - rt.settledLogs
	if rt.switchedIn {
		rt.resentAfterSwitch += resent - rt.settledResent
	}
	rt.settledLogs, rt.settledResent = logs, resent
}

// Share is how many logs one receiver took (confirmed).
type Share struct {
	Receiver string `json:"receiver"`
	Logs     int64  `json:"logs"`
}

// Usage is what a range did with several receivers: the logs each
// receiver it used confirmed (in the order used; a receiver that failed
// before confirming any shows 0), how many times it switched receivers,
// and how many messages it wrote again after a switch (part of resent:
// written to the receiver that failed, not acknowledged there).
type Usage struct {
	Logs              []Share `json:"logs"`
	Switches          int     `json:"switches"`
	ResentAfterSwitch int64   `json:"resentAfterSwitch"`
}

// Usage is the route's Usage as settled; nil with a single receiver.
func (rt *Route) Usage() *Usage {
	if len(rt.set.list) == 1 {
		return nil
	}
	u := &Usage{Logs: []Share{}, Switches: rt.switches, ResentAfterSwitch: rt.resentAfterSwitch}
	for _, i := range rt.order {
		u.Logs = append(u.Logs, Share{Receiver: rt.set.list[i].name, Logs: rt.logs[i]})
	}
	return u
}
