package deadletter

import (
	"context"
	"fmt"
	"sync"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/slsapi"
)

// Append writes records to the dead-letter logstore of project with the
// SDK's PutLogs (PostLogStoreLogs with the range's hash key, so that the
// records of a range stay in one shard, in order).
func Append(ctx context.Context, c *slsapi.Client, project, logstore string, recs ...Record) error {
	for _, r := range recs {
		hk := r.Key().hashKey()
		lg := &sls.LogGroup{Topic: proto.String(Topic), Source: proto.String("sls2siem"), Logs: []*sls.Log{r.log()}}
		what := fmt.Sprintf("write a %s dead-letter record for %s to project %s logstore %s", r.State, r.Key(), project, logstore)
		if err := c.PutLogs(ctx, what, project, logstore, lg, &hk); err != nil {
			return err
		}
	}
	return nil
}

// maxRemembered bounds the ranges a Writer remembers having dead-lettered.
const maxRemembered = 4096

// Writer is the trigger function's dead-letter writer: it appends a
// failed record for every failed invocation, and a resolved record when a
// range this instance dead-lettered succeeds later (the trigger's retry).
// It remembers the ranges it dead-lettered in memory only, at most 4096:
// a retry that lands on another instance (or after the set is full)
// writes no resolved record, so redrive ships that range again: a
// duplicate, never a loss. Safe for concurrent use.
type Writer struct {
	Logstore string

	mu     sync.Mutex
	failed map[Key]struct{}
}

// NewWriter returns a Writer to logstore (of each range's own project).
func NewWriter(logstore string) *Writer {
	return &Writer{Logstore: logstore, failed: map[Key]struct{}{}}
}

// Failed appends the failed record r and remembers its range.
func (w *Writer) Failed(ctx context.Context, c *slsapi.Client, r Record) error {
	r.State = StateFailed
	if err := Append(ctx, c, r.Project, w.Logstore, r); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.failed) < maxRemembered {
		w.failed[r.Key()] = struct{}{}
	}
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
	if err := Append(ctx, c, r.Project, w.Logstore, r); err != nil {
		return false, err
	}
	w.mu.Lock()
	delete(w.failed, k)
	w.mu.Unlock()
	return true, nil
}
