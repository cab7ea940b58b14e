package sim

import (
	"flag"
	"maps"
	"slices"
	"testing"
	"time"
)

var (
	seedFlag  = flag.Uint64("seed", 0, "replay only this seed, verbosely (go test -run Sim -seed N)")
	seedCount = flag.Int("sim.seeds", 0, "run this many seeds instead of the time budget (make sim SEEDS=N)")
	firstSeed = flag.Uint64("sim.first", 0, "first seed of the run (0: drawn from the clock)")
	budget    = flag.Duration("sim.budget", 0, "time TestSim spends on new seeds (default 45s, 6s under -race)")
	replays   = flag.Int("sim.replays", 20, "times -seed is replayed (goroutines that run at the same simulated instant interleave as the scheduler runs them)")
)

// runBudget is TestSim's time budget.
func runBudget() time.Duration {
	switch {
	case *budget > 0:
		return *budget
	case raceEnabled:
		return 6 * time.Second
	}
	return 45 * time.Second
}

// regressionSeeds are seeds that broke an invariant with a bug since
// fixed: each runs as a regression test (TestSimRegressions). A seed means
// something only with the generator it was drawn from (NewSchedule,
// plan): the first bugs were found with an earlier one and are kept as
// hand-written scenarios (TestSimScenarios), which do not depend on it.
var regressionSeeds = []uint64{
	3678, // the RELP reader waited for a write before taking an answer to a frame already written, and took a lie as written
}

// TestSim runs fresh schedules until the budget is spent (or -sim.seeds
// of them), or replays -seed. Every failing seed is printed with its
// schedule and what it broke.
func TestSim(t *testing.T) {
	if *seedFlag != 0 {
		for i := range *replays {
			res := Run(t, *seedFlag)
			if res.Failed() || i == 0 {
				t.Log(res)
			}
			if res.Failed() {
				t.Fatalf("seed %d failed on replay %d", *seedFlag, i+1)
			}
		}
		return
	}
	first := *firstSeed
	if first == 0 {
		first = uint64(time.Now().UnixNano())%1_000_000_000 + 1
	}
	start := time.Now()
	var n, failed int
	events := map[string]int{}
	for seed := first; ; seed++ {
		if *seedCount > 0 && n >= *seedCount || *seedCount == 0 && time.Since(start) > runBudget() {
			break
		}
		res := Run(t, seed)
		n++
		for e, k := range res.Events {
			events[e] += k
		}
		if res.Failed() {
			failed++
			t.Errorf("seed %d broke the delivery invariants (replay: go test ./internal/delivery/sim -run 'TestSim$' -seed %d -v):\n%s", seed, seed, res)
			if failed >= 5 {
				break
			}
		}
	}
	t.Logf("%d schedules (seeds %d..%d) in %v, %d failed", n, first, first+uint64(n)-1, time.Since(start).Round(time.Millisecond), failed)
	names := slices.Sorted(maps.Keys(events))
	for _, e := range names {
		t.Logf("  %7d  %s", events[e], e)
	}
	// Every fault of the schedule space must have happened: a run that
	// never reaches one proves nothing about it.
	if n >= minSchedulesForCoverage && !raceEnabled {
		for _, e := range requiredEvents {
			if events[e] == 0 {
				t.Errorf("%d schedules and never %q: the schedules do not cover it", n, e)
			}
		}
	}
}

// minSchedulesForCoverage is how many schedules must see every event of
// requiredEvents.
const minSchedulesForCoverage = 1000

// requiredEvents are the faults and situations of issue 22's list and of issue 20's (several receivers).
var requiredEvents = []string{
	"reset at a byte offset", "halfclose at a byte offset", "close at a byte offset", "stall at a byte offset",
	"ack delayed past the write timeout", "answers split across reads", "taken and discarded", "rsp 500",
	"serverclose", "protocol violation", "acknowledged a TXNR never received", "pooled connection reused",
	"deadline expired mid-range", "dial refused", "dial unanswered", "accepted then closed", "open answered 500",
	"slow socket write", "range retried",
	// Several receivers (issue 20).
	"receiver down: down from the start", "receiver down: killed mid-run", "receiver down: flapping",
	"receiver killed with connections open", "receiver never acknowledges", "switched receiver mid-range and succeeded",
	"started on a healthy receiver, skipping one found down", "receiver up again after being found down",
	"ranges of one run delivered to several receivers",
}

// TestSimRegressions replays the seeds that once failed.
func TestSimRegressions(t *testing.T) {
	for _, seed := range regressionSeeds {
		if res := Run(t, seed); res.Failed() {
			t.Errorf("regression seed %d:\n%s", seed, res)
		}
	}
}
