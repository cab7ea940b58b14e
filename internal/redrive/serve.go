package redrive

import (
	"context"
	"errors"
	"fmt"
	"time"

	"sls2siem/internal/deadletter"
	"sls2siem/internal/slsapi"
	"sls2siem/internal/trigger"
)

// pass serves the ranges of one pass.
type pass struct {
	o   *Options
	res *Result
}

// recordTimeout bounds the writing of one record; records are written even
// when the pass was interrupted, so that the progress made is not lost.
const recordTimeout = 10 * time.Second

// serve handles the ranges in order within ctx and records each outcome.
// A range backing off, or left when the pass runs out of time, is
// deferred: in checkpoint mode its latest record is written again (the
// checkpoint passes the old ones), so that it is never dropped. It returns
// the errors of writing records.
func (p *pass) serve(ctx context.Context, pending []*item) error {
	var errs []error
	reserve := min(max(time.Duration(len(pending))*10*time.Millisecond, time.Second), 30*time.Second)
	for _, it := range pending {
		if ctx.Err() != nil {
			break // interrupted: the checkpoints hold, the records are read again
		}
		now := p.o.Now()
		sliceEnd, cut := now.Add(p.o.RangeTime+p.o.Margin), false
		if dl, ok := ctx.Deadline(); ok && dl.Add(-reserve).Before(sliceEnd) {
			sliceEnd, cut = dl.Add(-reserve), true
		}
		switch {
		case !p.o.RetryNow && it.rec.NextTry.After(now):
			p.defer_(ctx, it, &errs, "backing off after "+count(it.rec.Attempts, "failure", "failures"))
		case sliceEnd.Sub(now) <= p.o.Margin:
			p.defer_(ctx, it, &errs, "the pass has no time left for it")
		default:
			if err := p.handle(ctx, it, sliceEnd, cut); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// defer_ counts a range not tried in this pass and, in checkpoint mode,
// writes its latest record again.
func (p *pass) defer_(ctx context.Context, it *item, errs *[]error, why string) {
	p.res.Deferred++
	r := it.rec
	p.o.Log.Debug("redrive: range deferred to a later pass", append(p.attrs(r), "nextCursor", r.Resume(), "why", why)...)
	if p.o.Since > 0 {
		return
	}
	if err := p.record(ctx, r); err != nil {
		*errs = append(*errs, err)
	}
}

// record writes r with the run's client and keys.
func (p *pass) record(ctx context.Context, r deadletter.Record) error {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	return deadletter.Append(wctx, p.o.Client, p.o.Project, p.o.Verifier.Logstore, p.o.Verifier.Keys, r)
}

func (p *pass) attrs(r deadletter.Record) []any {
	return []any{"project", r.Project, "logstore", r.Logstore, "shard", r.Shard,
		"beginCursor", r.BeginCursor, "endCursor", r.EndCursor}
}

// handle checks one range against its shard, ships it from its last
// confirmed cursor until its end or sliceEnd (cut short by the end of the
// pass when cut), and records the outcome; its error is a failure to
// record it.
func (p *pass) handle(ctx context.Context, it *item, sliceEnd time.Time, cut bool) error {
	o, r := p.o, it.rec
	out := r
	out.RequestID, out.Error, out.LastTry = "redrive", "", o.Now()
	out.LogsWritten, out.LogsConfirmed = 0, 0
	resume := r.Resume()
	err := o.Client.CheckRange(ctx, r.Project, r.Logstore, r.Shard, resume, r.EndCursor)
	var invalid *slsapi.InvalidRangeError
	var expired *slsapi.ExpiredRangeError
	switch {
	case errors.As(err, &invalid):
		return p.invalid(out, invalid)
	case errors.As(err, &expired):
		return p.expired(out, expired.Error())
	case err != nil:
		if ctx.Err() != nil {
			return nil // interrupted before anything was shipped
		}
		return p.failed(out, err)
	}
	next, sliceOver, shipErr := p.ship(ctx, &out, resume, sliceEnd)
	out.NextCursor = slsapi.Cursor(next)
	end, _ := slsapi.CursorNumber(r.EndCursor)
	first, _ := slsapi.CursorNumber(resume)
	switch {
	case next >= end:
		p.res.Redriven++
		out.State, out.NextCursor, out.Attempts, out.NextTry = deadletter.StateResolved, r.EndCursor, 0, time.Time{}
		o.Log.Info("redrive: range shipped", append(p.attrs(r), "from", resume, "logs", out.LogsConfirmed)...)
	case slsapi.IsCode(shipErr, "InvalidCursor"):
		return p.expired(out, shipErr.Error())
	case shipErr != nil:
		return p.failed(out, shipErr)
	case next > first:
		// Time ran out (the range's, or the pass's): the next pass goes on.
		p.res.Progressed++
		out.State, out.Attempts, out.NextTry = deadletter.StateProgress, 0, time.Time{}
		o.Log.Info("redrive: range shipped in part; the next pass continues it", append(p.attrs(out), "from", resume, "nextCursor", out.NextCursor, "logs", out.LogsConfirmed)...)
	case sliceOver && cut:
		var errs []error
		p.defer_(ctx, it, &errs, "the pass ran out of time before a chunk of it was confirmed")
		return errors.Join(errs...)
	case sliceOver:
		return p.failed(out, fmt.Errorf("no chunk of %d log groups was confirmed within %s", o.Chunk, o.RangeTime))
	default:
		return nil // interrupted before a chunk was confirmed: the records stand
	}
	return p.record(ctx, out)
}

// ship ships the range from resume in chunks of Chunk log groups until
// its end, a failure, sliceEnd (less the margin) or the end of ctx. It
// returns the cursor (a number) up to which every log group was
// confirmed, whether the slice ran out, and the error.
func (p *pass) ship(ctx context.Context, out *deadletter.Record, resume string, sliceEnd time.Time) (int64, bool, error) {
	o := p.o
	next, _ := slsapi.CursorNumber(resume)
	end, _ := slsapi.CursorNumber(out.EndCursor)
	sctx, cancel := context.WithDeadline(ctx, sliceEnd)
	defer cancel()
	stopAt := sliceEnd.Add(-o.Margin)
	c := o.Client
	for next < end {
		if ctx.Err() != nil || !o.Now().Before(stopAt) {
			return next, ctx.Err() == nil, nil
		}
		ce := min(next+o.Chunk, end)
		src := trigger.Source{Endpoint: c.Endpoint(), ProjectName: out.Project, LogstoreName: out.Logstore, ShardID: out.Shard,
			BeginCursor: slsapi.Cursor(next), EndCursor: slsapi.Cursor(ce)}
		sum, err := o.Shipper.ShipRange(sctx, src, c.Credentials())
		out.LogsWritten += sum.Logs + sum.Unconfirmed
		if err != nil {
			if ctx.Err() != nil {
				return next, false, nil // interrupted: the chunk is shipped again
			}
			if !o.Now().Before(stopAt) {
				return next, true, nil // the range's time ran out mid-chunk
			}
			return next, false, err
		}
		out.LogsConfirmed += sum.Logs
		p.res.Add(sum.Counters)
		next = ce
	}
	return next, false, nil
}

// failed records a failed try: the range backs off, and is said at ERROR
// once it failed ErrorAfter times in a row.
func (p *pass) failed(out deadletter.Record, err error) error {
	o := p.o
	p.res.Failed++
	out.State = deadletter.StateFailed
	out.Attempts++
	out.NextTry = out.LastTry.Add(p.backoff(out.Attempts))
	out.Error = deadletter.Scrub(err.Error(), o.Client.Credentials())
	attrs := append(p.attrs(out), "nextCursor", out.NextCursor, "attempts", out.Attempts, "nextTry", out.NextTry.UTC().Format(time.RFC3339), "error", err.Error())
	if out.Attempts >= ErrorAfter {
		o.Log.Error("redrive: range keeps failing; it is tried again after a pause, never dropped", attrs...)
	} else {
		o.Log.Warn("redrive: range failed again; it is tried again after a pause", attrs...)
	}
	return p.record(context.Background(), out)
}

// backoff is the pause after the attempts-th failure in a row.
func (p *pass) backoff(attempts int) time.Duration {
	d := p.o.Backoff
	for i := 1; i < attempts && d < p.o.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, p.o.MaxBackoff)
}

// expired records a range whose data left the source: lost, said at ERROR.
func (p *pass) expired(out deadletter.Record, why string) error {
	p.res.Expired++
	out.State, out.Error = deadletter.StateExpired, deadletter.Scrub(why, p.o.Client.Credentials())
	p.o.Log.Error("redrive: range expired: its data left the source logstore (TTL) before it could be shipped; these logs are lost",
		append(p.attrs(out), "error", why)...)
	return p.record(context.Background(), out)
}

// invalid records a range that cannot exist in its shard: never shipped.
func (p *pass) invalid(out deadletter.Record, err *slsapi.InvalidRangeError) error {
	p.res.Invalid++
	out.State, out.Error = deadletter.StateInvalid, err.Error()
	p.o.Log.Warn("redrive: range cannot exist in its shard: recorded invalid, never shipped", append(p.attrs(out), "error", err.Error())...)
	return p.record(context.Background(), out)
}
