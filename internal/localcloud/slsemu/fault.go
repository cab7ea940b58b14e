package slsemu

import (
	"context"
	"time"
)

// Fault makes matching requests fail, or slows them down, after they have
// been authenticated.
type Fault struct {
	// Op is the operation to match (OpListShards, OpGetCursor,
	// OpGetCursorTime, OpPullLogs, OpPutLogs); "" matches any.
	Op string
	// Project and Logstore restrict the match; "" matches any.
	Project, Logstore string
	// Status, Code and Message make the error answered. If Status is 0 the
	// request is only delayed and then served normally. Code defaults to
	// InternalServerError and Message to a fixed text.
	Status        int
	Code, Message string
	// Times is how many matching requests the fault applies to: 0 means
	// one, a negative value means all until ClearFaults.
	Times int
	// Delay is waited before answering (or serving) the request.
	Delay time.Duration
}

// InjectFault adds f. Faults are tried in the order they were injected; the
// first that matches a request applies to it.
func (s *Server) InjectFault(f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	if f.Status != 0 && f.Code == "" {
		f.Code = codeInternalServerError
	}
	if f.Status != 0 && f.Message == "" {
		f.Message = "Injected fault."
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = append(s.faults, &f)
	s.nFaults.Store(int32(len(s.faults)))
}

// ClearFaults removes all injected faults.
func (s *Server) ClearFaults() {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = nil
	s.nFaults.Store(0)
}

// takeFault consumes one use of the first fault matching the request.
func (s *Server) takeFault(op, project, logstore string) (Fault, bool) {
	if s.nFaults.Load() == 0 {
		return Fault{}, false
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	for i, f := range s.faults {
		if (f.Op != "" && f.Op != op) || (f.Project != "" && f.Project != project) || (f.Logstore != "" && f.Logstore != logstore) {
			continue
		}
		taken := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
				s.nFaults.Store(int32(len(s.faults)))
			}
		}
		return taken, true
	}
	return Fault{}, false
}

// applyFault delays or fails the request if a fault matches it.
func (s *Server) applyFault(ctx context.Context, op, project, logstore string) *apiError {
	f, ok := s.takeFault(op, project, logstore)
	if !ok {
		return nil
	}
	if f.Delay > 0 {
		sleepCtx(ctx, f.Delay)
	}
	if f.Status == 0 {
		return nil
	}
	return &apiError{status: f.Status, code: f.Code, message: f.Message}
}

// count records one request of op.
func (s *Server) count(op string) {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	s.requests[op]++
}

// Requests returns how many requests of op (OpPullLogs, …) the server has
// received, whatever their outcome. Op "" counts all requests.
func (s *Server) Requests(op string) int {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	if op != "" {
		return s.requests[op]
	}
	total := 0
	for _, n := range s.requests {
		total += n
	}
	return total
}
