package fcruntime

import (
	"math"
	"os"
	"runtime/debug"
	"strconv"
)

// memoryShare is the part of the function's memory the Go heap may use
// before the garbage collector works harder: the rest is for the binary,
// stacks, socket and HTTP buffers.
const memoryShare = 40

// LimitMemory sets Go's soft memory limit from the function's memory size
// (FC_FUNCTION_MEMORY_SIZE, in MB) unless GOMEMLIMIT is set, so that an
// instance stays well inside its memory instead of being killed by FC. It
// returns the limit set, or 0.
func LimitMemory() int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	mb, err := strconv.Atoi(os.Getenv("FC_FUNCTION_MEMORY_SIZE"))
	if err != nil || mb <= 0 {
		return 0
	}
	limit := int64(mb) << 20 * memoryShare / 100
	debug.SetMemoryLimit(limit)
	return limit
}

// batchShare is the part of Go's soft memory limit that pulled batches may
// reserve (logstore.Budget): the rest is for the encoders, the buffers and
// the garbage collector's headroom (a live heap near the limit makes the
// collector run without pause).
const batchShare = 40

// BatchMemory returns the budget of pulled batches shared by all
// invocations in flight: 40 % of Go's soft memory limit (set from
// FC_FUNCTION_MEMORY_SIZE by LimitMemory, or GOMEMLIMIT), or 256 MiB
// without a limit.
func BatchMemory() int64 {
	limit := debug.SetMemoryLimit(-1) // reads the limit without changing it
	if limit <= 0 || limit == math.MaxInt64 {
		return 0 // logstore.DefaultBudget
	}
	return limit / 100 * batchShare
}
