// Package redrive ships again the cursor ranges the trigger function
// dead-lettered: it reads the dead-letter logstore (internal/deadletter)
// from its consumer group's checkpoints, or from a time for a one-off
// run, keeps each range's latest record, ships every range whose latest
// record is failed with the same pipeline as the trigger path
// (ship.Shipper.ShipRange) and records the outcome: resolved, failed
// again, or expired when the source no longer holds the range's data.
package redrive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"sls2siem/internal/deadletter"
	"sls2siem/internal/delivery"
	"sls2siem/internal/ship"
	"sls2siem/internal/slsapi"
	"sls2siem/internal/trigger"
	"sls2siem/internal/trust"
)

// Options configure one redrive pass.
type Options struct {
	Shipper *ship.Shipper
	// Client reaches the source project's endpoint with the credentials
	// of the run (they also ship the ranges).
	Client *slsapi.Client
	// Allowed admits the endpoints named by records.
	Allowed trust.Endpoints
	// Project is the source project, which holds the dead-letter logstore
	// Logstore; records naming another project are skipped.
	Project, Logstore string
	// Group is the consumer group whose checkpoints say where the last
	// pass stopped (created when missing). Ignored when Since is set.
	Group string
	// Since > 0 reads the records received in the last Since instead, and
	// saves no checkpoint.
	Since time.Duration
	Log   *slog.Logger
}

// Result counts what a pass did.
type Result struct {
	Records  int `json:"records"`  // dead-letter records read
	Skipped  int `json:"skipped"`  // malformed, foreign or disallowed records
	Ranges   int `json:"ranges"`   // distinct ranges whose latest record was failed
	Redriven int `json:"redriven"` // shipped and resolved
	Failed   int `json:"failed"`   // failed again (recorded failed: the next pass retries)
	Expired  int `json:"expired"`  // data past the source's TTL: lost
	// What the ranges shipped delivered, the failed ones' confirmed logs
	// included (see delivery.Counters).
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
	var res Result
	todo, ends, err := readRecords(ctx, o, &res)
	if err != nil {
		return res, err
	}
	res.Read, res.Ranges = true, len(todo)
	var writeErrs []error
	for _, r := range todo {
		if ctx.Err() != nil {
			return res, fmt.Errorf("stopped after %d of %d ranges: %w", res.Redriven+res.Failed+res.Expired, res.Ranges, context.Cause(ctx))
		}
		if err := redriveOne(ctx, o, r, &res); err != nil {
			writeErrs = append(writeErrs, err)
		}
	}
	if len(writeErrs) > 0 {
		// Keep the checkpoints: the next pass reads these records again.
		return res, errors.Join(writeErrs...)
	}
	if o.Since <= 0 {
		for sh, end := range ends {
			if err := o.Client.SaveCheckpoint(ctx, o.Project, o.Logstore, o.Group, sh, end); err != nil {
				return res, err
			}
		}
	}
	return res, outcome(res)
}

// outcome is the error of a pass that shipped what it read, or nil.
func outcome(res Result) error {
	switch {
	case res.Expired > 0:
		return &ExpiredError{Expired: res.Expired, Failed: res.Failed}
	case res.Failed > 0:
		return fmt.Errorf("%s of %d failed again: recorded failed for the next pass", count(res.Failed, "range", "ranges"), res.Ranges)
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

// readRecords reads the dead-letter records of every shard from the
// group's checkpoints (or from Since ago) to the end, and returns the
// ranges whose latest record is failed, in the order they were recorded,
// and each shard's end cursor.
func readRecords(ctx context.Context, o Options, res *Result) ([]deadletter.Record, map[int]string, error) {
	c := o.Client
	shards, err := c.ShardIDs(ctx, o.Project, o.Logstore)
	if err != nil {
		return nil, nil, err
	}
	if o.Since <= 0 {
		if err := c.EnsureGroup(ctx, o.Project, o.Logstore, o.Group, groupTimeout); err != nil {
			return nil, nil, err
		}
	}
	checkpoints, err := loadCheckpoints(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	latest := map[deadletter.Key]item{}
	ends := map[int]string{}
	for _, sh := range shards {
		begin, end, err := shardRange(ctx, o, sh, checkpoints[sh])
		if err != nil {
			return nil, nil, err
		}
		ends[sh] = end
		if err := readShard(ctx, o, sh, begin, end, res, latest); err != nil {
			return nil, nil, err
		}
	}
	return failedRanges(latest), ends, nil
}

// item is a range's latest record and its place in the reading order.
type item struct {
	rec deadletter.Record
	seq int
}

// shardRange is where a shard's records are read: from the checkpoint
// (the shard's beginning without one), or from Since ago; to the end.
func shardRange(ctx context.Context, o Options, sh int, checkpoint string) (begin, end string, err error) {
	begin = checkpoint
	switch {
	case o.Since > 0:
		from := strconv.FormatInt(time.Now().Add(-o.Since).Unix(), 10)
		begin, err = o.Client.GetCursor(ctx, o.Project, o.Logstore, sh, from)
	case begin == "":
		begin, err = o.Client.GetCursor(ctx, o.Project, o.Logstore, sh, "begin")
	}
	if err != nil {
		return "", "", err
	}
	end, err = o.Client.GetCursor(ctx, o.Project, o.Logstore, sh, "end")
	return begin, end, err
}

// readShard reads the records of shard sh in [begin, end) into latest,
// warning of and counting the ones that will not be shipped.
func readShard(ctx context.Context, o Options, sh int, begin, end string, res *Result, latest map[deadletter.Key]item) error {
	return deadletter.Read(ctx, o.Client, o.Project, o.Logstore, sh, begin, end, o.Allowed, func(at string, r deadletter.Record, err error) {
		res.Records++
		if err == nil && r.Project != o.Project {
			err = fmt.Errorf("field project is %s: not the project %s of the dead-letter logstore", r.Project, o.Project)
		}
		if err != nil {
			res.Skipped++
			o.Log.Warn("redrive: skipping a dead-letter record that will not be shipped",
				"logstore", o.Logstore, "shard", sh, "cursor", at, "reason", err.Error())
			return
		}
		latest[r.Key()] = item{r, res.Records}
	})
}

// failedRanges are the ranges whose latest record is failed, in the order
// their records were read.
func failedRanges(latest map[deadletter.Key]item) []deadletter.Record {
	var todo []item
	for _, it := range latest {
		if it.rec.State == deadletter.StateFailed {
			todo = append(todo, it)
		}
	}
	slices.SortFunc(todo, func(a, b item) int { return a.seq - b.seq })
	out := make([]deadletter.Record, len(todo))
	for i, it := range todo {
		out[i] = it.rec
	}
	return out
}

// redriveOne ships one failed range and records the outcome; its error
// is a failure to record it.
func redriveOne(ctx context.Context, o Options, r deadletter.Record, res *Result) error {
	c := o.Client.WithEndpoint(r.Endpoint)
	src := trigger.Source{ProjectName: r.Project, LogstoreName: r.Logstore, Endpoint: r.Endpoint,
		ShardID: r.Shard, BeginCursor: r.BeginCursor, EndCursor: r.EndCursor}
	out := r
	out.Time, out.RequestID, out.Error = time.Time{}, "redrive", ""
	expired, why := isExpired(ctx, c, r)
	var sum ship.Summary
	var err error
	if !expired {
		sum, err = o.Shipper.ShipRange(ctx, src, c.Credentials())
		if slsapi.IsCode(err, "InvalidCursor") {
			expired, why = true, err.Error()
		}
	}
	out.LogsWritten, out.LogsConfirmed = sum.Logs+sum.Unconfirmed, sum.Logs
	res.Add(sum.Counters)
	attrs := []any{"project", r.Project, "logstore", r.Logstore, "shard", r.Shard,
		"beginCursor", r.BeginCursor, "endCursor", r.EndCursor, "logs", sum.Logs}
	switch {
	case expired:
		res.Expired++
		out.State, out.Error = deadletter.StateExpired, deadletter.Scrub(why, c.Credentials())
		o.Log.Error("redrive: range expired: its data left the source logstore (TTL) before it could be shipped; these logs are lost",
			append(attrs, "error", why)...)
	case err != nil:
		res.Failed++
		out.State, out.Error = deadletter.StateFailed, deadletter.Scrub(err.Error(), c.Credentials())
		o.Log.Error("redrive: range failed again", append(attrs, "error", err.Error())...)
	default:
		res.Redriven++
		out.State = deadletter.StateResolved
		o.Log.Info("redrive: range shipped", attrs...)
	}
	return deadletter.Append(ctx, o.Client, o.Project, o.Logstore, out)
}

// isExpired tells whether the range's first log group has left the
// source shard: its begin cursor is before the shard's begin cursor (the
// first group still kept). The service may also answer InvalidCursor on
// the pull itself, which Run classifies the same way.
func isExpired(ctx context.Context, c *slsapi.Client, r deadletter.Record) (bool, string) {
	first, err := c.GetCursor(ctx, r.Project, r.Logstore, r.Shard, "begin")
	if err != nil {
		return false, "" // the pull will say what is wrong
	}
	fn, err1 := slsapi.CursorNumber(first)
	bn, err2 := slsapi.CursorNumber(r.BeginCursor)
	if err1 != nil || err2 != nil || bn >= fn {
		return false, ""
	}
	return true, fmt.Sprintf("the range begins at cursor %s, before the shard's first kept cursor %s: %d log groups of it expired", r.BeginCursor, first, fn-bn)
}

// groupTimeout is the timeout of the redrive consumer group: it has no
// consumers, only checkpoints.
const groupTimeout = 300

// loadCheckpoints returns the group's checkpoint per shard.
func loadCheckpoints(ctx context.Context, o Options) (map[int]string, error) {
	out := map[int]string{}
	if o.Since > 0 {
		return out, nil
	}
	cps, err := o.Client.Checkpoints(ctx, o.Project, o.Logstore, o.Group)
	if err != nil {
		return nil, err
	}
	for _, cp := range cps {
		if _, err := slsapi.CursorNumber(cp.Cursor); err == nil {
			out[cp.Shard] = cp.Cursor
		}
	}
	return out, nil
}
