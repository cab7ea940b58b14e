package sim

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"sls2siem/internal/receivers"
)

// Result is what a run found.
type Result struct {
	Schedule   *Schedule
	Violations []string // broken invariants: the seed fails
	Notes      []string // what happened that is worth reading with a failure
	Attempts   int
	Successes  int
	Conns      int
	Events     map[string]int // faults and situations that happened
	// Usage is, with several receivers, what each attempt reports it did
	// with them (in the order of the attempts).
	Usage []*receivers.Usage
}

// Failed reports whether an invariant was broken.
func (r *Result) Failed() bool { return len(r.Violations) > 0 }

func (r *Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n  %d attempts, %d successes, %d connections", r.Schedule, r.Attempts, r.Successes, r.Conns)
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "\n  VIOLATION: %s", v)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\n  note: %s", n)
	}
	return b.String()
}

// Run runs the schedule of seed in a synctest bubble and checks it.
func Run(t *testing.T, seed uint64) *Result { return RunSchedule(t, NewSchedule(seed)) }

// RunSchedule runs sc in a synctest bubble and checks it.
func RunSchedule(t *testing.T, sc *Schedule) *Result {
	var res *Result
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(sc)
		ranges, err := w.run()
		if err != nil {
			w.violation("%v", err)
		}
		res = w.check(ranges)
	})
	return res
}

// check verifies the invariants over the attempts of the run.
func (w *world) check(ranges []*rangeData) *Result {
	w.mu.Lock()
	defer w.mu.Unlock()
	res := &Result{Schedule: w.sc, Attempts: len(w.attempts), Conns: len(w.links), Events: w.events}
	for _, a := range w.attempts {
		res.Usage = append(res.Usage, a.usage)
	}
	fail := func(format string, args ...any) { w.violations = append(w.violations, fmt.Sprintf(format, args...)) }
	tcp := w.sc.Protocol == "tcp"
	plaintext := w.sc.Protocol != "relp-tls"

	// What reached a socket whole, per attempt and message; and for TCP
	// what a receiver's stack acknowledged (and what of it was never read).
	written := map[int]map[int]int{}
	kernelAcked := map[int]bool{}
	ackedOn := map[int]map[int]bool{} // receiver -> ids it acknowledged
	ackOn := func(recv, id int) {
		if ackedOn[recv] == nil {
			ackedOn[recv] = map[int]bool{}
		}
		ackedOn[recv][id] = true
	}
	for _, l := range w.links {
		for id := range w.storedOn[l.id] {
			ackOn(l.recv, id)
		}
		for id := range w.promisedOn[l.id] {
			ackOn(l.recv, id)
		}
	}
	for _, l := range w.links {
		if l.tap == nil {
			continue
		}
		attempts := map[int]bool{}
		for _, f := range l.tap.frames {
			if f.cmd != "open" && f.attempt >= 0 {
				attempts[f.attempt] = true
			}
		}
		if len(attempts) > 1 {
			w.events["pooled connection reused"]++
		}
		for _, f := range l.tap.frames {
			if f.id < 0 || f.end > l.up.accepted || f.attempt < 0 {
				continue
			}
			if written[f.attempt] == nil {
				written[f.attempt] = map[int]int{}
			}
			written[f.attempt][f.id]++
			if f.end <= l.up.acked {
				kernelAcked[f.id] = true
				if tcp {
					ackOn(l.recv, f.id)
				}
			}
		}
	}
	acknowledged := func(id int) bool {
		return w.stored[id] > 0 || w.promised[id] || tcp && kernelAcked[id]
	}

	for i, a := range w.attempts {
		d := ranges[a.rng]
		c := a.counters
		name := fmt.Sprintf("range %d attempt %d", a.rng, a.try)
		if c.Logs < 0 || c.LogGroups < 0 || c.Bytes < 0 || c.Truncated < 0 || c.Dropped < 0 || c.Resent < 0 ||
			c.Reconnects < 0 || c.BatchesRetried < 0 || a.unconfirmed < 0 {
			fail("%s: a negative count: %+v, unconfirmed %d", name, c, a.unconfirmed)
		}
		if c.Logs > d.want.Logs || c.LogGroups > d.want.LogGroups || c.Bytes > d.want.Bytes ||
			c.Truncated > d.want.Truncated || c.Dropped > d.want.Dropped {
			fail("%s: counted more than the range holds: %+v, the range %+v", name, c, d.want)
		}
		if a.err == nil {
			res.Successes++
			if c.Logs != d.want.Logs || c.LogGroups != d.want.LogGroups || c.Bytes != d.want.Bytes ||
				c.Truncated != d.want.Truncated || c.Dropped != d.want.Dropped || a.unconfirmed != 0 {
				fail("%s answered success with %+v (unconfirmed %d), the range holds %+v", name, c, a.unconfirmed, d.want)
			}
			var lost []int
			for _, m := range d.msgs {
				if !m.dropped && !acknowledged(m.id) {
					lost = append(lost, m.id)
				}
			}
			if len(lost) > 0 {
				fail("%s answered success, but %d of its messages were never acknowledged by a receiver: %v", name, len(lost), head(lost))
			}
		} else {
			// What a failure reports confirmed is a prefix of the range
			// the receivers did acknowledge.
			n := c.Logs
			for _, m := range d.msgs {
				if n == 0 {
					break
				}
				if m.dropped {
					continue
				}
				n--
				if !acknowledged(m.id) {
					fail("%s failed reporting %d logs confirmed, but message %d among them was never acknowledged (%v)", name, c.Logs, m.id, a.err)
					break
				}
			}
		}
		if plaintext {
			var want int64
			for _, k := range written[i] {
				want += int64(max(k-1, 0))
			}
			if c.Resent != want {
				fail("%s: resent %d, but %d messages were written to a socket again", name, c.Resent, want)
			}
		}
	}
	if w.sc.Receivers > 1 {
		w.checkReceivers(ranges, res, ackedOn, fail)
	}
	res.Violations = w.violations
	res.Notes = w.notes
	if len(res.Violations) > 0 {
		res.Notes = append(res.Notes, w.linkNotes()...)
		for i, a := range w.attempts {
			res.Notes = append(res.Notes, fmt.Sprintf("attempt %d: range %d try %d: %+v unconfirmed %d err %v", i, a.rng, a.try, a.counters, a.unconfirmed, a.err))
			if w.sc.Receivers > 1 {
				var seq []string
				for _, u := range w.uses[i] {
					what := "dial failed"
					if u.l != nil {
						what = fmt.Sprintf("link %d (ended at %d)", u.l.id, u.l.ended)
					}
					seq = append(seq, fmt.Sprintf("#%d receiver %d %s", u.seq, u.recv, what))
				}
				res.Notes = append(res.Notes, fmt.Sprintf("  health at start %+v; usage %+v; uses %v", a.health, a.usage, seq))
			}
		}
	}
	return res
}

func head(ids []int) []int { return ids[:min(len(ids), 10)] }

// checkReceivers verifies, with several receivers, that each range stayed
// on one receiver unless a delivery on it failed mid-range, that the
// switches stayed within receivers × max(SYSLOG_MAX_RETRIES, 1), that
// what each attempt reports each receiver took that receiver did
// acknowledge, and that a failover range starts on the first receiver
// that is up. w.mu is held.
func (w *world) checkReceivers(ranges []*rangeData, res *Result, ackedOn map[int]map[int]bool, fail func(string, ...any)) {
	maxSwitches := w.sc.Receivers * max(w.sc.MaxRetries, 1)
	wasDown := map[int]bool{}
	succeededOn := map[int]bool{}
	for i, a := range w.attempts {
		name := fmt.Sprintf("range %d attempt %d", a.rng, a.try)
		uses := w.uses[i]
		changes := 0
		for k := 1; k < len(uses); k++ {
			prev, cur := uses[k-1], uses[k]
			if prev.recv == cur.recv {
				continue
			}
			changes++
			if prev.l != nil && (prev.l.ended == 0 || prev.l.ended > cur.seq) {
				fail("%s moved from receiver %d to %d while its connection to %d (link %d) was up: a range changes receiver only when its receiver fails",
					name, prev.recv, cur.recv, prev.recv, prev.l.id)
			}
		}
		if changes > 0 {
			w.events["switched receiver mid-range"]++
			if a.err == nil {
				w.events["switched receiver mid-range and succeeded"]++
			}
		}
		if changes > int(a.counters.Reconnects) {
			fail("%s changed receivers %d times with %d failed connections: a range changes receiver only after a failure", name, changes, a.counters.Reconnects)
		}
		if changes > maxSwitches {
			fail("%s switched receivers %d times, more than %d receivers × max(retries %d, 1)", name, changes, w.sc.Receivers, w.sc.MaxRetries)
		}
		if errors.Is(a.err, receivers.ErrTooManySwitches) {
			w.events["failed past the switch bound"]++
		}
		u := a.usage
		if u == nil {
			fail("%s reports no receiver usage with %d receivers", name, w.sc.Receivers)
			continue
		}
		// A switch writes nothing when the batches after it hold only
		// dropped messages: the route may count more switches than seen.
		if u.Switches < changes || u.Switches > maxSwitches {
			fail("%s reports %d switches; %d were seen (at most %d are allowed)", name, u.Switches, changes, maxSwitches)
		}
		if u.ResentAfterSwitch < 0 || u.ResentAfterSwitch > a.counters.Resent || u.Switches == 0 && u.ResentAfterSwitch != 0 {
			fail("%s reports %d resent after a switch, %d resent, %d switches", name, u.ResentAfterSwitch, a.counters.Resent, u.Switches)
		}
		var sum int64
		d := ranges[a.rng]
		for _, sh := range u.Logs {
			sum += sh.Logs
			recv := w.receiverOf(sh.Receiver)
			var acked int64
			for _, m := range d.msgs {
				if !m.dropped && ackedOn[recv][m.id] {
					acked++
				}
			}
			if sh.Logs < 0 || sh.Logs > acked {
				fail("%s reports %d logs taken by receiver %d, which acknowledged %d of the range's", name, sh.Logs, recv, acked)
			}
			if a.err == nil && sh.Logs > 0 {
				succeededOn[recv] = true
			}
		}
		if sum != a.counters.Logs {
			fail("%s reports %d logs over its receivers (%+v), %d in all", name, sum, u.Logs, a.counters.Logs)
		}
		// Health: a failover range starts on the first receiver up when
		// it began (or an earlier one a probe brought up meanwhile).
		firstUp := -1
		for k, st := range a.health {
			if st.Up && firstUp < 0 {
				firstUp = k
			}
			if !st.Up {
				wasDown[k] = true
			} else if wasDown[k] {
				w.events["receiver up again after being found down"]++
				wasDown[k] = false
			}
		}
		if len(uses) > 0 && firstUp >= 0 {
			if w.sc.Balance == "failover" && uses[0].recv > firstUp {
				fail("%s started on receiver %d, but receiver %d, earlier in the list, was up", name, uses[0].recv, firstUp)
			}
			someDown := false
			for _, st := range a.health {
				someDown = someDown || !st.Up
			}
			if someDown && a.health[uses[0].recv].Up {
				w.events["started on a healthy receiver, skipping one found down"]++
			}
		}
	}
	if len(succeededOn) > 1 {
		w.events["ranges of one run delivered to several receivers"]++
	}
}

// Search runs the seeds from first on until found holds for a result, or
// budget has passed. It returns that result (nil when none) and how many
// seeds ran. The planted-bug tests use it.
func Search(t *testing.T, first uint64, budget time.Duration, found func(*Result) bool) (*Result, int) {
	start := time.Now()
	n := 0
	for seed := first; time.Since(start) < budget; seed++ {
		res := Run(t, seed)
		n++
		if found(res) {
			return res, n
		}
	}
	return nil, n
}

// Broke reports whether a violation names what.
func (r *Result) Broke(what string) bool {
	for _, v := range r.Violations {
		if strings.Contains(v, what) {
			return true
		}
	}
	return false
}

// linkNotes describes every link, for a failing seed's report.
func (w *world) linkNotes() []string {
	var out []string
	for _, l := range w.links {
		tapped, broken := 0, false
		if l.tap != nil {
			tapped, broken = len(l.tap.frames), l.tap.broken
		}
		out = append(out, fmt.Sprintf("link %d to receiver %d (probe %v): plan %+v; up accepted %d acked %d read %d; %d frames tapped (broken %v); %d kept; reset %v",
			l.id, l.recv, l.probe, l.plan, l.up.accepted, l.up.acked, l.up.read, tapped, broken, len(w.storedOn[l.id]), l.reset))
	}
	return out
}
