package backfill

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"sls2siem/internal/ship"
	"sls2siem/internal/slsapi"
)

// stateVersion is the version of the state file's layout.
const stateVersion = 1

var errNoState = errors.New("no state file")

// State is the state file: which backfill it is for, and per shard the
// window's cursor range, the next cursor to ship and the counts so far.
// It is JSON, rewritten atomically (a temporary file renamed over it)
// after every chunk.
type State struct {
	Version  int           `json:"version"`
	Endpoint string        `json:"endpoint"`
	Project  string        `json:"project"`
	Logstore string        `json:"logstore"`
	From     int64         `json:"from"`
	To       int64         `json:"to"`
	Chunk    int64         `json:"chunk"`
	Shards   []ShardResult `json:"shards"`
	Updated  time.Time     `json:"updated"`

	Resumed bool `json:"-"`

	mu   sync.Mutex
	path string
	// run counts what this run shipped (rates and ETA), per shard index.
	run map[int]runCounts
}

type runCounts struct{ groups, logs, bytes int64 }

// LoadState reads a state file.
func LoadState(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoState
	}
	if err != nil {
		return nil, fmt.Errorf("read the state file: %w", err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("the state file %s is not a backfill state: %v", path, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("the state file %s has version %d, want %d", path, st.Version, stateVersion)
	}
	if err := st.consistent(); err != nil {
		return nil, fmt.Errorf("the state file %s %w: refusing to resume it; use another -state file", path, err)
	}
	st.path = path
	return &st, nil
}

// consistent checks what a state file says of its shards before it is
// trusted: at least one shard, each once, with cursors where begin <=
// next <= end, its count of log groups end - begin, and done exactly when
// next is at end.
func (st *State) consistent() error {
	if len(st.Shards) == 0 {
		return errors.New("lists no shard")
	}
	seen := map[int]bool{}
	for _, sh := range st.Shards {
		if seen[sh.Shard] {
			return fmt.Errorf("lists shard %d twice", sh.Shard)
		}
		seen[sh.Shard] = true
		b, err1 := slsapi.CursorNumber(sh.Begin)
		n, err2 := slsapi.CursorNumber(sh.Next)
		e, err3 := slsapi.CursorNumber(sh.End)
		switch {
		case err1 != nil || err2 != nil || err3 != nil:
			return fmt.Errorf("has cursors of shard %d that are not SLS cursors", sh.Shard)
		case b > n || n > e:
			return fmt.Errorf("says shard %d goes on at %s, outside its range [%s, %s)", sh.Shard, sh.Next, sh.Begin, sh.End)
		case sh.Total != e-b:
			return fmt.Errorf("says shard %d has %d log groups, but its range [%s, %s) holds %d", sh.Shard, sh.Total, sh.Begin, sh.End, e-b)
		case sh.Done != (n == e):
			return fmt.Errorf("says shard %d is done=%v at %s, but its end cursor is %s", sh.Shard, sh.Done, sh.Next, sh.End)
		}
	}
	return nil
}

// matches tells whether the state was made for the backfill o (shards:
// the shards asked for, sorted).
func (st *State) matches(o Options, shards []int) error {
	var diff []string
	if st.Project != o.Project {
		diff = append(diff, fmt.Sprintf("project %s, not %s", st.Project, o.Project))
	}
	if st.Logstore != o.Logstore {
		diff = append(diff, fmt.Sprintf("logstore %s, not %s", st.Logstore, o.Logstore))
	}
	if st.From != o.From || st.To != o.To {
		diff = append(diff, fmt.Sprintf("window [%s, %s), not [%s, %s)", unixString(st.From), unixString(st.To), unixString(o.From), unixString(o.To)))
	}
	if st.Endpoint != o.Endpoint {
		diff = append(diff, fmt.Sprintf("endpoint %s, not %s", st.Endpoint, o.Endpoint))
	}
	var have []int
	for _, sh := range st.Shards {
		have = append(have, sh.Shard)
	}
	slices.Sort(have)
	if !slices.Equal(have, shards) { // without -shards: every shard of the logstore
		diff = append(diff, fmt.Sprintf("shards %s, not %s", joinInts(have), joinInts(shards)))
	}
	if len(diff) > 0 {
		return fmt.Errorf("the state file %s was made for another backfill (%s): refusing to resume it; use another -state file", st.path0(), strings.Join(diff, "; "))
	}
	return nil
}

func (st *State) path0() string {
	if st.path != "" {
		return st.path
	}
	return "given"
}

func unixString(n int64) string { return time.Unix(n, 0).UTC().Format(time.RFC3339) }

func (st *State) shard(i int) ShardResult {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.Shards[i]
}

// advance records a shipped chunk of shard i and saves the state.
func (st *State) advance(i int, next string, sum ship.Summary, done bool) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	sh := &st.Shards[i]
	sh.Next, sh.Done, sh.Error = next, done, ""
	sh.Add(sum.Counters)
	if st.run == nil {
		st.run = map[int]runCounts{}
	}
	r := st.run[i]
	r.groups += sum.LogGroups
	r.logs += sum.Logs
	r.bytes += sum.Bytes
	st.run[i] = r
	return st.saveLocked()
}

// fail records shard i's error (its next cursor stays at the failed
// chunk) and saves the state.
func (st *State) fail(i int, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.Shards[i].Error = err.Error()
	_ = st.saveLocked()
}

func (st *State) save() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.saveLocked()
}

// saveLocked writes the state atomically: a temporary file in the same
// directory, synced, renamed over the state file.
func (st *State) saveLocked() error {
	if st.path == "" {
		return nil
	}
	st.Updated = time.Now().UTC()
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the state: %w", err)
	}
	dir := filepath.Dir(st.path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(st.path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("save the state file: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, st.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("save the state file %s: %w", st.path, err)
	}
	return nil
}

// result is the state as a Result.
func (st *State) result() Result {
	st.mu.Lock()
	defer st.mu.Unlock()
	res := Result{Project: st.Project, Logstore: st.Logstore, From: st.From, To: st.To, Resumed: st.Resumed,
		Shards: slices.Clone(st.Shards), Done: true}
	for _, sh := range st.Shards {
		res.Add(sh.Counters)
		res.Done = res.Done && sh.Done
	}
	return res
}

// SaveState writes the state of the run that returned r to path (for a
// run without a state file that was interrupted: its resume point).
func (r Result) SaveState(path string) error {
	if r.state == nil {
		return errors.New("no state to save")
	}
	r.state.mu.Lock()
	r.state.path = path
	r.state.mu.Unlock()
	return r.state.save()
}
