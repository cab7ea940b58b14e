package slsapi

import (
	"context"
	"fmt"
	"sort"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

// Shard is one shard of a logstore.
type Shard struct {
	ID     int
	Status string // readwrite, or readonly after a split or merge
}

// Shards lists the shards of project/logstore, by id.
func (c *Client) Shards(ctx context.Context, project, logstore string) ([]Shard, error) {
	var out []Shard
	err := c.call(ctx, fmt.Sprintf("list the shards of project %s logstore %s", project, logstore), func(cl *sls.Client) error {
		shards, err := cl.ListShards(project, logstore)
		for _, s := range shards {
			out = append(out, Shard{ID: s.ShardID, Status: s.Status})
		}
		return err
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

// ShardIDs lists the shard ids of project/logstore, in order.
func (c *Client) ShardIDs(ctx context.Context, project, logstore string) ([]int, error) {
	shards, err := c.Shards(ctx, project, logstore)
	ids := make([]int, len(shards))
	for i, s := range shards {
		ids[i] = s.ID
	}
	return ids, err
}

// GetCursor is SLS GetCursor: from is "begin", "end" or a unix time in
// seconds (the first log group received at or after it).
func (c *Client) GetCursor(ctx context.Context, project, logstore string, shard int, from string) (string, error) {
	var cur string
	err := c.call(ctx, fmt.Sprintf("get the %s cursor of project %s logstore %s shard %d", from, project, logstore, shard), func(cl *sls.Client) error {
		var err error
		cur, err = cl.GetCursor(project, logstore, shard, from)
		return err
	})
	return cur, err
}

// GetCursorTime is SLS GetCursorTime: the receive time of the log group
// at cursor.
func (c *Client) GetCursorTime(ctx context.Context, project, logstore string, shard int, cursor string) (time.Time, error) {
	var t time.Time
	err := c.call(ctx, fmt.Sprintf("get the receive time at cursor %s of project %s logstore %s shard %d", cursor, project, logstore, shard), func(cl *sls.Client) error {
		var err error
		t, err = cl.GetCursorTime(project, logstore, shard, cursor)
		return err
	})
	return t, err
}

// LogstoreInfo is what GetLogStore says of a logstore.
type LogstoreInfo struct {
	Name   string
	TTL    int // data retention in days (3650: kept forever)
	Shards int
}

// Forever is the TTL of a logstore that keeps its data.
const Forever = 3650

// Logstore is SLS GetLogStore.
func (c *Client) Logstore(ctx context.Context, project, logstore string) (LogstoreInfo, error) {
	var info LogstoreInfo
	err := c.call(ctx, fmt.Sprintf("read the settings of project %s logstore %s", project, logstore), func(cl *sls.Client) error {
		ls, err := cl.GetLogStore(project, logstore)
		if err == nil {
			info = LogstoreInfo{Name: ls.Name, TTL: ls.TTL, Shards: ls.ShardCount}
		}
		return err
	})
	return info, err
}

// Checkpoint is a consumer group's checkpoint of one shard.
type Checkpoint struct {
	Shard    int
	Cursor   string
	Consumer string    // the consumer holding the shard now ("" for none)
	Saved    time.Time // when it was last saved (zero when unknown)
}

// Checkpoints reads the checkpoints of a consumer group.
func (c *Client) Checkpoints(ctx context.Context, project, logstore, group string) ([]Checkpoint, error) {
	var out []Checkpoint
	err := c.call(ctx, fmt.Sprintf("read the checkpoints of consumer group %s of project %s logstore %s", group, project, logstore), func(cl *sls.Client) error {
		cps, err := cl.GetCheckpoint(project, logstore, group)
		for _, cp := range cps {
			k := Checkpoint{Shard: cp.ShardID, Cursor: cp.CheckPoint, Consumer: cp.Consumer}
			if cp.UpdateTime > 0 {
				k.Saved = time.UnixMicro(cp.UpdateTime).UTC()
			}
			out = append(out, k)
		}
		return err
	})
	return out, err
}

// SaveCheckpoint saves cursor as the group's checkpoint of shard, with no
// consumer holding it (the group used only as a checkpoint store).
func (c *Client) SaveCheckpoint(ctx context.Context, project, logstore, group string, shard int, cursor string) error {
	return c.call(ctx, fmt.Sprintf("save the checkpoint of consumer group %s of project %s logstore %s shard %d", group, project, logstore, shard), func(cl *sls.Client) error {
		return cl.UpdateCheckpoint(project, logstore, group, "", shard, cursor, true)
	})
}

// EnsureGroup creates the consumer group when it is missing, or sets its
// timeout (seconds) when it differs, so that a wrong endpoint, project,
// logstore or credential fails at once with an error naming it.
func (c *Client) EnsureGroup(ctx context.Context, project, logstore, group string, timeout int) error {
	want := sls.ConsumerGroup{ConsumerGroupName: group, Timeout: timeout}
	where := fmt.Sprintf("consumer group %s of project %s logstore %s at %s", group, project, logstore, c.endpoint)
	var groups []*sls.ConsumerGroup
	err := c.call(ctx, "list the consumer groups for "+where, func(cl *sls.Client) error {
		var err error
		groups, err = cl.ListConsumerGroup(project, logstore)
		return err
	})
	if err != nil {
		return err
	}
	for _, g := range groups {
		if g.ConsumerGroupName != group {
			continue
		}
		if *g == want {
			return nil
		}
		return c.call(ctx, "update the timeout of "+where, func(cl *sls.Client) error {
			return cl.UpdateConsumerGroup(project, logstore, want)
		})
	}
	err = c.call(ctx, "create "+where, func(cl *sls.Client) error {
		return cl.CreateConsumerGroup(project, logstore, want)
	})
	if IsCode(err, "ConsumerGroupAlreadyExist") {
		return nil // another consumer created it meanwhile
	}
	return err
}

// PutLogs writes lg to project/logstore (PostLogStoreLogs: with hashKey,
// to the shard whose range holds it, so that records with one key stay in
// one shard, in order).
func (c *Client) PutLogs(ctx context.Context, what, project, logstore string, lg *sls.LogGroup, hashKey *string) error {
	return c.call(ctx, what, func(cl *sls.Client) error {
		return cl.PostLogStoreLogs(project, logstore, lg, hashKey)
	})
}
