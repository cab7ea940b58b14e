package deadletter

import (
	"context"
	"errors"
	"fmt"

	"sls2siem/internal/logstore"
	"sls2siem/internal/slsapi"
	"sls2siem/internal/trust"
)

// Read reads the dead-letter records of one shard of project/store in
// [begin, end) and calls fn for each log, in order, with the record or the
// reason it is not one (a log of another topic, a malformed or disallowed
// record: the caller warns and skips it). at is the cursor of the log
// group holding the log.
func Read(ctx context.Context, c *slsapi.Client, project, store string, shard int, begin, end string,
	allowed trust.Endpoints, fn func(at string, r Record, err error)) error {
	rd := logstore.NewReader(logstore.Range{Endpoint: c.Endpoint(), Project: project, Logstore: store,
		Shard: shard, Begin: begin, End: end}, c.Credentials(), logstore.Options{Transport: c.Transport()})
	defer rd.Close()
	for {
		b, err := rd.Next(ctx)
		if errors.Is(err, logstore.ErrDone) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read the dead-letter records: %w", err)
		}
		for i, g := range b.Groups {
			at := b.GroupCursor(i)
			for _, l := range g.Logs {
				r, err := Parse(g.GetTopic(), l, allowed)
				fn(at, r, err)
			}
		}
		b.Release()
	}
}
