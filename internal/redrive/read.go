package redrive

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"sls2siem/internal/deadletter"
	"sls2siem/internal/logstore"
	"sls2siem/internal/slsapi"
)

// queue is what a pass read: the ranges still to ship, in the order they
// are served, and where each dead-letter shard's checkpoint goes once the
// pass has recorded them.
type queue struct {
	pending []*item
	shards  []shardPos
}

// shardPos is a dead-letter shard and the checkpoint a pass leaves there:
// where its reading stopped (the end it read to, or the first record it
// had no room for).
type shardPos struct {
	id         int
	checkpoint string
}

// item is a range as its records say: the latest (by signed write time),
// the furthest confirmed cursor any of them records, and its place in the
// reading order.
type item struct {
	rec  deadletter.Record
	next int64 // furthest cursor confirmed, as a number
	seq  int
	// shard is the dead-letter shard its records were read from.
	shard int
}

// maxWarnings bounds the warnings of skipped records per pass; the rest
// are counted in one line.
const maxWarnings = 100

// readQueue reads the records of every dead-letter shard from the group's
// checkpoints (or from Since ago) to the end, at most MaxRanges ranges in
// all, and returns the ranges still to ship.
func readQueue(ctx context.Context, o *Options, res *Result) (*queue, error) {
	c := o.Client
	dl := o.Verifier.Logstore
	shards, err := c.ShardIDs(ctx, o.Project, dl)
	if err != nil {
		return nil, err
	}
	if o.Since <= 0 {
		if err := c.EnsureGroup(ctx, o.Project, dl, o.Group, groupTimeout); err != nil {
			return nil, err
		}
	}
	checkpoints, err := loadCheckpoints(ctx, o)
	if err != nil {
		return nil, err
	}
	r := &reader{o: o, res: res, latest: map[deadletter.Key]*item{}, budget: logstore.NewBudget(o.Memory)}
	// Every shard gets its share of the memory, so that one shard full of
	// records cannot keep another's from being read.
	perShard := max(o.MaxRanges/max(len(shards), 1), 1)
	q := &queue{}
	for _, sh := range shards {
		begin, end, err := shardRange(ctx, o, sh, checkpoints[sh])
		if err != nil {
			return nil, err
		}
		stop, err := r.readShard(ctx, sh, begin, end, perShard)
		if err != nil {
			return nil, err
		}
		if stop != "" {
			o.Log.Info("redrive: the ranges in memory reached the bound; the records after the cursor wait for the next pass",
				"logstore", dl, "shard", sh, "cursor", stop, "ranges", perShard)
		}
		q.shards = append(q.shards, shardPos{id: sh, checkpoint: cmp.Or(stop, end)})
	}
	if r.unwarned > 0 {
		o.Log.Warn("redrive: more dead-letter records skipped, not each named", "logstore", dl, "count", r.unwarned)
	}
	for _, it := range r.latest {
		if deadletter.Pending(it.rec.State) {
			if it.next > 0 {
				it.rec.NextCursor = slsapi.Cursor(it.next)
			}
			q.pending = append(q.pending, it)
		}
	}
	slices.SortFunc(q.pending, serveOrder)
	return q, nil
}

// serveOrder serves the ranges tried least recently first (never tried
// before any), then the oldest data first, then in reading order: so
// that N ranges that keep failing or never end cannot starve another.
func serveOrder(a, b *item) int {
	return cmp.Or(a.rec.LastTry.Compare(b.rec.LastTry), cmp.Compare(age(a.rec), age(b.rec)), cmp.Compare(a.seq, b.seq))
}

// age orders ranges by their data: the event's cursorTime, else when the
// range was first recorded.
func age(r deadletter.Record) int64 {
	if r.CursorTime > 0 {
		return r.CursorTime
	}
	return r.Written.Unix()
}

// reader folds the records read into the latest state of each range.
type reader struct {
	o        *Options
	res      *Result
	latest   map[deadletter.Key]*item
	budget   *logstore.Budget
	seq      int
	warned   int
	unwarned int
}

// readShard reads shard sh's records in [begin, end) into r.latest, until
// the shard has max ranges in memory: it then returns the cursor where the
// next pass goes on ("" when it read to end).
func (r *reader) readShard(ctx context.Context, sh int, begin, end string, max int) (string, error) {
	o := r.o
	n := 0
	return deadletter.Read(ctx, o.Client, o.Project, sh, begin, end, deadletter.ReadOptions{Verifier: o.Verifier, Budget: r.budget},
		func(at string, rec deadletter.Record, err error) bool {
			if err == nil {
				err = r.source(rec)
			}
			if err != nil {
				r.res.Records++
				r.skip(sh, at, err)
				return true
			}
			it, known := r.latest[rec.Key()]
			if !known && n >= max {
				return false // no room: this record and the rest wait behind the checkpoint
			}
			r.res.Records++
			r.seq++
			rec.Error = "" // in the stream already; memory is for what the pass needs
			if !known {
				n++
				it = &item{rec: rec, seq: r.seq, shard: sh}
				r.latest[rec.Key()] = it
			} else if !rec.Written.Before(it.rec.Written) {
				it.rec = rec // a copy of an older record (a replay) changes nothing
			}
			if deadletter.Pending(rec.State) {
				if c, err := slsapi.CursorNumber(rec.Resume()); err == nil && c > it.next {
					it.next = c // confirmed delivered: never shipped again because of an older record
				}
			}
			return true
		})
}

// source checks that the record names a range redrive may ship: of
// SLS_PROJECT, of a logstore of SHIP_REDRIVE_LOGSTORES, never of the
// dead-letter logstore.
func (r *reader) source(rec deadletter.Record) error {
	o := r.o
	switch {
	case rec.Project != o.Project:
		return fmt.Errorf("field project is %s: not SLS_PROJECT %s, which holds the dead-letter logstore", rec.Project, o.Project)
	case rec.Logstore == o.Verifier.Logstore:
		return fmt.Errorf("field logstore is %s, the dead-letter logstore itself: never a source", rec.Logstore)
	case !slices.Contains(o.Sources, rec.Logstore):
		return fmt.Errorf("field logstore is %s: not one of SHIP_REDRIVE_LOGSTORES (%s)", rec.Logstore, strings.Join(o.Sources, ","))
	}
	return nil
}

// skip counts a record not acted on, and warns of it (the first
// maxWarnings of a pass).
func (r *reader) skip(sh int, at string, err error) {
	r.res.Skipped++
	if errors.Is(err, deadletter.ErrUnsigned) {
		r.res.Unsigned++
	}
	if r.warned >= maxWarnings {
		r.unwarned++
		return
	}
	r.warned++
	rule := "malformed"
	switch {
	case errors.Is(err, deadletter.ErrUnsigned):
		rule = "unsigned"
	case errors.Is(err, deadletter.ErrNotARecord):
		rule = "not a record"
	}
	r.o.Log.Warn("redrive: skipping a dead-letter record that will not be acted on",
		"logstore", r.o.Verifier.Logstore, "shard", sh, "cursor", at, "rule", rule, "reason", err.Error())
}

// shardRange is where a shard's records are read: from the checkpoint
// (the shard's beginning without one), or from Since ago; to the end.
func shardRange(ctx context.Context, o *Options, sh int, checkpoint string) (begin, end string, err error) {
	dl := o.Verifier.Logstore
	begin = checkpoint
	switch {
	case o.Since > 0:
		from := strconv.FormatInt(o.Now().Add(-o.Since).Unix(), 10)
		begin, err = o.Client.GetCursor(ctx, o.Project, dl, sh, from)
	case begin == "":
		begin, err = o.Client.GetCursor(ctx, o.Project, dl, sh, "begin")
	}
	if err != nil {
		return "", "", err
	}
	end, err = o.Client.GetCursor(ctx, o.Project, dl, sh, "end")
	return begin, end, err
}

// groupTimeout is the timeout of the redrive consumer group: it has no
// consumers, only checkpoints.
const groupTimeout = 300

// loadCheckpoints returns the group's checkpoint per shard.
func loadCheckpoints(ctx context.Context, o *Options) (map[int]string, error) {
	out := map[int]string{}
	if o.Since > 0 {
		return out, nil
	}
	cps, err := o.Client.Checkpoints(ctx, o.Project, o.Verifier.Logstore, o.Group)
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
