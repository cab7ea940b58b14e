package sample

import (
	"context"
	"fmt"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

// SLS converts g to the SDK's protobuf type. Topic and Source are always
// set; TimeNs is set only when it is not zero.
func (g LogGroup) SLS() *sls.LogGroup {
	out := &sls.LogGroup{Topic: ptr(g.Topic), Source: ptr(g.Source)}
	for _, t := range g.Tags {
		out.LogTags = append(out.LogTags, &sls.LogTag{Key: ptr(t.Key), Value: ptr(t.Value)})
	}
	for _, l := range g.Logs {
		sl := &sls.Log{Time: ptr(l.Time)}
		if l.TimeNs != 0 {
			sl.TimeNs = ptr(l.TimeNs)
		}
		for _, c := range l.Contents {
			sl.Contents = append(sl.Contents, &sls.LogContent{Key: ptr(c.Key), Value: ptr(c.Value)})
		}
		out.Logs = append(out.Logs, sl)
	}
	return out
}

// FromSLS converts an SDK log group back, so that FromSLS(g.SLS()) equals g.
// Absent fields become zero values.
func FromSLS(g *sls.LogGroup) LogGroup {
	out := LogGroup{Topic: g.GetTopic(), Source: g.GetSource()}
	for _, t := range g.GetLogTags() {
		out.Tags = append(out.Tags, Pair{t.GetKey(), t.GetValue()})
	}
	for _, l := range g.GetLogs() {
		ol := Log{Time: l.GetTime(), TimeNs: l.GetTimeNs()}
		for _, c := range l.GetContents() {
			ol.Contents = append(ol.Contents, Pair{c.GetKey(), c.GetValue()})
		}
		out.Logs = append(out.Logs, ol)
	}
	return out
}

// Put writes ls into the logstore ls.Project/ls.Logstore through c, which
// must already exist with at least len(ls.Shards) shards. Each group of
// shard i is sent by its own PostLogStoreLogs request, in order, routed with
// the hash key of shard i (its InclusiveBeginKey from ListShards), so a shard
// receives exactly the groups of the sample shard with the same ID.
func Put(ctx context.Context, c sls.ClientInterface, ls *Logstore) error {
	shards, err := c.ListShards(ls.Project, ls.Logstore)
	if err != nil {
		return fmt.Errorf("put sample logstore: list shards of %s/%s: %w", ls.Project, ls.Logstore, err)
	}
	keys := make(map[int]string, len(shards))
	for _, s := range shards {
		keys[s.ShardID] = s.InclusiveBeginKey
	}
	for i, groups := range ls.Shards {
		key, ok := keys[i]
		if !ok {
			return fmt.Errorf("put sample logstore: %s/%s has no shard %d", ls.Project, ls.Logstore, i)
		}
		if key == "" {
			return fmt.Errorf("put sample logstore: shard %d of %s/%s has an empty inclusiveBeginKey", i, ls.Project, ls.Logstore)
		}
		for j, g := range groups {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("put sample logstore: %w", err)
			}
			if len(g.Logs) == 0 {
				// The SDK silently skips empty groups, which would shift
				// every later cursor.
				return fmt.Errorf("put sample logstore: shard %d group %d has no logs", i, j)
			}
			if err := c.PostLogStoreLogs(ls.Project, ls.Logstore, g.SLS(), &key); err != nil {
				return fmt.Errorf("put sample logstore: shard %d group %d: %w", i, j, err)
			}
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
