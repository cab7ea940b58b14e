// Package backfill ships a receive-time window of one logstore: for every
// shard it asks SLS for the cursors of the window's two ends (GetCursor by
// time), then ships the cursor range between them in consecutive chunks
// of log groups with the trigger's own pipeline (ship.Shipper.ShipRange),
// several shards at a time. After every chunk it records the shard's next
// cursor and counts in a state file (state.go), so that an interrupted
// backfill continues where it stopped, and reports progress through a
// Reporter (progress.go: plain lines; bars.go: a live terminal display).
package backfill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"sls2siem/internal/delivery"
	"sls2siem/internal/ship"
	"sls2siem/internal/slsapi"
	"sls2siem/internal/trigger"
)

// DefaultChunk is how many log groups one chunk holds by default: the
// state file and the progress advance at chunk boundaries, and an
// interrupted chunk is shipped again (its duplicates) on resume.
const DefaultChunk = 100

// ErrInterrupted is returned when Stop was closed before every shard was
// shipped: the state was saved at a chunk boundary.
var ErrInterrupted = errors.New("backfill interrupted")

// BadInputError is a problem with what the caller asked for (an unknown
// shard, a state file made for another backfill), found before any log
// was read.
type BadInputError struct{ Err error }

func (e *BadInputError) Error() string { return e.Err.Error() }
func (e *BadInputError) Unwrap() error { return e.Err }

func badInput(format string, args ...any) error {
	return &BadInputError{fmt.Errorf(format, args...)}
}

// Options configure a backfill.
type Options struct {
	Shipper *ship.Shipper
	// Client reaches the endpoint (admitted) with the run's credentials,
	// through the Shipper's SLS transport: GetLogStore, ListShards and
	// GetCursor.
	Client *slsapi.Client
	// Endpoint is the SLS endpoint as the ranges name it (ShipRange
	// admits it again).
	Endpoint          string
	Project, Logstore string
	// From and To bound the receive-time window [From, To), whole
	// seconds (From < To; see ParseWindow).
	From, To int64
	// Now is the time the window is checked against (zero: the clock's).
	Now time.Time
	// Shards to ship; nil ships every shard of the logstore.
	Shards []int
	// Parallel bounds how many shards ship at a time (≥ 1).
	Parallel int
	// Chunk is the number of log groups per chunk (≥ 1).
	Chunk int64
	// StatePath is the state file ("" keeps no state).
	StatePath string
	// Stop, when closed, makes every shard stop at its next chunk
	// boundary; Run then saves the state and returns ErrInterrupted.
	Stop <-chan struct{}
	// Progress receives the progress (nil: none).
	Progress Reporter
	Log      *slog.Logger
}

// Result is what a backfill did: its summary, per shard.
type Result struct {
	Project  string        `json:"project"`
	Logstore string        `json:"logstore"`
	From     int64         `json:"from"`
	To       int64         `json:"to"`
	Resumed  bool          `json:"resumed"`
	Shards   []ShardResult `json:"shards"`
	// The shards' counters added up.
	delivery.Counters
	// Done is true when every shard's range was shipped.
	Done       bool  `json:"done"`
	DurationMS int64 `json:"durationMs"`

	state *State
}

// ShardResult is one shard's part of the window: its cursor range, how
// far it was shipped and what was delivered (over every run of the
// state file).
type ShardResult struct {
	Shard int    `json:"shard"`
	Begin string `json:"beginCursor"`
	End   string `json:"endCursor"`
	Next  string `json:"nextCursor"`
	Total int64  `json:"totalLogGroups"` // log groups in the window
	// What the chunks shipped delivered (see delivery.Counters).
	delivery.Counters
	Done  bool   `json:"done"`
	Error string `json:"error,omitempty"`
}

// Run ships the window. It validates the shards against ListShards and
// reads (or creates) the state before any log is read. Its error is a
// *BadInputError for bad input, ErrInterrupted after Stop, or what made a
// shard fail (the other shards still finish).
func Run(ctx context.Context, o Options) (Result, error) {
	start := time.Now()
	if o.Parallel < 1 {
		o.Parallel = 1
	}
	if o.Chunk < 1 {
		o.Chunk = DefaultChunk
	}
	if o.Progress == nil {
		o.Progress = nopReporter{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	st, err := prepare(ctx, o)
	if err != nil {
		return Result{Project: o.Project, Logstore: o.Logstore, From: o.From, To: o.To}, err
	}
	o.Progress.Start(st.progress(nil))

	var (
		wg       sync.WaitGroup
		sem      = make(chan struct{}, o.Parallel)
		errMu    sync.Mutex
		errs     []error
		runStart = time.Now()
	)
	for i := range st.Shards {
		if st.Shards[i].Done {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-o.Stop:
				return
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			if err := shipShard(ctx, o, st, i, runStart); err != nil {
				errMu.Lock()
				errs = append(errs, err)
				errMu.Unlock()
			}
		}()
	}
	wg.Wait()
	res := st.result()
	res.state = st
	res.DurationMS = time.Since(start).Milliseconds()
	var runErr error
	switch {
	case len(errs) > 0:
		runErr = errors.Join(errs...)
	case !res.Done && (stopped(o.Stop) || ctx.Err() != nil):
		runErr = ErrInterrupted
	case !res.Done:
		runErr = errors.New("not every shard was shipped")
	}
	o.Progress.Finish(res, runErr)
	return res, runErr
}

// shipShard ships shard st.Shards[i] chunk by chunk from its next cursor,
// saving the state after every chunk, until its end, Stop, or a failure.
func shipShard(ctx context.Context, o Options, st *State, i int, runStart time.Time) error {
	sh := st.shard(i)
	next, err1 := slsapi.CursorNumber(sh.Next)
	end, err2 := slsapi.CursorNumber(sh.End)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("shard %d: the state's cursors do not parse", sh.Shard)
	}
	for next < end {
		if stopped(o.Stop) || ctx.Err() != nil {
			return nil
		}
		ce := min(next+o.Chunk, end)
		src := trigger.Source{Endpoint: o.Endpoint, ProjectName: o.Project, LogstoreName: o.Logstore, ShardID: sh.Shard,
			BeginCursor: slsapi.Cursor(next), EndCursor: slsapi.Cursor(ce)}
		sum, err := o.Shipper.ShipRange(ctx, src, o.Client.Credentials())
		if err != nil {
			if ctx.Err() != nil {
				return nil // aborted: the chunk is shipped again on resume
			}
			st.fail(i, err)
			o.Progress.Update(st.progressOf(i, runStart))
			return fmt.Errorf("shard %d chunk [%s, %s): %w", sh.Shard, src.BeginCursor, src.EndCursor, err)
		}
		next = ce
		if serr := st.advance(i, slsapi.Cursor(next), sum, next >= end); serr != nil {
			return serr
		}
		o.Progress.Update(st.progressOf(i, runStart))
	}
	return nil
}

// prepare validates the window against the logstore's retention and the
// shards against ListShards, and returns the state: read from StatePath
// when it exists (it must be for the same backfill), otherwise computed
// with GetCursor by time and saved.
func prepare(ctx context.Context, o Options) (*State, error) {
	want, err := shardsToShip(ctx, o)
	if err != nil {
		return nil, err
	}
	if err := checkRetention(ctx, o, want); err != nil {
		return nil, err
	}
	if o.StatePath != "" {
		st, err := LoadState(o.StatePath)
		switch {
		case err == nil:
			if err := st.matches(o, want); err != nil {
				return nil, &BadInputError{err}
			}
			if err := verifyEnds(ctx, o, st); err != nil {
				return nil, err
			}
			st.path, st.Resumed = o.StatePath, true
			return st, nil
		case !errors.Is(err, errNoState):
			return nil, &BadInputError{err}
		}
	}
	st := &State{Version: stateVersion, Endpoint: o.Endpoint, Project: o.Project, Logstore: o.Logstore, From: o.From, To: o.To,
		Chunk: o.Chunk, path: o.StatePath}
	for _, s := range want {
		sh, err := windowOf(ctx, o, s)
		if err != nil {
			return nil, err
		}
		st.Shards = append(st.Shards, sh)
	}
	if err := st.save(); err != nil {
		return nil, err
	}
	return st, nil
}

// verifyEnds checks the end cursor of every shard of a resumed state
// against SLS (the cursor of the window's end, GetCursor by time): a state
// whose shard ends elsewhere, done or not, was not made for this window's
// data, and shipping by it could skip logs.
func verifyEnds(ctx context.Context, o Options, st *State) error {
	for _, sh := range st.Shards {
		end, err := o.Client.GetCursor(ctx, o.Project, o.Logstore, sh.Shard, strconv.FormatInt(o.To, 10))
		if err != nil {
			return err
		}
		if end != sh.End {
			return badInput("the state file %s says shard %d ends at cursor %s (done: %v), but SLS puts the window's end at %s: refusing to resume it; use another -state file",
				st.path0(), sh.Shard, sh.End, sh.Done, end)
		}
	}
	return nil
}

// shardsToShip checks o.Shards against the logstore's shards and returns
// the shards to ship, sorted, each once.
func shardsToShip(ctx context.Context, o Options) ([]int, error) {
	ids, err := o.Client.ShardIDs(ctx, o.Project, o.Logstore)
	if err != nil {
		return nil, err
	}
	for _, s := range o.Shards {
		if !slices.Contains(ids, s) {
			return nil, badInput("shard %d is not a shard of project %s logstore %s (its shards: %s)",
				s, o.Project, o.Logstore, joinInts(ids))
		}
	}
	want := o.Shards
	if want == nil {
		want = ids
	}
	want = slices.Clone(want)
	slices.Sort(want)
	return slices.Compact(want), nil
}

// windowOf asks SLS for the cursor range of the window in shard s.
func windowOf(ctx context.Context, o Options, s int) (ShardResult, error) {
	b, err := o.Client.GetCursor(ctx, o.Project, o.Logstore, s, strconv.FormatInt(o.From, 10))
	if err != nil {
		return ShardResult{}, err
	}
	e, err := o.Client.GetCursor(ctx, o.Project, o.Logstore, s, strconv.FormatInt(o.To, 10))
	if err != nil {
		return ShardResult{}, err
	}
	bn, err1 := slsapi.CursorNumber(b)
	en, err2 := slsapi.CursorNumber(e)
	if err1 != nil || err2 != nil || en < bn {
		return ShardResult{}, fmt.Errorf("shard %d: SLS answered the cursors %q and %q for the window, not a range", s, b, e)
	}
	return ShardResult{Shard: s, Begin: b, End: e, Next: b, Total: en - bn, Done: en == bn}, nil
}

func stopped(c <-chan struct{}) bool {
	if c == nil {
		return false
	}
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

// ParseShards reads a comma-separated list of shard ids.
func ParseShards(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a shard id (want a comma-separated list such as 0,1,3)", strings.TrimSpace(f))
		}
		out = append(out, n)
	}
	return out, nil
}
