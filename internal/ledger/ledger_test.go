package ledger

import (
	"errors"
	"testing"
)

func entry(cursor string, logs int64, end uint64) Entry {
	return Entry{Cursor: cursor, Logs: logs, Groups: 1, Truncated: logs / 10, End: end, Whole: true}
}

// frames is a whole batch of n messages at positions [start, start+n).
func frames(cursor string, skip int64, start, n uint64) Entry {
	return Entry{Cursor: cursor, Skip: skip, Logs: int64(n), Groups: 1, Start: start, End: start + n, Whole: true}
}

// sent records e and that every message handed so far reached the socket.
func sent(l *Ledger, e Entry) {
	l.Sent(e)
	l.Flushed(l.connLogs)
}

func TestPartialConfirmationResumesInsideTheBatch(t *testing.T) {
	l := New(3)
	sent(l, frames("c0", 0, 0, 100))
	sent(l, frames("c1", 0, 100, 100))
	if !l.ConfirmMessages(130) {
		t.Fatal("130 of 200 frames acknowledged: no progress reported")
	}
	if got := l.Counters().Logs; got != 130 {
		t.Fatalf("confirmed %d logs, want 130", got)
	}
	if l.Unconfirmed() != 70 {
		t.Fatalf("unconfirmed %d, want 70", l.Unconfirmed())
	}
	if l.ConfirmMessages(130) {
		t.Fatal("the same position reported progress twice")
	}
	resume, skip, err := l.Fail("c2")
	if err != nil || resume != "c1" || skip != 30 {
		t.Fatalf("Fail = %q skip %d %v; want c1 skipping 30", resume, skip, err)
	}
	if l.Counters().Resent != 0 || l.Counters().Logs != 130 || l.Counters().LogGroups != 1 {
		t.Fatalf("resent %d confirmed %+v; want nothing resent yet, 130 logs in 1 whole group", l.Counters().Resent, l.Counters())
	}
	// The resend: c1 again, its first 30 skipped, on a new connection.
	sent(l, frames("c1", 30, 0, 70))
	if l.Counters().Resent != 70 || l.Counters().BatchesRetried != 1 {
		t.Fatalf("after the resend: %+v, want 70 resent in 1 batch", l.Counters())
	}
	l.ConfirmMessages(20)
	resume, skip, _ = l.Fail("c2")
	if resume != "c1" || skip != 50 {
		t.Fatalf("second Fail = %q skip %d; want c1 skipping 50", resume, skip)
	}
	sent(l, frames("c1", 50, 0, 50))
	l.ConfirmMessages(50)
	if got := l.Counters(); got.Logs != 200 || got.LogGroups != 2 {
		t.Fatalf("confirmed %+v, want all 200 logs in 2 groups, each once", got)
	}
	if l.Counters().Resent != 70+50 {
		t.Fatalf("resent %d, want 120", l.Counters().Resent)
	}
}

func TestConfirmByPosition(t *testing.T) {
	l := New(3)
	sent(l, entry("c0", 10, 100))
	sent(l, entry("c1", 20, 300))
	sent(l, entry("c2", 30, 600))
	if l.Confirm(99) {
		t.Fatal("a position before the first batch's end confirmed it")
	}
	if !l.Confirm(300) {
		t.Fatal("position 300 confirmed nothing")
	}
	if got := l.Counters(); got.Logs != 30 || got.LogGroups != 2 || got.Truncated != 3 {
		t.Fatalf("confirmed %+v, want 30 logs in 2 groups, 3 truncated", got)
	}
	if l.Unconfirmed() != 30 {
		t.Fatalf("unconfirmed %d, want 30", l.Unconfirmed())
	}
	if l.Confirm(300) {
		t.Fatal("the same position confirmed again")
	}
	if !l.ConfirmAll() || l.Counters().Logs != 60 || l.Unconfirmed() != 0 {
		t.Fatalf("after ConfirmAll: %+v, %d unconfirmed", l.Counters(), l.Unconfirmed())
	}
	if l.ConfirmAll() {
		t.Fatal("ConfirmAll with nothing pending reported progress")
	}
}

func TestFailResumesAtFirstUnconfirmedBatch(t *testing.T) {
	l := New(3)
	sent(l, entry("c0", 10, 100))
	sent(l, entry("c1", 20, 300))
	l.Confirm(100)
	sent(l, Entry{Cursor: "c2", Logs: 5, Start: 300, End: 350}) // c2 failed part-way: 5 of its logs went out
	resume, _, err := l.Fail("c3")
	if err != nil {
		t.Fatal(err)
	}
	if resume != "c1" {
		t.Fatalf("resume at %q, want c1 (the first unconfirmed batch)", resume)
	}
	if l.Counters().Resent != 0 || l.Counters().Reconnects != 1 {
		t.Fatalf("resent %d reconnects %d, want 0 (nothing written again yet) and 1", l.Counters().Resent, l.Counters().Reconnects)
	}
	if l.Unconfirmed() != 0 || l.Counters().Logs != 10 {
		t.Fatalf("after Fail: unconfirmed %d confirmed %d", l.Unconfirmed(), l.Counters().Logs)
	}
	// The resend writes c1 (20) and c2 (40, of which 5 went out before):
	// 25 of its messages reach the socket a second time.
	sent(l, entry("c1", 20, 200))
	sent(l, entry("c2", 40, 600))
	if c := l.Counters(); c.Resent != 25 || c.BatchesRetried != 2 {
		t.Fatalf("after the resend: %+v, want 25 resent (c1's 20 and 5 of c2) in 2 batches", c)
	}
}

func TestFailWithNothingPendingResumesAtTheFailedBatch(t *testing.T) {
	l := New(1)
	sent(l, entry("c0", 10, 100))
	l.ConfirmAll()
	resume, _, err := l.Fail("c1")
	if err != nil || resume != "c1" || l.Counters().Resent != 0 {
		t.Fatalf("Fail = %q, %v, resent %d; want c1, nil, 0", resume, err, l.Counters().Resent)
	}
}

func TestRetryBudgetResetsOnlyOnConfirmedProgress(t *testing.T) {
	l := New(2)
	// A receiver that takes bytes into its socket but never confirms:
	// every connection fails, and writes alone do not reset the count.
	for i := 0; i < 2; i++ {
		sent(l, entry("c0", 10, 100))
		if _, _, err := l.Fail("c1"); err != nil {
			t.Fatalf("failure %d refused: %v", i+1, err)
		}
	}
	sent(l, entry("c0", 10, 100))
	_, _, err := l.Fail("c1")
	if !errors.Is(err, ErrRetriesExhausted) {
		t.Fatalf("third failure in a row without progress: %v, want ErrRetriesExhausted", err)
	}
	if l.Counters().Reconnects != 2 || l.Counters().Resent != 20 {
		t.Fatalf("retries %d resent %d, want 2 and 20 (the refused retry counts nothing)", l.Counters().Reconnects, l.Counters().Resent)
	}

	// Confirmed progress between failures resets the count.
	l = New(1)
	for i := 0; i < 5; i++ {
		sent(l, entry("c", 10, uint64(100*(i+1))))
		l.Confirm(uint64(100 * (i + 1)))
		if _, _, err := l.Fail("next"); err != nil {
			t.Fatalf("failure %d after confirmed progress refused: %v", i+1, err)
		}
	}
	if l.Failures() != 1 || l.Counters().Reconnects != 5 || l.Counters().Resent != 0 {
		t.Fatalf("failures %d retries %d resent %d, want 1, 5, 0", l.Failures(), l.Counters().Reconnects, l.Counters().Resent)
	}
}

func TestZeroRetries(t *testing.T) {
	l := New(0)
	sent(l, entry("c0", 3, 10))
	if _, _, err := l.Fail("c1"); !errors.Is(err, ErrRetriesExhausted) {
		t.Fatalf("SYSLOG_MAX_RETRIES=0 allowed a retry: %v", err)
	}
	if l.Counters().Resent != 0 || l.Counters().Reconnects != 0 {
		t.Fatal("a refused retry was counted")
	}
}

// TestPooledConnectionPositions: a pooled connection arrives with frames
// of earlier ranges behind it; positions are the connection's own, and a
// partial acknowledgement never confirms more than the batch holds.
func TestPooledConnectionPositions(t *testing.T) {
	l := New(3)
	sent(l, frames("c0", 0, 5000, 100)) // the connection had carried 5000 frames before
	if !l.ConfirmMessages(5030) {
		t.Fatal("30 of the batch's frames acknowledged: no progress")
	}
	if got := l.Counters().Logs; got != 30 {
		t.Fatalf("confirmed %d logs, want 30", got)
	}
	resume, skip, err := l.Fail("c1")
	if err != nil || resume != "c0" || skip != 30 {
		t.Fatalf("Fail = %q skip %d %v; want c0 skipping 30", resume, skip, err)
	}
	if l.Unconfirmed() != 0 || l.Counters().Resent != 0 {
		t.Fatalf("after Fail: unconfirmed %d, %+v", l.Unconfirmed(), l.Counters())
	}
}

// TestBatchCutShortIsNeverConfirmedWhole: a batch whose write failed
// part-way is confirmed only as far as its acknowledged messages, however
// far the position got; the resend resumes inside it.
func TestBatchCutShortIsNeverConfirmedWhole(t *testing.T) {
	l := New(3)
	// 40 messages handed, the 41st frame failed (it counts in the position).
	l.Sent(Entry{Cursor: "c0", Logs: 40, Groups: 2, Bytes: 9000, Start: 10, End: 51})
	l.Flushed(40)
	l.ConfirmMessages(51)
	if c := l.Counters(); c.Logs != 40 || c.LogGroups != 0 || c.Bytes != 0 {
		t.Fatalf("confirmed %+v; want the 40 written logs, the batch not whole", c)
	}
	resume, skip, err := l.Fail("c1")
	if err != nil || resume != "c0" || skip != 40 {
		t.Fatalf("Fail = %q skip %d %v; want c0 skipping 40", resume, skip, err)
	}
	l.Sent(Entry{Cursor: "c0", Skip: 40, Logs: 60, Groups: 2, Bytes: 20000, End: 60, Whole: true})
	l.Flushed(60)
	l.ConfirmMessages(60)
	if c := l.Counters(); c.Logs != 100 || c.LogGroups != 2 || c.Bytes != 20000 || c.Resent != 0 {
		t.Fatalf("after the resend: %+v; want 100 logs, 2 groups, 20000 bytes, nothing resent", c)
	}
}

// TestResentCountsOnlyWhatReachedTheSocket: messages handed to the
// connection but still buffered when it failed are written for the first
// time by the resend.
func TestResentCountsOnlyWhatReachedTheSocket(t *testing.T) {
	l := New(5)
	l.Sent(frames("c0", 0, 0, 100))
	l.Flushed(60) // 40 were still in the write buffer
	if _, _, err := l.Fail("c1"); err != nil {
		t.Fatal(err)
	}
	l.Sent(frames("c0", 0, 0, 100))
	l.Flushed(30)
	if got := l.Counters().Resent; got != 30 {
		t.Fatalf("resent %d after 30 of 60 written again, want 30", got)
	}
	l.Flushed(100)
	if got := l.Counters().Resent; got != 60 {
		t.Fatalf("resent %d, want 60: the last 40 reached the socket for the first time", got)
	}
	l.Flushed(50) // the count only grows
	if got := l.Counters().Resent; got != 60 {
		t.Fatalf("resent %d after a smaller count, want 60", got)
	}
}

// TestFailAfterTheFailedBatchWasConfirmed: a batch whose write reported a
// failure (the session broke after the receiver had answered all of it) is
// confirmed whole; the resend starts after it (Fail is given the next
// batch's cursor), so it is neither written nor counted twice. The
// delivery simulator found the double count.
func TestFailAfterTheFailedBatchWasConfirmed(t *testing.T) {
	l := New(3)
	sent(l, frames("c0", 0, 0, 10))
	l.ConfirmMessages(10)
	resume, skip, err := l.Fail("c1")
	if err != nil || resume != "c1" || skip != 0 {
		t.Fatalf("Fail = %q skip %d %v; want c1, the batch after the confirmed one", resume, skip, err)
	}
	if c := l.Counters(); c.Logs != 10 || c.LogGroups != 1 {
		t.Fatalf("counters %+v, want the batch once", c)
	}
}
