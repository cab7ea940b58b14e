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

	sls "github.com/aliyun/aliyun-log-go-sdk"

	"sls2siem/internal/deadletter"
	"sls2siem/internal/delivery"
	"sls2siem/internal/logstore"
	"sls2siem/internal/ship"
	"sls2siem/internal/trigger"
	"sls2siem/internal/trust"
)

// Options configure one redrive pass.
type Options struct {
	Shipper *ship.Shipper
	// Client reaches the source project's endpoint with the credentials
	// of the run (they also ship the ranges).
	Client deadletter.Client
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
}

// Run does one pass. Its error says what failed; a pass with failed or
// expired ranges returns an error too (after recording them).
func Run(ctx context.Context, o Options) (Result, error) {
	var res Result
	c := o.Client
	shards, err := c.Shards(ctx, o.Project, o.Logstore)
	if err != nil {
		return res, fmt.Errorf("redrive: %w", err)
	}
	if o.Since <= 0 {
		if err := ensureGroup(ctx, o); err != nil {
			return res, err
		}
	}
	checkpoints, err := loadCheckpoints(ctx, o)
	if err != nil {
		return res, err
	}
	type item struct {
		rec deadletter.Record
		seq int
	}
	latest := map[deadletter.Key]item{}
	ends := map[int]string{}
	seq := 0
	for _, sh := range shards {
		begin := checkpoints[sh]
		if o.Since > 0 {
			from := strconv.FormatInt(time.Now().Add(-o.Since).Unix(), 10)
			if begin, err = c.Cursor(ctx, o.Project, o.Logstore, sh, from); err != nil {
				return res, fmt.Errorf("redrive: %w", err)
			}
		} else if begin == "" {
			if begin, err = c.Cursor(ctx, o.Project, o.Logstore, sh, "begin"); err != nil {
				return res, fmt.Errorf("redrive: %w", err)
			}
		}
		end, err := c.Cursor(ctx, o.Project, o.Logstore, sh, "end")
		if err != nil {
			return res, fmt.Errorf("redrive: %w", err)
		}
		ends[sh] = end
		err = deadletter.Read(ctx, c, o.Project, o.Logstore, sh, begin, end, o.Allowed, func(at string, r deadletter.Record, err error) {
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
			seq++
			latest[r.Key()] = item{r, seq}
		})
		if err != nil {
			return res, fmt.Errorf("redrive: %w", err)
		}
	}
	// Ship in the order the failures were recorded.
	var todo []item
	for _, it := range latest {
		if it.rec.State == deadletter.StateFailed {
			todo = append(todo, it)
		}
	}
	slices.SortFunc(todo, func(a, b item) int { return a.seq - b.seq })
	res.Ranges = len(todo)
	var writeErrs []error
	for _, it := range todo {
		if ctx.Err() != nil {
			return res, fmt.Errorf("redrive: stopped: %w", ctx.Err())
		}
		if err := redriveOne(ctx, o, it.rec, &res); err != nil {
			writeErrs = append(writeErrs, err)
		}
	}
	if len(writeErrs) > 0 {
		// Keep the checkpoints: the next pass reads these records again.
		return res, fmt.Errorf("redrive: %w", errors.Join(writeErrs...))
	}
	if o.Since <= 0 {
		for sh, end := range ends {
			if err := c.SDK(ctx, "save the redrive checkpoint", func(cl *sls.Client) error {
				// No consumer: the group is only a checkpoint store (forceSuccess).
				return cl.UpdateCheckpoint(o.Project, o.Logstore, o.Group, "", sh, end, true)
			}); err != nil {
				return res, fmt.Errorf("redrive: %w", err)
			}
		}
	}
	switch {
	case res.Expired > 0:
		return res, fmt.Errorf("redrive: %d ranges expired (their data left the source logstore before they could be shipped: those logs are lost), %d failed again", res.Expired, res.Failed)
	case res.Failed > 0:
		return res, fmt.Errorf("redrive: %d of %d ranges failed again and stay dead-lettered for the next pass", res.Failed, res.Ranges)
	}
	return res, nil
}

// redriveOne ships one failed range and records the outcome; its error
// is a failure to record it.
func redriveOne(ctx context.Context, o Options, r deadletter.Record, res *Result) error {
	c := o.Client
	c.Endpoint = r.Endpoint
	src := trigger.Source{ProjectName: r.Project, LogstoreName: r.Logstore, Endpoint: r.Endpoint,
		ShardID: r.Shard, BeginCursor: r.BeginCursor, EndCursor: r.EndCursor}
	out := r
	out.Time, out.RequestID, out.Error = time.Time{}, "redrive", ""
	expired, why := isExpired(ctx, c, r)
	var sum ship.Summary
	var err error
	if !expired {
		sum, err = o.Shipper.ShipRange(ctx, src, c.Creds)
		var code *logstore.CodeError
		if err != nil && errors.As(err, &code) && code.Code == "InvalidCursor" {
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
		out.State, out.Error = deadletter.StateExpired, deadletter.Scrub(why, c.Creds)
		o.Log.Error("redrive: range expired: its data left the source logstore (TTL) before it could be shipped; these logs are lost",
			append(attrs, "error", why)...)
	case err != nil:
		res.Failed++
		out.State, out.Error = deadletter.StateFailed, deadletter.Scrub(err.Error(), c.Creds)
		o.Log.Error("redrive: range failed again", append(attrs, "error", err.Error())...)
	default:
		res.Redriven++
		out.State = deadletter.StateResolved
		o.Log.Info("redrive: range shipped", attrs...)
	}
	wc := o.Client
	if err := deadletter.Append(ctx, wc, o.Project, o.Logstore, out); err != nil {
		return err
	}
	return nil
}

// isExpired tells whether the range's first log group has left the
// source shard: its begin cursor is before the shard's begin cursor (the
// first group still kept). The service may also answer InvalidCursor on
// the pull itself, which Run classifies the same way.
func isExpired(ctx context.Context, c deadletter.Client, r deadletter.Record) (bool, string) {
	first, err := c.Cursor(ctx, r.Project, r.Logstore, r.Shard, "begin")
	if err != nil {
		return false, "" // the pull will say what is wrong
	}
	fn, err1 := deadletter.CursorNumber(first)
	bn, err2 := deadletter.CursorNumber(r.BeginCursor)
	if err1 != nil || err2 != nil || bn >= fn {
		return false, ""
	}
	return true, fmt.Sprintf("the range begins at cursor %s, before the shard's first kept cursor %s: %d log groups of it expired", r.BeginCursor, first, fn-bn)
}

// ensureGroup creates the consumer group that holds the checkpoints.
func ensureGroup(ctx context.Context, o Options) error {
	return o.Client.SDK(ctx, fmt.Sprintf("create the redrive consumer group %s", o.Group), func(cl *sls.Client) error {
		groups, err := cl.ListConsumerGroup(o.Project, o.Logstore)
		if err != nil {
			return err
		}
		for _, g := range groups {
			if g.ConsumerGroupName == o.Group {
				return nil
			}
		}
		return cl.CreateConsumerGroup(o.Project, o.Logstore, sls.ConsumerGroup{ConsumerGroupName: o.Group, Timeout: 300, InOrder: false})
	})
}

// loadCheckpoints returns the group's checkpoint per shard.
func loadCheckpoints(ctx context.Context, o Options) (map[int]string, error) {
	out := map[int]string{}
	if o.Since > 0 {
		return out, nil
	}
	err := o.Client.SDK(ctx, "read the redrive checkpoints", func(cl *sls.Client) error {
		cps, err := cl.GetCheckpoint(o.Project, o.Logstore, o.Group)
		for _, cp := range cps {
			if _, err := deadletter.CursorNumber(cp.CheckPoint); err == nil {
				out[cp.ShardID] = cp.CheckPoint
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("redrive: %w", err)
	}
	return out, nil
}
