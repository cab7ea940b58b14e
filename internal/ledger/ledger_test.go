package ledger

import (
	"errors"
	"testing"
)

func entry(cursor string, logs int64, end uint64) Entry {
	return Entry{Cursor: cursor, Logs: logs, Groups: 1, Truncated: logs / 10, End: end}
}

// frames is a batch of n messages at positions [start, start+n).
func frames(cursor string, skip int64, start, n uint64) Entry {
	return Entry{Cursor: cursor, Skip: skip, Logs: int64(n), Groups: 1, Start: start, End: start + n}
}

func TestPartialConfirmationResumesInsideTheBatch(t *testing.T) {
	l := New(3)
	l.Sent(frames("c0", 0, 0, 100))
	l.Sent(frames("c1", 0, 100, 100))
	if !l.ConfirmMessages(130) {
		t.Fatal("130 of 200 frames acknowledged: no progress reported")
	}
	if got := l.Confirmed().Logs; got != 130 {
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
	if l.Resent() != 70 || l.Confirmed().Logs != 130 || l.Confirmed().Groups != 1 {
		t.Fatalf("resent %d confirmed %+v; want 70 resent, 130 logs in 1 whole group", l.Resent(), l.Confirmed())
	}
	// The resend: c1 again, its first 30 skipped, on a new connection.
	l.Sent(frames("c1", 30, 0, 70))
	l.ConfirmMessages(20)
	resume, skip, _ = l.Fail("c2")
	if resume != "c1" || skip != 50 {
		t.Fatalf("second Fail = %q skip %d; want c1 skipping 50", resume, skip)
	}
	l.Sent(frames("c1", 50, 0, 50))
	l.ConfirmMessages(50)
	if got := l.Confirmed(); got.Logs != 200 || got.Groups != 2 {
		t.Fatalf("confirmed %+v, want all 200 logs in 2 groups, each once", got)
	}
	if l.Resent() != 70+50 {
		t.Fatalf("resent %d, want 120", l.Resent())
	}
}

func TestConfirmByPosition(t *testing.T) {
	l := New(3)
	l.Sent(entry("c0", 10, 100))
	l.Sent(entry("c1", 20, 300))
	l.Sent(entry("c2", 30, 600))
	if l.Confirm(99) {
		t.Fatal("a position before the first batch's end confirmed it")
	}
	if !l.Confirm(300) {
		t.Fatal("position 300 confirmed nothing")
	}
	if got := l.Confirmed(); got.Logs != 30 || got.Groups != 2 || got.Truncated != 3 {
		t.Fatalf("confirmed %+v, want 30 logs in 2 groups, 3 truncated", got)
	}
	if l.Unconfirmed() != 30 {
		t.Fatalf("unconfirmed %d, want 30", l.Unconfirmed())
	}
	if l.Confirm(300) {
		t.Fatal("the same position confirmed again")
	}
	if !l.ConfirmAll() || l.Confirmed().Logs != 60 || l.Unconfirmed() != 0 {
		t.Fatalf("after ConfirmAll: %+v, %d unconfirmed", l.Confirmed(), l.Unconfirmed())
	}
	if l.ConfirmAll() {
		t.Fatal("ConfirmAll with nothing pending reported progress")
	}
}

func TestFailResumesAtFirstUnconfirmedBatch(t *testing.T) {
	l := New(3)
	l.Sent(entry("c0", 10, 100))
	l.Sent(entry("c1", 20, 300))
	l.Confirm(100)
	l.Sent(Entry{Cursor: "c2", Logs: 5, End: 350}) // c2 failed part-way: 5 of its logs went out
	resume, _, err := l.Fail("c3")
	if err != nil {
		t.Fatal(err)
	}
	if resume != "c1" {
		t.Fatalf("resume at %q, want c1 (the first unconfirmed batch)", resume)
	}
	if l.Resent() != 25 || l.Retries() != 1 {
		t.Fatalf("resent %d retries %d, want 25 (c1's 20 and 5 of c2) and 1", l.Resent(), l.Retries())
	}
	if l.Unconfirmed() != 0 || l.Confirmed().Logs != 10 {
		t.Fatalf("after Fail: unconfirmed %d confirmed %d", l.Unconfirmed(), l.Confirmed().Logs)
	}
}

func TestFailWithNothingPendingResumesAtTheFailedBatch(t *testing.T) {
	l := New(1)
	l.Sent(entry("c0", 10, 100))
	l.ConfirmAll()
	resume, _, err := l.Fail("c1")
	if err != nil || resume != "c1" || l.Resent() != 0 {
		t.Fatalf("Fail = %q, %v, resent %d; want c1, nil, 0", resume, err, l.Resent())
	}
}

func TestRetryBudgetResetsOnlyOnConfirmedProgress(t *testing.T) {
	l := New(2)
	// A receiver that takes bytes into its socket but never confirms:
	// every connection fails, and writes alone do not reset the count.
	for i := 0; i < 2; i++ {
		l.Sent(entry("c0", 10, 100))
		if _, _, err := l.Fail("c1"); err != nil {
			t.Fatalf("failure %d refused: %v", i+1, err)
		}
	}
	l.Sent(entry("c0", 10, 100))
	_, _, err := l.Fail("c1")
	if !errors.Is(err, ErrRetriesExhausted) {
		t.Fatalf("third failure in a row without progress: %v, want ErrRetriesExhausted", err)
	}
	if l.Retries() != 2 || l.Resent() != 20 {
		t.Fatalf("retries %d resent %d, want 2 and 20 (the refused retry counts nothing)", l.Retries(), l.Resent())
	}

	// Confirmed progress between failures resets the count.
	l = New(1)
	for i := 0; i < 5; i++ {
		l.Sent(entry("c", 10, uint64(100*(i+1))))
		l.Confirm(uint64(100 * (i + 1)))
		if _, _, err := l.Fail("next"); err != nil {
			t.Fatalf("failure %d after confirmed progress refused: %v", i+1, err)
		}
	}
	if l.Failures() != 1 || l.Retries() != 5 || l.Resent() != 0 {
		t.Fatalf("failures %d retries %d resent %d, want 1, 5, 0", l.Failures(), l.Retries(), l.Resent())
	}
}

func TestZeroRetries(t *testing.T) {
	l := New(0)
	l.Sent(entry("c0", 3, 10))
	if _, _, err := l.Fail("c1"); !errors.Is(err, ErrRetriesExhausted) {
		t.Fatalf("SYSLOG_MAX_RETRIES=0 allowed a retry: %v", err)
	}
	if l.Resent() != 0 || l.Retries() != 0 {
		t.Fatal("a refused retry was counted")
	}
}
