package sim

import (
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"
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
	fail := func(format string, args ...any) { w.violations = append(w.violations, fmt.Sprintf(format, args...)) }
	tcp := w.sc.Protocol == "tcp"
	plaintext := w.sc.Protocol != "relp-tls"

	// What reached a socket whole, per attempt and message; and for TCP
	// what a receiver's stack acknowledged (and what of it was never read).
	written := map[int]map[int]int{}
	kernelAcked := map[int]bool{}
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
	res.Violations = w.violations
	res.Notes = w.notes
	if len(res.Violations) > 0 {
		res.Notes = append(res.Notes, w.linkNotes()...)
		for i, a := range w.attempts {
			res.Notes = append(res.Notes, fmt.Sprintf("attempt %d: range %d try %d: %+v unconfirmed %d err %v", i, a.rng, a.try, a.counters, a.unconfirmed, a.err))
		}
	}
	return res
}

func head(ids []int) []int { return ids[:min(len(ids), 10)] }

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
		out = append(out, fmt.Sprintf("link %d: plan %+v; up accepted %d acked %d read %d; %d frames tapped (broken %v); %d kept; reset %v",
			l.id, l.plan, l.up.accepted, l.up.acked, l.up.read, tapped, broken, len(w.storedOn[l.id]), l.reset))
	}
	return out
}
