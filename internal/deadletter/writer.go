package deadletter

import (
	"context"
	"fmt"
	"sync"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/slsapi"
)

// Append signs records with keys and writes them to the dead-letter
// logstore of project with the SDK's PutLogs (PostLogStoreLogs with the
// range's hash key, so that the records of a range stay in one shard). A
// record's Written is set to the time of writing, strictly after any
// record this process wrote before.
func Append(ctx context.Context, c *slsapi.Client, project, logstore string, keys Keys, recs ...Record) error {
	if !keys.Set() {
		return fmt.Errorf("write a dead-letter record to project %s logstore %s: no key to sign it (SHIP_DEADLETTER_KEY)", project, logstore)
	}
	for _, r := range recs {
		r.Written = writeTime()
		hk := r.Key().hashKey()
		lg := &sls.LogGroup{Topic: proto.String(Topic), Source: proto.String("sls2siem"), Logs: []*sls.Log{r.log(logstore, keys)}}
		what := fmt.Sprintf("write a %s dead-letter record for %s to project %s logstore %s", r.State, r.Key(), project, logstore)
		if err := c.PutLogs(ctx, what, project, logstore, lg, &hk); err != nil {
			return err
		}
	}
	return nil
}

var written struct {
	sync.Mutex
	last time.Time
}

// writeTime is now, strictly after the last write time handed out, so
// that two records of a range written in a row never tie.
func writeTime() time.Time {
	written.Lock()
	defer written.Unlock()
	t := time.Now()
	if !t.After(written.last) {
		t = written.last.Add(time.Nanosecond)
	}
	written.last = t
	return t
}

// maxRemembered bounds the ranges a Writer remembers having recorded.
const maxRemembered = 4096

// Writer is the trigger function's dead-letter writer: it appends a
// failed record for every failed invocation, a resolved record when a
// range this instance dead-lettered succeeds later (the trigger's retry),
// and one invalid record for a range that cannot exist in its shard. It
// remembers the ranges it recorded in memory only, at most 4096 of each:
// a retry that lands on another instance (or after the set is full)
// writes no resolved record, so redrive ships that range again (a
// duplicate, never a loss), and may write another invalid record (an
// audit line more). Safe for concurrent use.
type Writer struct {
	Logstore string
	keys     Keys

	mu      sync.Mutex
	failed  map[Key]struct{}
	invalid map[Key]struct{}
}

// NewWriter returns a Writer to logstore (of each range's own project)
// signing with keys.
func NewWriter(logstore string, keys Keys) *Writer {
	return &Writer{Logstore: logstore, keys: keys, failed: map[Key]struct{}{}, invalid: map[Key]struct{}{}}
}

// Failed appends the failed record r and remembers its range.
func (w *Writer) Failed(ctx context.Context, c *slsapi.Client, r Record) error {
	r.State = StateFailed
	if err := Append(ctx, c, r.Project, w.Logstore, w.keys, r); err != nil {
		return err
	}
	w.remember(w.failed, r.Key())
	return nil
}

// Resolved appends a resolved record for r's range when this Writer
// dead-lettered it before; it reports whether it wrote one.
func (w *Writer) Resolved(ctx context.Context, c *slsapi.Client, r Record) (bool, error) {
	k := r.Key()
	w.mu.Lock()
	_, ok := w.failed[k]
	w.mu.Unlock()
	if !ok {
		return false, nil
	}
	r.State = StateResolved
	if err := Append(ctx, c, r.Project, w.Logstore, w.keys, r); err != nil {
		return false, err
	}
	w.mu.Lock()
	delete(w.failed, k)
	w.mu.Unlock()
	return true, nil
}

// Invalid appends an invalid record for r's range, once: it reports
// whether it wrote one (false when this Writer recorded the range
// before).
func (w *Writer) Invalid(ctx context.Context, c *slsapi.Client, r Record) (bool, error) {
	k := r.Key()
	w.mu.Lock()
	_, done := w.invalid[k]
	w.mu.Unlock()
	if done {
		return false, nil
	}
	r.State = StateInvalid
	if err := Append(ctx, c, r.Project, w.Logstore, w.keys, r); err != nil {
		return false, err
	}
	w.remember(w.invalid, k)
	return true, nil
}

func (w *Writer) remember(set map[Key]struct{}, k Key) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(set) < maxRemembered {
		set[k] = struct{}{}
	}
}
