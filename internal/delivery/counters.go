// Package delivery holds what every driver reports of a delivery: the
// Counters of a run (a trigger invocation, a consumer run, a redrive
// pass, a backfill), shared by the ledger, ship, consume, redrive and
// backfill so that each number means the same thing everywhere. Its
// subpackage sim is the deterministic simulator that checks those numbers
// and the delivery promise over generated fault schedules.
package delivery

import "log/slog"

// Counters are what a run delivered. Each field means one thing, in every
// summary, log line and metric that shows it:
//
//   - Logs: logs the receiver confirmed (RELP: answered 200; TCP and TLS:
//     acknowledged by its TCP stack; UDP: sent), each counted once however
//     often it was written.
//   - LogGroups: SLS log groups all of whose logs were confirmed; counted
//     when the batch holding them is confirmed whole.
//   - Bytes: bytes of the confirmed messages (framing excluded), counted
//     with LogGroups: when the batch holding them is confirmed whole.
//   - Truncated: confirmed logs cut to SYSLOG_MAX_MESSAGE_SIZE (counted
//     with LogGroups).
//   - Dropped: logs not sent because they were longer than
//     SYSLOG_MAX_MESSAGE_SIZE with SYSLOG_OVERSIZE=drop (counted with
//     LogGroups).
//   - Resent: messages written to the socket again after a failed
//     delivery: the possible duplicates (a message written to the socket n
//     times counts n-1). Never negative.
//   - Reconnects: failed connections given up for a new one (the delivery
//     then resumes, after the backoff, on the new connection).
//   - BatchesRetried: batches written again, whole or in part, after a
//     failed delivery.
//
// On success every log of the run is in Logs and, with its batch, in
// LogGroups, Bytes and Truncated or Dropped. After a failure Logs is what
// was confirmed; the batch confirmed only in part when the failure came is
// in Logs but not yet in LogGroups, Bytes or Truncated.
type Counters struct {
	Logs           int64 `json:"logs"`
	LogGroups      int64 `json:"logGroups"`
	Bytes          int64 `json:"bytes"`
	Truncated      int64 `json:"truncated"`
	Dropped        int64 `json:"dropped"`
	Resent         int64 `json:"resent"`
	Reconnects     int64 `json:"reconnects"`
	BatchesRetried int64 `json:"batchesRetried"`
}

// Add adds o to c.
func (c *Counters) Add(o Counters) {
	c.Logs += o.Logs
	c.LogGroups += o.LogGroups
	c.Bytes += o.Bytes
	c.Truncated += o.Truncated
	c.Dropped += o.Dropped
	c.Resent += o.Resent
	c.Reconnects += o.Reconnects
	c.BatchesRetried += o.BatchesRetried
}

// Attrs are the counters as log attributes, named as in JSON.
func (c Counters) Attrs() []slog.Attr {
	return []slog.Attr{
		slog.Int64("logs", c.Logs),
		slog.Int64("logGroups", c.LogGroups),
		slog.Int64("bytes", c.Bytes),
		slog.Int64("truncated", c.Truncated),
		slog.Int64("dropped", c.Dropped),
		slog.Int64("resent", c.Resent),
		slog.Int64("reconnects", c.Reconnects),
		slog.Int64("batchesRetried", c.BatchesRetried),
	}
}
