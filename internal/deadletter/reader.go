package deadletter

import (
	"context"
	"errors"
	"fmt"

	"sls2siem/internal/logstore"
	"sls2siem/internal/slsapi"
)

// ReadOptions configure Read.
type ReadOptions struct {
	// Verifier checks each record; its Logstore is the logstore read.
	Verifier
	// Budget bounds the memory of the pulled answers (nil: a default
	// budget of its own); each answer is released before the next pull.
	Budget *logstore.Budget
}

// Read reads the dead-letter records of one shard of project's logstore
// o.Logstore in [begin, end) and calls fn for each log, in order, with the
// record or the reason it is not one (a log of another topic, a malformed,
// unsigned or disallowed record: the caller warns and skips it). at is the
// cursor of the log group holding the log. The records fn gets hold no
// memory of the pulled answer, which is released before the next pull.
//
// fn returns false to stop: Read then returns the cursor of the log group
// holding that log, where a later read resumes (the group's earlier logs
// are read again then). Having read to end, it returns "".
func Read(ctx context.Context, c *slsapi.Client, project string, shard int, begin, end string, o ReadOptions,
	fn func(at string, r Record, err error) bool) (string, error) {
	rd := logstore.NewReader(logstore.Range{Endpoint: c.Endpoint(), Project: project, Logstore: o.Logstore,
		Shard: shard, Begin: begin, End: end}, c.Credentials(), logstore.Options{Transport: c.Transport(), Budget: o.Budget})
	defer rd.Close()
	for {
		b, err := rd.Next(ctx)
		if errors.Is(err, logstore.ErrDone) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("read the dead-letter records: %w", err)
		}
		stop := ""
	groups:
		for i, g := range b.Groups {
			at := b.GroupCursor(i)
			for _, l := range g.Logs {
				r, err := Parse(g.GetTopic(), Contents(l), o.Verifier)
				if !fn(at, r, err) {
					stop = at
					if stop == "" { // not a sequence cursor: resume at the batch
						stop = b.Cursor
					}
					break groups
				}
			}
		}
		b.Release()
		if stop != "" {
			return stop, nil
		}
	}
}
