package sim

import (
	"testing"
	"time"
)

// clean is a connection plan without faults.
func clean() connPlan {
	return connPlan{latency: time.Millisecond, sndBuf: 256 << 10, rcvBuf: 256 << 10,
		resetAt: -1, halfCloseAt: -1, stallAt: -1, closeAt: -1, discardFrom: -1, refuseAt: -1, serverCloseAt: -1, violateAt: -1}
}

// base is a schedule without faults, for the scenarios to adjust.
func base(protocol string, ranges ...Range) *Schedule {
	return &Schedule{Protocol: protocol, Window: 128, MaxRetries: 3, Backoff: 10 * time.Millisecond,
		WriteTimeout: time.Second, DialTimeout: time.Second, IdleTimeout: time.Minute, MaxMessageSize: 480,
		InvocationTimeout: time.Minute, Ranges: ranges, plans: map[int]connPlan{}}
}

func sizes(n, size int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = size
	}
	return s
}

// TestSimScenarios replays, as hand-written schedules that do not depend
// on the seed generator, the situations in which the simulator found bugs.
func TestSimScenarios(t *testing.T) {
	t.Run("a batch whose write failed after the receiver confirmed all of it", func(t *testing.T) {
		// The first batch is answered, then the receiver closes the
		// session (serverclose); the second batch holds only messages
		// too long for SYSLOG_OVERSIZE=drop: nothing to write, and the
		// flush reports the closed session. The batch was resent whole
		// and counted twice.
		sc := base("relp", Range{PullCount: 1, Groups: [][]int{{50, 50}, {2000, 2000, 2000}, {50}}})
		sc.Drop, sc.PullDelay = true, 50*time.Millisecond
		p := clean()
		p.serverCloseAt = 1
		sc.plans[1] = p
		sc.plans[2] = clean()
		if res := RunSchedule(t, sc); res.Failed() || res.Conns != 2 {
			t.Fatalf("want the range delivered once over 2 connections:\n%s", res)
		}
	})
	t.Run("a lie read after an answer that waited for a write", func(t *testing.T) {
		// Answers to frames already written arrive while a slow socket
		// write is in progress; the liar's answer follows in a later read.
		// The reader waited for the write before taking the first answer
		// and took the lie with a view in which the lied frame was written.
		sc := base("relp", Range{PullCount: 4, Groups: [][]int{sizes(60, 5000)}})
		sc.MaxMessageSize = 8192
		p := clean()
		p.lie, p.slowWrites, p.slowFor, p.ackDelay, p.latency = true, 1, 200*time.Millisecond, time.Millisecond, 4*time.Millisecond
		sc.plans[1] = p
		res := RunSchedule(t, sc)
		if res.Failed() || res.Events["acknowledged a TXNR never received"] == 0 {
			t.Fatalf("want the lie told and rejected:\n%s\n%v", res, res.Events)
		}
	})
}
