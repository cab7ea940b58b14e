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

// TestSimFindsPlantedSwitchSkipsUnconfirmed plants a switch that claims
// early (the next receiver resumes after what the failed one was handed)
// and asserts that the simulator finds a range answered success with
// messages no receiver acknowledged.
func TestSimFindsPlantedSwitchSkipsUnconfirmed(t *testing.T) {
	*ship.PlantSwitchSkipsUnconfirmed = true
	defer func() { *ship.PlantSwitchSkipsUnconfirmed = false }()
	res, n := sim.Search(t, 1, 20*time.Second, func(r *sim.Result) bool { return r.Broke("never acknowledged by a receiver") })
	if res == nil {
		t.Fatalf("the simulator ran %d schedules without finding the planted switch", n)
	}
	t.Logf("found after %d schedules:\n%s", n, res)
}

// TestSimFindsPlantedReceiverPerBatch plants ranges that change receivers
// without a failure and asserts that the simulator finds them.
func TestSimFindsPlantedReceiverPerBatch(t *testing.T) {
	*ship.PlantReceiverPerBatch = true
	defer func() { *ship.PlantReceiverPerBatch = false }()
	res, n := sim.Search(t, 1, 20*time.Second, func(r *sim.Result) bool { return r.Broke("changes receiver only") })
	if res == nil {
		t.Fatalf("the simulator ran %d schedules without finding the planted per-batch switch", n)
	}
	t.Logf("found after %d schedules:\n%s", n, res)
}
