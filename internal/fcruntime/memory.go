package fcruntime

import (
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
