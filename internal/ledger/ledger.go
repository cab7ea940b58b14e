// Package ledger keeps the delivery account of one range: which batches
// were sent on the current connection, which the receiver has confirmed,
// where to resume after the connection fails, how many messages were
// written to the socket more than once, and how many times in a row the
// connection failed without confirming anything. It knows nothing of
// sockets: a transport reports positions (bytes acknowledged on a TCP
// connection, frames acknowledged on a RELP session) and how many
// messages reached the socket, the ledger turns them into confirmed logs.
//
// Messages are numbered in the order of the range (dropped ones excluded):
// confirmation is always a prefix of that order, a resend resumes at the
// first unconfirmed message, and a message written to the socket again is
// one whose number is below the highest number written before.
package ledger

import (
	"errors"
	"fmt"

	"sls2siem/internal/delivery"
)

// Entry is one batch written on the current connection.
type Entry struct {
	// Cursor is where the batch starts: where a resend resumes.
	Cursor string
	// Skip is how many of the batch's messages were confirmed on an
	// earlier connection and not written again.
	Skip int64
	// Logs counts the messages handed to the connection (Skip excluded);
	// Groups, Bytes, Truncated and Dropped what else the batch held
	// (Bytes: of the messages written, and of the skipped ones).
	Logs, Groups, Bytes, Truncated, Dropped int64
	// Start and End are the connection's positions before and after the
	// batch (bytes or messages, as the transport counts), compared with
	// Confirm's. Start must be read from the connection the batch is
	// written on (a pooled connection does not start at 0).
	Start, End uint64
	// Whole is set when every message of the batch was handed to the
	// connection. A batch cut short by a failure is never confirmed
	// whole: only its acknowledged messages are (ConfirmMessages), and a
	// resend resumes inside it.
	Whole bool
}

// Ledger is the account of one range. The zero value is not usable: call
// New. A Ledger is used by one goroutine.
type Ledger struct {
	maxRetries int
	pending    []Entry // sent on the current connection, not confirmed, in order
	// partial counts the messages of pending[0] confirmed so far
	// (ConfirmMessages): a resend skips them. 0 <= partial <= pending[0].Logs.
	partial   int64
	confirmed delivery.Counters // Logs, LogGroups, Bytes, Truncated, Dropped
	failures  int               // failures since the last confirmed progress

	// Message numbers of the current connection: the first message it
	// carries, how many it was handed, and how many reached its socket.
	connFirst, connLogs, connFlushed int64
	// written is the highest message number (exclusive) written to a
	// socket so far; writtenBefore is its value when the current
	// connection started.
	written, writtenBefore int64
	// resentBefore counts the messages written again on earlier
	// connections of the range.
	resentBefore   int64
	reconnects     int64
	batchesRetried int64
}

// ErrRetriesExhausted is wrapped by Fail's error when the connection
// failed more than maxRetries times in a row without confirming a log.
var ErrRetriesExhausted = errors.New("retries exhausted")

// New returns an empty ledger that allows maxRetries reconnections in a
// row without confirmed progress.
func New(maxRetries int) *Ledger { return &Ledger{maxRetries: max(maxRetries, 0)} }

// Sent records a batch handed to the current connection (also one written
// in part before a failure). A batch that starts below the highest message
// written before counts as retried.
func (l *Ledger) Sent(e Entry) {
	if e.End < e.Start {
		e.End = e.Start
	}
	if e.Logs > 0 && l.connFirst+l.connLogs < l.writtenBefore {
		l.batchesRetried++
	}
	l.connLogs += e.Logs
	l.pending = append(l.pending, e)
}

// Flushed records that n of the messages handed to the current connection
// (counted from its first, in order) have been written to its socket:
// the transport's count, which only grows.
func (l *Ledger) Flushed(n int64) {
	n = min(n, l.connLogs)
	if n <= l.connFlushed {
		return
	}
	l.connFlushed = n
	l.written = max(l.written, l.connFirst+n)
}

// resentNow counts the messages of the current connection that reached its
// socket and had reached one before.
func (l *Ledger) resentNow() int64 {
	return min(l.connFlushed, max(l.writtenBefore-l.connFirst, 0))
}

// Confirm marks every pending batch that ends at or before pos as
// delivered, and reports whether any was. Progress resets the count of
// failures in a row.
func (l *Ledger) Confirm(pos uint64) bool {
	n := 0
	for n < len(l.pending) && l.pending[n].End <= pos && l.pending[n].Whole {
		e := l.pending[n]
		l.confirmed.Logs += e.Logs
		l.confirmed.LogGroups += e.Groups
		l.confirmed.Bytes += e.Bytes
		l.confirmed.Truncated += e.Truncated
		l.confirmed.Dropped += e.Dropped
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
// bounded by what was unacknowledged. A batch is never confirmed in part
// beyond its own messages (a frame whose write failed counts in the
// position, not in Logs).
func (l *Ledger) ConfirmMessages(pos uint64) bool {
	progress := l.Confirm(pos)
	if len(l.pending) == 0 {
		return progress
	}
	e := l.pending[0]
	if pos > e.Start {
		k := min(int64(pos-e.Start), e.Logs)
		if plantOldAccount {
			k = int64(pos - e.Start)
		}
		if k > l.partial {
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

// Fail records that the connection failed; cursor is the batch after the
// last one recorded with Sent (a batch written in part, or whose write
// failed, is recorded with Sent first: when the receiver confirmed all of
// it before the failure showed, the resend starts after it). It returns the cursor to resume from on a new connection:
// the first unconfirmed batch, or cursor when every batch is confirmed,
// and how many messages at the start of that batch to skip (confirmed in
// part, see ConfirmMessages). When the connection has now failed more
// than maxRetries times in a row without confirmed progress, it returns
// an error wrapping ErrRetriesExhausted instead.
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
	if plantOldAccount {
		l.resentBefore += l.Unconfirmed() - l.resentNow() // the old account: what was pending, whether written or not
	}
	l.reconnects++
	l.newConnection()
	return resume, skip, nil
}

// newConnection closes the account of the current connection: the next
// one starts at the first unconfirmed message.
func (l *Ledger) newConnection() {
	l.resentBefore += l.resentNow()
	l.pending, l.partial = l.pending[:0], 0
	l.connFirst, l.connLogs, l.connFlushed = l.confirmed.Logs, 0, 0
	l.writtenBefore = l.written
}

// Failures counts the failures since the last confirmed progress.
func (l *Ledger) Failures() int { return l.failures }

// Counters are what the range delivered so far (see delivery.Counters).
func (l *Ledger) Counters() delivery.Counters {
	c := l.confirmed
	c.Resent = l.resentBefore + l.resentNow()
	c.Reconnects = l.reconnects
	c.BatchesRetried = l.batchesRetried
	return c
}

// Unconfirmed counts the logs handed to the current connection and not
// confirmed yet.
func (l *Ledger) Unconfirmed() int64 {
	n := -l.partial
	for _, e := range l.pending {
		n += e.Logs
	}
	return n
}
