package fcruntime

import (
	"net/http"
	"strconv"
	"time"
)

// Deadline headers. FC 3.0's custom runtime documents neither (Context and
// log format, https://www.alibabacloud.com/help/en/functioncompute/fc-3-0/user-guide/context-and-log-format-1,
// lists the request id, credentials, handler, memory, region, account,
// qualifier, version, function name, log project and logstore); the go1
// runtime API always carries both (fc-runtime-go-sdk drops an invocation
// without them), and a real capture of the custom runtime shows
// x-fc-function-timeout. They are used when present, never required.
const (
	hdrDeadline = "x-fc-function-deadline" // epoch milliseconds
	hdrTimeout  = "x-fc-function-timeout"  // seconds
)

// Deadline returns the deadline of an invocation that arrived at arrived:
// the earliest of what FC said (fcDeadline, zero if nothing) and arrived +
// timeout, the function's timeout as configured (s.yaml's timeout, which
// s.yaml passes to the function in SHIP_FUNCTION_TIMEOUT; 0 if unknown).
// FC counts its timeout from before the request reaches the function, so
// the second is a little late: SHIP_DEADLINE_MARGIN covers it. Zero when
// neither is known.
func Deadline(fcDeadline, arrived time.Time, timeout time.Duration) time.Time {
	d := fcDeadline
	if timeout > 0 {
		if own := arrived.Add(timeout); d.IsZero() || own.Before(d) {
			d = own
		}
	}
	return d
}

// headerDeadline reads the deadline a custom-runtime request carries:
// x-fc-function-deadline (epoch ms) if present, else arrived +
// x-fc-function-timeout; zero for neither.
func headerDeadline(h http.Header, arrived time.Time) time.Time {
	if ms, err := strconv.ParseInt(h.Get(hdrDeadline), 10, 64); err == nil && ms > 0 {
		return time.UnixMilli(ms)
	}
	if s, err := strconv.Atoi(h.Get(hdrTimeout)); err == nil && s > 0 {
		return arrived.Add(time.Duration(s) * time.Second)
	}
	return time.Time{}
}
