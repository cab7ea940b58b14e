//go:build !race

// The delivery simulator costs several times more under the race detector:
// `make test` runs the planted-bug tests without it (see the Makefile).

package ship_test

import (
	"testing"
	"time"

	"sls2siem/internal/delivery/sim"
	"sls2siem/internal/ship"
)

// TestSimFindsPlantedPooledStart plants issue 22's second bug (a batch's
// start position read before the session took its pooled connection, so
// a partial acknowledgement confirmed more than the batch and the resend
// skipped unacknowledged messages) and asserts that the delivery
// simulator finds it.
func TestSimFindsPlantedPooledStart(t *testing.T) {
	*ship.PlantStartBeforeConnect = true
	defer func() { *ship.PlantStartBeforeConnect = false }()
	res, n := sim.Search(t, 1, 15*time.Second, func(r *sim.Result) bool { return r.Failed() })
	if res == nil {
		t.Fatalf("the simulator ran %d schedules without finding the planted start position", n)
	}
	t.Logf("found after %d schedules:\n%s", n, res)
}
