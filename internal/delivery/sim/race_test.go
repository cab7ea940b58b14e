//go:build race

package sim

// raceEnabled: under the race detector a schedule costs several times
// more; TestSim then spends its short race budget checking the delivery
// core's goroutines for races, and `make test` runs the schedules
// proper without it (see the Makefile).
const raceEnabled = true
