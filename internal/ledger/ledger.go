// Package ledger keeps the delivery account of one range: which batches
// were sent on the current connection, which the receiver has confirmed,
// where to resume after the connection fails, and how many times in a row
// it failed without confirming anything. It knows nothing of sockets: a
// transport reports positions (bytes acknowledged on a TCP connection,
// frames acknowledged on a RELP session), the ledger turns them into
// confirmed logs.
package ledger

import (
	"errors"
	"fmt"
)

// Entry is one batch written on the current connection.
type Entry struct {
	// Cursor is where the batch starts: where a resend resumes.
	Cursor string
	// Skip is how many of the batch's messages were confirmed on an
	// earlier connection and not written again.
	Skip int64
	// Logs counts the messages written (Skip excluded); Groups,
	// Truncated and Dropped what else the batch held.
	Logs, Groups, Truncated, Dropped int64
	// Start and End are the connection's positions before and after the
	// batch (bytes or messages, as the transport counts), compared with
	// Confirm's.
	Start, End uint64
}

// Totals count confirmed logs.
type Totals struct {
	Logs, Groups, Truncated, Dropped int64
}

func (t *Totals) add(e Entry) {
	t.Logs += e.Logs
	t.Groups += e.Groups
	t.Truncated += e.Truncated
	t.Dropped += e.Dropped
}

// Ledger is the account of one range. The zero value is not usable: call
// New. A Ledger is used by one goroutine.
type Ledger struct {
	maxRetries int
	pending    []Entry // sent on the current connection, not confirmed, in order
	// partial counts the messages of pending[0] confirmed so far
	// (ConfirmMessages): a resend skips them.
	partial   int64
	confirmed Totals
	resent    int64 // logs sent again after a failure (possible duplicates)
	retries   int64 // reconnections
	failures  int   // failures since the last confirmed progress
}

// ErrRetriesExhausted is wrapped by Fail's error when the connection
// failed more than maxRetries times in a row without confirming a log.
var ErrRetriesExhausted = errors.New("retries exhausted")

// New returns an empty ledger that allows maxRetries reconnections in a
// row without confirmed progress.
func New(maxRetries int) *Ledger { return &Ledger{maxRetries: max(maxRetries, 0)} }

// Sent records a batch written on the current connection.
func (l *Ledger) Sent(e Entry) { l.pending = append(l.pending, e) }

// Confirm marks every pending batch that ends at or before pos as
// delivered, and reports whether any was. Progress resets the count of
// failures in a row.
func (l *Ledger) Confirm(pos uint64) bool {
	n := 0
	for n < len(l.pending) && l.pending[n].End <= pos {
		l.confirmed.add(l.pending[n])
		n++
	}
	if n == 0 {
		return false
	}
	l.confirmed.Logs -= l.partial // counted already
	l.partial = 0
	l.pending = append(l.pending[:0], l.pending[n:]...)
	l.failures = 0
	return true
}

// ConfirmMessages is Confirm for a transport whose positions count
// messages (RELP frames): the batch that pos falls inside is confirmed in
// part, so that a resend skips its confirmed messages and duplicates stay
// bounded by what was unacknowledged.
func (l *Ledger) ConfirmMessages(pos uint64) bool {
	progress := l.Confirm(pos)
	if len(l.pending) == 0 {
		return progress
	}
	e := l.pending[0]
	if pos > e.Start {
		if k := int64(pos - e.Start); k > l.partial {
			l.confirmed.Logs += k - l.partial
			l.partial = k
			l.failures = 0
			progress = true
		}
	}
	return progress
}

// ConfirmAll marks every pending batch as delivered.
func (l *Ledger) ConfirmAll() bool {
	if len(l.pending) == 0 {
		return false
	}
	return l.Confirm(l.pending[len(l.pending)-1].End)
}

// Fail records that the connection failed; cursor is the batch that
// would have been written next (a batch written in part is recorded with
// Sent first). It returns the cursor to resume from on a new connection:
// the first unconfirmed batch, or cursor when every batch is confirmed.
// Everything unconfirmed is counted as resent. When the connection has
// now failed more than maxRetries times in a row without confirmed
// progress, it returns an error wrapping ErrRetriesExhausted instead, and
// counts nothing as resent.
// The resume point also says how many messages at the start of that
// batch to skip (confirmed in part, see ConfirmMessages).
func (l *Ledger) Fail(cursor string) (resume string, skip int64, err error) {
	l.failures++
	if l.failures > l.maxRetries {
		failures := "failures"
		if l.failures == 1 {
			failures = "failure"
		}
		return "", 0, fmt.Errorf("%w: %d %s in a row without a confirmed log (%d allowed)", ErrRetriesExhausted, l.failures, failures, l.maxRetries)
	}
	resume = cursor
	if len(l.pending) > 0 {
		resume, skip = l.pending[0].Cursor, l.pending[0].Skip+l.partial
	}
	l.resent += l.Unconfirmed()
	l.retries++
	l.pending, l.partial = l.pending[:0], 0
	return resume, skip, nil
}

// Failures counts the failures since the last confirmed progress.
func (l *Ledger) Failures() int { return l.failures }

// Confirmed is what the receiver confirmed.
func (l *Ledger) Confirmed() Totals { return l.confirmed }

// Unconfirmed counts the logs written on the current connection and not
// confirmed yet.
func (l *Ledger) Unconfirmed() int64 {
	n := -l.partial
	for _, e := range l.pending {
		n += e.Logs
	}
	return n
}

// Resent counts the logs sent again after failures.
func (l *Ledger) Resent() int64 { return l.resent }

// Retries counts the reconnections.
func (l *Ledger) Retries() int64 { return l.retries }
