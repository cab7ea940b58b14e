package slsemu

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Consumer groups.
//
// A consumer group belongs to a logstore. The service balances the
// logstore's shards over the consumers that sent a heartbeat within the
// group's timeout, and keeps one checkpoint per shard. The emulator follows
// the protocol the SDK's consumer library speaks:
//
//   - A heartbeat carries the shards the consumer is consuming; the answer
//     is the shards it should consume. A shard is handed to another
//     consumer only once its previous holder has stopped reporting it (it
//     flushed its checkpoint and let it go) or has timed out, so two
//     consumers never consume one shard at the same time.
//   - A shard a consumer reported and then omits from a later heartbeat
//     while still assigned to it is free again (the consumer stopped it).
//   - An unknown consumer (new, or timed out) must join with an empty
//     heartbeat: NotExistConsumerWithBody otherwise.
//   - Checkpoints are accepted from the consumer holding the shard (or
//     releasing it): ConsumerNotExsit for a consumer the group does not
//     know (the SDK's spelling), ConsumerNotMatch for one that does not hold
//     the shard. Without a consumer name, forceSuccess=true is required.

// groupSet holds the consumer groups of one logstore.
type groupSet struct {
	mu     sync.Mutex
	groups map[string]*consumerGroup // nil until the first group is created
}

// consumerGroup is one consumer group and its state.
type consumerGroup struct {
	name    string
	timeout int // seconds
	order   bool

	consumers   map[string]*member
	owner       map[int]string // shard → consumer it is assigned to
	releasing   map[int]string // shard → consumer that must still let it go
	checkpoints map[int]checkpoint
}

// member is one consumer of a group.
type member struct {
	lastSeen time.Time
	reported map[int]bool // shards of its last heartbeat
}

// checkpoint is a shard's saved position.
type checkpoint struct {
	cursor   string
	updated  int64 // unix microseconds, as the service answers
	consumer string
}

// groupsOf returns the consumer groups of ls.
func groupsOf(ls *logstore) *groupSet { return &ls.consumerGroups }

func newConsumerGroup(name string, timeout int, order bool) *consumerGroup {
	return &consumerGroup{
		name:        name,
		timeout:     timeout,
		order:       order,
		consumers:   make(map[string]*member),
		owner:       make(map[int]string),
		releasing:   make(map[int]string),
		checkpoints: make(map[int]checkpoint),
	}
}

// ConsumerGroupState is a snapshot of a consumer group, for tests and demos.
type ConsumerGroupState struct {
	Name    string
	Timeout int // seconds
	Order   bool
	// Assigned maps each live consumer to the shards the service assigned
	// to it (what its next heartbeat answer holds), in ascending order.
	Assigned map[string][]int
	// Reported maps each live consumer to the shards of its last heartbeat:
	// those it says it is consuming.
	Reported map[string][]int
	// Checkpoints maps each shard with a saved checkpoint to its cursor.
	Checkpoints map[int]string
}

// ConsumerGroup returns the state of a consumer group, bypassing HTTP.
// Consumers that timed out are dropped first, as the next heartbeat would.
func (s *Server) ConsumerGroup(projectName, logstoreName, group string) (ConsumerGroupState, error) {
	ls, e := s.findLogstore(projectName, logstoreName)
	if e != nil {
		return ConsumerGroupState{}, fmt.Errorf("consumer group %s of %s/%s: %w", group, projectName, logstoreName, e)
	}
	gs := groupsOf(ls)
	gs.mu.Lock()
	defer gs.mu.Unlock()
	g := gs.groups[group]
	if g == nil {
		return ConsumerGroupState{}, fmt.Errorf("consumer group %s of %s/%s: %w", group, projectName, logstoreName, errGroupNotExist(group))
	}
	g.expire(time.Now())
	st := ConsumerGroupState{
		Name: g.name, Timeout: g.timeout, Order: g.order,
		Assigned:    make(map[string][]int),
		Reported:    make(map[string][]int),
		Checkpoints: make(map[int]string),
	}
	for name, m := range g.consumers {
		st.Assigned[name] = g.assigned(name)
		st.Reported[name] = sortedShards(m.reported)
	}
	for shard, cp := range g.checkpoints {
		st.Checkpoints[shard] = cp.cursor
	}
	return st, nil
}

// expire drops the consumers not seen within the group's timeout; their
// shards become free.
func (g *consumerGroup) expire(now time.Time) {
	limit := time.Duration(g.timeout) * time.Second
	for name, m := range g.consumers {
		if now.Sub(m.lastSeen) > limit {
			g.drop(name)
		}
	}
}

// drop removes a consumer and frees its shards.
func (g *consumerGroup) drop(name string) {
	delete(g.consumers, name)
	for shard, c := range g.owner {
		if c == name {
			delete(g.owner, shard)
		}
	}
	for shard, c := range g.releasing {
		if c == name {
			delete(g.releasing, shard)
		}
	}
}

// assigned returns the shards assigned to consumer, ascending.
func (g *consumerGroup) assigned(consumer string) []int {
	out := []int{}
	for shard, c := range g.owner {
		if c == consumer {
			out = append(out, shard)
		}
	}
	slices.Sort(out)
	return out
}

// holds reports whether consumer may save shard's checkpoint: the shard is
// assigned to it, or it is still letting it go.
func (g *consumerGroup) holds(consumer string, shard int) bool {
	return g.owner[shard] == consumer || g.releasing[shard] == consumer
}

func sortedShards(set map[int]bool) []int {
	out := []int{}
	for shard := range set {
		out = append(out, shard)
	}
	slices.Sort(out)
	return out
}
