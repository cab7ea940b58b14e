// Package status reports how far an SLS consumer group is behind, per
// shard, from the SLS API alone (ListShards, GetCheckpoint, GetCursor,
// GetCursorTime): the group's checkpoint and the receive time of the log
// group at it, the shard's end cursor and its receive time, and the lag.
// It backs `sls2siem status` and the consumer daemon's lag gauges.
//
// The lag of a shard is how long its oldest log group not yet consumed
// has been in SLS: now minus the receive time of the log group at the
// checkpoint (the first one after the last delivered), and 0 when the
// checkpoint is the shard's end (nothing waits). Where both cursors are
// SLS sequence cursors (base64 of a decimal number, as SLS and the local
// emulator issue them) the report also gives their distance: how many
// log groups wait.
package status

import (
	"context"
	"time"

	"sls2siem/internal/slsapi"
)

// Client is the part of the SLS API the report reads with;
// *slsapi.Client implements it. Its errors say what was asked.
type Client interface {
	Shards(ctx context.Context, project, logstore string) ([]slsapi.Shard, error)
	Checkpoints(ctx context.Context, project, logstore, group string) ([]slsapi.Checkpoint, error)
	GetCursor(ctx context.Context, project, logstore string, shard int, from string) (string, error)
	GetCursorTime(ctx context.Context, project, logstore string, shard int, cursor string) (time.Time, error)
}

// Position is where a cursor stands in its shard.
type Position struct {
	Cursor    string    // the cursor asked about
	At        time.Time // receive time of the log group at Cursor (at the end: of the last one)
	EndCursor string    // the shard's end cursor now
	EndTime   time.Time // receive time of the shard's last log group
	CaughtUp  bool      // Cursor is the end: nothing waits
	// Behind is how many log groups lie between Cursor and the end, when
	// BehindKnown (both are sequence cursors).
	Behind      int64
	BehindKnown bool
}

// Lag is how long the oldest log group after the position has waited at
// now: 0 when caught up.
func (p Position) Lag(now time.Time) time.Duration {
	if p.CaughtUp {
		return 0
	}
	return max(now.Sub(p.At), 0)
}

// Locate finds where cursor stands in the shard: the shard's end and,
// unless cursor is the end, the receive time at cursor.
func Locate(ctx context.Context, c Client, project, logstoreName string, shard int, cursor string) (Position, error) {
	p := Position{Cursor: cursor}
	var err error
	if p.EndCursor, err = c.GetCursor(ctx, project, logstoreName, shard, "end"); err != nil {
		return p, err
	}
	if p.EndTime, err = c.GetCursorTime(ctx, project, logstoreName, shard, p.EndCursor); err != nil {
		return p, err
	}
	p.CaughtUp = cursor == p.EndCursor
	p.At = p.EndTime
	if !p.CaughtUp {
		if p.At, err = c.GetCursorTime(ctx, project, logstoreName, shard, cursor); err != nil {
			return p, err
		}
	}
	p.Behind, p.BehindKnown = slsapi.Distance(cursor, p.EndCursor)
	return p, nil
}

// Shard is one shard's line of the report.
type Shard struct {
	Shard  int    `json:"shard"`
	Status string `json:"status"` // readwrite, or readonly after a split or merge
	// Checkpoint is the group's checkpoint ("" when the group has none
	// for the shard: no consumer has delivered from it yet).
	Checkpoint string `json:"checkpoint"`
	// CheckpointTime is the receive time of the log group at the
	// checkpoint (the next one to deliver; at the end, the last one's).
	CheckpointTime *time.Time `json:"checkpointTime"`
	// CheckpointSaved is when the checkpoint was last saved, and Consumer
	// the consumer that holds the shard now ("" when none does).
	CheckpointSaved *time.Time `json:"checkpointSaved"`
	Consumer        string     `json:"consumer"`
	EndCursor       string     `json:"endCursor"`
	EndTime         time.Time  `json:"endTime"` // receive time of the last log group
	// LagSeconds is the lag (see the package documentation); null without
	// a checkpoint.
	LagSeconds *float64 `json:"lagSeconds"`
	// BehindLogGroups is the cursor distance from the checkpoint to the
	// end, when known.
	BehindLogGroups *int64 `json:"behindLogGroups,omitempty"`
	// Receiver is the syslog receiver (host:port) the consumer holding the
	// shard sends it to, as that consumer's daemon says (AddReceivers); ""
	// when unknown.
	Receiver string `json:"receiver,omitempty"`
}

// Report is a consumer group's progress over a logstore's shards.
type Report struct {
	Project  string    `json:"project"`
	Logstore string    `json:"logstore"`
	Group    string    `json:"consumerGroup"`
	Time     time.Time `json:"time"` // when the lags were computed
	Shards   []Shard   `json:"shards"`
	// Daemons are the consumer daemons (host:port of their
	// SHIP_METRICS_ADDR) asked for the shards' receivers, if any.
	Daemons []string `json:"daemons,omitempty"`
}

// AddReceivers sets each shard's Receiver from what the consumer daemons
// at daemons say: held maps a consumer's name to the receiver of each
// shard it holds. Only the consumer the group names as the shard's holder
// is believed, so a daemon that has just let a shard go cannot speak for
// it.
func (r *Report) AddReceivers(daemons []string, held map[string]map[int]string) {
	r.Daemons = daemons
	for i, s := range r.Shards {
		if s.Consumer != "" {
			r.Shards[i].Receiver = held[s.Consumer][s.Shard]
		}
	}
}

// Read builds the report of group over project/logstore at now. An unknown
// project, logstore or group fails with the SLS error code.
func Read(ctx context.Context, c Client, project, logstoreName, group string, now time.Time) (Report, error) {
	r := Report{Project: project, Logstore: logstoreName, Group: group, Time: now.UTC(), Shards: []Shard{}}
	shards, err := c.Shards(ctx, project, logstoreName)
	if err != nil {
		return r, err
	}
	cps, err := c.Checkpoints(ctx, project, logstoreName, group)
	if err != nil {
		return r, err
	}
	byShard := map[int]slsapi.Checkpoint{}
	for _, cp := range cps {
		byShard[cp.Shard] = cp
	}
	for _, sh := range shards {
		line, err := readShard(ctx, c, project, logstoreName, sh, byShard[sh.ID], now)
		if err != nil {
			return r, err
		}
		r.Shards = append(r.Shards, line)
	}
	return r, nil
}

// readShard is one shard's line: where its checkpoint cp stands ("" when
// the group has none for it).
func readShard(ctx context.Context, c Client, project, logstoreName string, sh slsapi.Shard, cp slsapi.Checkpoint, now time.Time) (Shard, error) {
	line := Shard{Shard: sh.ID, Status: sh.Status, Checkpoint: cp.Cursor, Consumer: cp.Consumer}
	if !cp.Saved.IsZero() {
		saved := cp.Saved
		line.CheckpointSaved = &saved
	}
	if cp.Cursor == "" {
		// Only the end matters: no consumer has delivered from it.
		end, err := c.GetCursor(ctx, project, logstoreName, sh.ID, "end")
		if err != nil {
			return line, err
		}
		line.EndCursor = end
		if line.EndTime, err = c.GetCursorTime(ctx, project, logstoreName, sh.ID, end); err != nil {
			return line, err
		}
		line.EndTime = line.EndTime.UTC()
		return line, nil
	}
	pos, err := Locate(ctx, c, project, logstoreName, sh.ID, cp.Cursor)
	if err != nil {
		return line, err
	}
	at := pos.At.UTC()
	lag := pos.Lag(now).Seconds()
	line.CheckpointTime, line.LagSeconds = &at, &lag
	line.EndCursor, line.EndTime = pos.EndCursor, pos.EndTime.UTC()
	if pos.BehindKnown {
		behind := pos.Behind
		line.BehindLogGroups = &behind
	}
	return line, nil
}

// MaxLag returns the largest lag of the report's shards with a checkpoint.
func (r Report) MaxLag() time.Duration {
	var m float64
	for _, s := range r.Shards {
		if s.LagSeconds != nil && *s.LagSeconds > m {
			m = *s.LagSeconds
		}
	}
	return time.Duration(m * float64(time.Second))
}

// Over returns the shards lagging more than limit.
func (r Report) Over(limit time.Duration) []int {
	var out []int
	for _, s := range r.Shards {
		if s.LagSeconds != nil && time.Duration(*s.LagSeconds*float64(time.Second)) > limit {
			out = append(out, s.Shard)
		}
	}
	return out
}
