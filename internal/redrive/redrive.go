// Package redrive ships again the cursor ranges the trigger function
// dead-lettered. One pass reads the dead-letter logstore
// (internal/deadletter) from its consumer group's checkpoints, or from a
// time for a one-off run, keeps each range's latest signed record (at most
// MaxRanges ranges in memory: the rest wait behind the checkpoint), and
// serves the ranges still to ship least recently tried first, oldest
// first: each is checked against its shard, then shipped from its last
// confirmed cursor with the trigger's own pipeline
// (ship.Shipper.ShipRange), chunk by chunk, for at most RangeTime. The
// outcome is recorded: resolved, progress (continued next pass), failed
// again (backing off), expired or invalid.
//
// The records decide nothing about where requests go: every request goes
// to SLS_ENDPOINT with the pass's credentials, for SLS_PROJECT and the
// logstores of SHIP_REDRIVE_LOGSTORES only.
package redrive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"sls2siem/internal/deadletter"
	"sls2siem/internal/delivery"
	"sls2siem/internal/ship"
	"sls2siem/internal/slsapi"
)

// Defaults of Options.
const (
	DefaultRangeTime = time.Minute
	DefaultChunk     = 100
	DefaultMaxRanges = 4096
	// DefaultBackoff is the pause after a range's first failed try; it
	// doubles with every failure in a row, up to DefaultMaxBackoff.
	DefaultBackoff    = 5 * time.Minute
	DefaultMaxBackoff = time.Hour
	// ErrorAfter is how many failures in a row make a range's failure an
	// ERROR line (before: WARN).
	ErrorAfter = 4
)

// Options configure one redrive pass.
type Options struct {
	Shipper *ship.Shipper
	// Client reaches SLS_ENDPOINT with the credentials of the run (they
	// also ship the ranges). Every request of the pass goes there.
	Client *slsapi.Client
	// Verifier checks the records: the keys, the endpoint allow-list and
	// the dead-letter logstore (in Project), which is read.
	Verifier deadletter.Verifier
	// Project is the source project (SLS_PROJECT): it holds the
	// dead-letter logstore, and records naming another are skipped.
	Project string
	// Sources are the logstores whose ranges may be shipped
	// (SHIP_REDRIVE_LOGSTORES); never the dead-letter logstore.
	Sources []string
	// Group is the consumer group whose checkpoints say where the last
	// pass stopped (created when missing). Ignored when Since is set.
	Group string
	// Since > 0 reads the records received in the last Since instead, and
	// saves no checkpoint.
	Since time.Duration
	// RangeTime bounds how long one range is shipped for in a pass;
	// Chunk is how many log groups are shipped (and confirmed) between
	// two recorded positions; MaxRanges bounds the ranges kept in memory.
	RangeTime time.Duration
	Chunk     int64
	MaxRanges int
	// Margin is the shipper's SHIP_DEADLINE_MARGIN: a range's time is
	// RangeTime of shipping, the margin added.
	Margin time.Duration
	// Backoff and MaxBackoff space the tries of a range that keeps
	// failing; RetryNow tries such ranges at once anyway.
	Backoff, MaxBackoff time.Duration
	RetryNow            bool
	// Memory is the memory budget, in bytes, of the records read (as
	// config.Config.BatchMemory; 0: a default): each pulled answer is
	// released before the next pull.
	Memory int64
	Log    *slog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.RangeTime <= 0 {
		o.RangeTime = DefaultRangeTime
	}
	if o.Chunk <= 0 {
		o.Chunk = DefaultChunk
	}
	if o.MaxRanges <= 0 {
		o.MaxRanges = DefaultMaxRanges
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.MaxBackoff < o.Backoff {
		o.MaxBackoff = max(DefaultMaxBackoff, o.Backoff)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// Result counts what a pass did.
type Result struct {
	Records int `json:"records"` // dead-letter records read
	// Skipped counts the records not acted on: malformed, unsigned,
	// foreign, or naming a source redrive may not ship; Unsigned those of
	// them without a valid MAC.
	Skipped  int `json:"skipped"`
	Unsigned int `json:"unsigned"`
	Ranges   int `json:"ranges"` // ranges still to ship, read
	Redriven int `json:"redriven"`
	// Progressed were shipped in part (RangeTime ran out): the next pass
	// continues them from their last confirmed cursor.
	Progressed int `json:"progressed"`
	Failed     int `json:"failed"` // failed again: recorded, backing off
	// Deferred were not tried: backing off, or the pass ran out of time.
	Deferred int `json:"deferred"`
	Expired  int `json:"expired"` // data past the source's TTL: lost
	Invalid  int `json:"invalid"` // cannot exist in their shard: never shipped
	// What the chunks shipped delivered (see delivery.Counters); a chunk
	// that failed is shipped again from its start and counted then.
	delivery.Counters
	// Read is set once every record was read: before, nothing was
	// shipped and the counts are not a pass's.
	Read bool `json:"-"`
}

// ExpiredError is Run's error when ranges expired: their logs are lost.
type ExpiredError struct{ Expired, Failed int }

func (e *ExpiredError) Error() string {
	return fmt.Sprintf("%s (their data left the source logstore before they could be shipped: those logs are lost); %s failed again",
		count(e.Expired, "range expired", "ranges expired"), count(e.Failed, "range", "ranges"))
}

// Run does one pass. Its error says what failed; a pass with failed or
// expired ranges returns an error too (after recording them).
func Run(ctx context.Context, o Options) (Result, error) {
	o.defaults()
	var res Result
	q, err := readQueue(ctx, &o, &res)
	if err != nil {
		return res, err
	}
	res.Read, res.Ranges = true, len(q.pending)
	p := &pass{o: &o, res: &res}
	writeErr := p.serve(ctx, q.pending)
	if ctx.Err() != nil {
		// Keep the checkpoints: the next pass reads these records again.
		return res, errors.Join(fmt.Errorf("stopped after %d of %d ranges: %w", res.Redriven+res.Progressed+res.Failed+res.Expired+res.Invalid,
			res.Ranges, context.Cause(ctx)), writeErr)
	}
	if writeErr != nil {
		return res, writeErr
	}
	if o.Since <= 0 {
		for _, sh := range q.shards {
			if err := o.Client.SaveCheckpoint(ctx, o.Project, o.Verifier.Logstore, o.Group, sh.id, sh.checkpoint); err != nil {
				return res, err
			}
		}
	}
	return res, outcome(res)
}

// outcome is the error of a pass that recorded what it did, or nil.
func outcome(res Result) error {
	switch {
	case res.Expired > 0:
		return &ExpiredError{Expired: res.Expired, Failed: res.Failed}
	case res.Failed > 0:
		return fmt.Errorf("%s of %d failed again: recorded failed, tried again after a pause", count(res.Failed, "range", "ranges"), res.Ranges)
	}
	return nil
}

// count says n things, the plural right.
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
