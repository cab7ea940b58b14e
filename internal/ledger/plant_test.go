//go:build !race

// The delivery simulator costs several times more under the race detector:
// `make test` runs the planted-bug tests without it (see the Makefile).

package ledger_test

import (
	"testing"
	"time"

	"sls2siem/internal/delivery/sim"
	"sls2siem/internal/ledger"
)

// TestSimFindsPlantedOldAccount plants issue 22's third bug (the ledger's
// old account: partial confirmations without bound, resent taken as
// everything pending at a failure, written or not) and asserts that the
// delivery simulator finds resent wrong.
func TestSimFindsPlantedOldAccount(t *testing.T) {
	*ledger.PlantOldAccount = true
	defer func() { *ledger.PlantOldAccount = false }()
	res, n := sim.Search(t, 1, 15*time.Second, func(r *sim.Result) bool { return r.Broke("resent") })
	if res == nil {
		t.Fatalf("the simulator ran %d schedules without finding the planted account", n)
	}
	t.Logf("found after %d schedules:\n%s", n, res)
}
