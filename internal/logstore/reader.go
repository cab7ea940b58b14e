// Package logstore reads one shard's cursor range [begin, end) from Simple
// Log Service with the official SLS Go SDK, one batch of log groups at a
// time, so that memory stays bounded whatever the size of the range.
package logstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"

	"sls2siem/internal/secret"
	"sls2siem/internal/slsapi"
)

// Range is one shard's half-open cursor range.
type Range struct {
	Endpoint string
	Project  string
	Logstore string
	Shard    int
	Begin    string
	End      string
}

// Batch is what one PullLogs call returned. Its groups alias memory the
// Reader recycles: call Release when done with them.
type Batch struct {
	Cursor     string // cursor the batch was pulled from
	NextCursor string // cursor of the group after the batch
	Groups     []*sls.LogGroup
	RawSize    int // uncompressed protobuf size

	dec      *decoder
	free     chan *decoder
	first    int64 // Cursor as a number; -1 when it is not one
	budget   *Budget
	reserved int64 // bytes of the budget the batch holds
}

// GroupCursor returns the cursor of Groups[i] (SLS numbers log groups
// consecutively), or "" when the batch's cursor is not a number.
func (b *Batch) GroupCursor(i int) string {
	if b.first < 0 {
		return ""
	}
	return slsapi.Cursor(b.first + int64(i))
}

// Release hands the batch's memory back to the Reader. The batch must not
// be used afterwards.
func (b *Batch) Release() {
	if b.budget != nil {
		b.budget.release(b.reserved)
		b.budget, b.reserved = nil, 0
	}
	if b.dec == nil {
		return
	}
	select {
	case b.free <- b.dec:
	default:
	}
	b.dec, b.Groups = nil, nil
}

// Logs counts the logs in the batch.
func (b *Batch) Logs() int {
	n := 0
	for _, g := range b.Groups {
		n += len(g.Logs)
	}
	return n
}

// maxStalls is how many empty answers that do not advance the cursor are
// tolerated before the range is declared stuck.
const maxStalls = 3

// Reader pulls a Range batch by batch. It is not safe for concurrent use.
type Reader struct {
	client *sls.Client
	rt     *callTransport
	rng    Range
	max    int // SLS_PULL_COUNT: the most groups asked for
	count  int // groups asked for next (adapted to the budget)
	cursor string
	stalls int
	done   bool
	free   chan *decoder // decoders of released batches
	budget *Budget
	// perGroup is the running estimate of the memory one log group takes
	// once pulled and decoded.
	perGroup int64
}

// Options tune a Reader.
type Options struct {
	// Transport is shared by all readers of the instance (keep-alive
	// connections to SLS survive between invocations).
	Transport *slsapi.Transport
	// PullCount is the most log groups per PullLogs call (1..1000).
	PullCount int
	// Budget is the instance's memory budget for pulled batches (nil: a
	// budget of its own of 256 MiB).
	Budget *Budget
}

// NewReader returns a Reader of rng, an admitted range (see trust), that
// signs with creds. Call Close when done.
func NewReader(rng Range, creds secret.Credentials, opts Options) *Reader {
	rt := &callTransport{base: opts.Transport}
	client := slsapi.NewSDK(rng.Endpoint, creds, opts.Transport.Signing(), rt, slsapi.PullTimeout, slsapi.PullRetryWindow)
	count := opts.PullCount
	if count <= 0 || count > 1000 {
		count = 100
	}
	budget := opts.Budget
	if budget == nil {
		budget = NewBudget(DefaultBudget)
	}
	budget.join()
	return &Reader{client: client, rt: rt, rng: rng, max: count, count: count, cursor: rng.Begin,
		free: make(chan *decoder, 2), budget: budget}
}

// Close counts the Reader out of the budget's sharing. Batches it
// returned stay valid until released.
func (r *Reader) Close() {
	if r.budget != nil {
		r.budget.leave()
		r.budget = nil
	}
}

// Cursor is the cursor of the next batch: where a retry would resume.
func (r *Reader) Cursor() string { return r.cursor }

// Seek makes the next batch start at cursor, a cursor of this range
// already read: used to send again what a failed connection may have lost.
func (r *Reader) Seek(cursor string) {
	r.cursor, r.done, r.stalls = cursor, false, 0
}

// ErrDone is returned by Next when the whole range has been read.
var ErrDone = errors.New("logstore: end of range")

// Next pulls the next batch. It returns ErrDone once the next cursor has
// reached the range's end cursor. A batch may be empty without the range
// being over. Every request of the call, the SDK's retries included, ends
// by ctx's deadline, and cancelling ctx cancels the request in flight.
func (r *Reader) Next(ctx context.Context) (*Batch, error) {
	if r.done || r.cursor == r.rng.End {
		r.done = true
		return nil, ErrDone
	}
	for {
		b, err := r.pull(ctx)
		var tooLarge *tooLargeError
		if errors.As(err, &tooLarge) && r.count > 1 {
			// Ask for fewer groups: the answer would not fit.
			r.count = max(r.count/2, 1)
			continue
		}
		return b, err
	}
}

func (r *Reader) pull(ctx context.Context) (*Batch, error) {
	if err := ctx.Err(); err != nil {
		return nil, r.describe(ctx, nil, err)
	}
	remaining := slsapi.PullRetryWindow
	if dl, ok := ctx.Deadline(); ok {
		remaining = time.Until(dl)
		if remaining <= 0 {
			return nil, r.describe(ctx, nil, context.DeadlineExceeded)
		}
	}
	r.client.RetryTimeOut = min(remaining, slsapi.PullRetryWindow)
	r.client.HTTPClient.Timeout = min(remaining, slsapi.PullTimeout)
	count := r.nextCount()
	// One answer may take half the budget, so that the next pull can
	// overlap the writing of this one; a single group may take it all.
	pl := &pull{budget: r.budget, limit: r.budget.total / 2}
	if count == 1 {
		pl.limit = r.budget.total
	}
	call := &slsapi.Call{Logs: pl}
	callCtx := slsapi.WithCall(ctx, call)
	r.rt.call.Store(&callCtx)
	raw, meta, err := r.client.GetLogsBytesWithQuery(&sls.PullLogRequest{
		Project:          r.rng.Project,
		Logstore:         r.rng.Logstore,
		ShardID:          r.rng.Shard,
		Cursor:           r.cursor,
		EndCursor:        r.rng.End,
		LogGroupMaxCount: count,
	})
	r.rt.call.Store(nil)
	if err != nil {
		r.budget.release(pl.reserved)
		return nil, r.describe(ctx, call, err)
	}
	next := meta.NextCursor
	b := &Batch{Cursor: r.cursor, NextCursor: next, RawSize: len(raw), free: r.free, first: -1,
		budget: r.budget, reserved: pl.reserved}
	if len(raw) > 0 {
		if n, err := slsapi.CursorNumber(r.cursor); err == nil {
			b.first = n
		}
		select {
		case b.dec = <-r.free:
		default:
			b.dec = &decoder{}
		}
		if b.Groups, err = b.dec.decode(raw); err != nil {
			b.Release()
			return nil, fmt.Errorf("pull logs from shard %d at cursor %s: %w", r.rng.Shard, r.cursor, err)
		}
		r.account(b, int64(meta.Netflow)+int64(len(raw)))
	}
	if next == r.cursor && len(b.Groups) == 0 {
		// The service answers "no data, same cursor" at the shard's end.
		// Before the range's end that means the data is not readable
		// (expired or not yet visible): fail rather than spin or skip.
		r.stalls++
		if r.stalls >= maxStalls {
			b.Release()
			return nil, fmt.Errorf("pull logs from shard %d at cursor %s: SLS returned no data and no progress %d times before the end cursor %s",
				r.rng.Shard, r.cursor, r.stalls, r.rng.End)
		}
		return b, nil
	}
	r.stalls = 0
	if next == "" {
		b.Release()
		return nil, fmt.Errorf("pull logs from shard %d at cursor %s: SLS returned an empty next cursor", r.rng.Shard, r.cursor)
	}
	r.cursor = next
	return b, nil
}

// nextCount is how many groups to ask for: SLS_PULL_COUNT, fewer when the
// groups seen so far say that many would not fit the Reader's share of
// the budget.
func (r *Reader) nextCount() int {
	if r.perGroup > 0 {
		fit := r.budget.share() / r.perGroup
		r.count = int(min(max(fit, 1), int64(r.max)))
	}
	return r.count
}

// account corrects the batch's reservation to what it really holds (the
// compressed answer, the raw bytes and its decoder's arenas; all given
// back on Release: every reservation ends with its batch, so no pull can
// wait for memory nobody will free) and updates the per-group estimate.
// A Reader keeps at most two decoders for reuse, so what their arenas
// hold between batches is bounded too.
func (r *Reader) account(b *Batch, answer int64) {
	real := answer + b.dec.footprint()
	switch {
	case real > b.reserved:
		r.budget.force(real - b.reserved)
	case real < b.reserved:
		r.budget.release(b.reserved - real)
	}
	b.reserved = real
	if n := int64(len(b.Groups)); n > 0 {
		est := real / n
		if r.perGroup == 0 {
			r.perGroup = est
		} else {
			r.perGroup = (3*r.perGroup + est) / 4
		}
		r.perGroup = max(r.perGroup, 1)
	}
}

// describe turns an SDK error into one that names the SLS error code, the
// endpoint, the shard and the cursor, and never the credentials.
func (r *Reader) describe(ctx context.Context, call *slsapi.Call, err error) error {
	where := fmt.Sprintf("pull logs from project %s logstore %s shard %d at cursor %s",
		r.rng.Project, r.rng.Logstore, r.rng.Shard, r.cursor)
	if call == nil {
		call = &slsapi.Call{}
	}
	switch {
	case call.Refused() != nil:
		return fmt.Errorf("%s: %w", where, call.Refused())
	case ctx.Err() != nil:
		cause := ""
		if ne := call.NetErr(); ne != nil && !errors.Is(ne, context.Canceled) && !errors.Is(ne, context.DeadlineExceeded) {
			cause = fmt.Sprintf(" (last network error from %s: %v)", r.rng.Endpoint, slsapi.NetCause(ne))
		}
		return fmt.Errorf("%s: stopped before the invocation deadline%s: %w", where, cause, ctx.Err())
	case call.NetErr() != nil:
		return fmt.Errorf("%s: SLS endpoint %s unreachable: %v (gave up after retrying for %s)",
			where, r.rng.Endpoint, slsapi.NetCause(call.NetErr()), r.client.RetryTimeOut.Round(time.Millisecond))
	}
	return slsapi.Describe(where, err)
}

// callTransport attaches the current Next call's context (its deadline,
// its cancellation and its slsapi.Call) to every request the SDK makes:
// the SDK takes no context of its own.
type callTransport struct {
	base *slsapi.Transport
	call atomic.Pointer[context.Context]
}

func (t *callTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx := context.Background()
	if c := t.call.Load(); c != nil {
		ctx = *c
	}
	return t.base.RoundTrip(r.WithContext(ctx))
}
