//go:build !race

// The delivery simulator costs several times more under the race detector:
// `make test` runs the planted-bug tests without it (see the Makefile).

package relp_test

import (
	"testing"
	"time"

	"sls2siem/internal/delivery/sim"
	"sls2siem/internal/relp"
)

// TestSimFindsPlantedEarlyAck plants issue 22's first bug (an answer
// counted for a frame still in the write buffer) and asserts that the
// delivery simulator finds it: a range answered success with a message
// no receiver acknowledged.
func TestSimFindsPlantedEarlyAck(t *testing.T) {
	*relp.PlantAckUnflushed = true
	defer func() { *relp.PlantAckUnflushed = false }()
	res, n := sim.Search(t, 1, 15*time.Second, func(r *sim.Result) bool { return r.Broke("never acknowledged") })
	if res == nil {
		t.Fatalf("the simulator ran %d schedules without finding the planted early acknowledgement", n)
	}
	t.Logf("found after %d schedules:\n%s", n, res)
}
