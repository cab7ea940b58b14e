package slsemu

import (
	"slices"
	"strings"
	"time"
)

// heartbeat records a heartbeat of consumer reporting the shards it holds,
// rebalances the group's shards 0..shards-1 and returns the shards the
// consumer should hold.
func (g *consumerGroup) heartbeat(consumer string, held []int, shards int, now time.Time) ([]int, *apiError) {
	g.expire(now)
	m := g.consumers[consumer]
	if m == nil {
		if len(held) > 0 {
			return nil, errorf(400, codeNotExistConsumerWithBody, "non-exist consumer %s with non-empty body of heartbeat message", consumer)
		}
		m = &member{reported: map[int]bool{}}
		g.consumers[consumer] = m
	}
	prev := m.reported
	m.lastSeen = now
	m.reported = make(map[int]bool, len(held))
	for _, shard := range held {
		if shard >= 0 && shard < shards {
			m.reported[shard] = true
		}
	}
	// A shard the consumer reported before and no longer reports has been
	// let go: its worker stopped after saving its checkpoint.
	for shard := range prev {
		if m.reported[shard] {
			continue
		}
		if g.owner[shard] == consumer {
			delete(g.owner, shard)
		}
		if g.releasing[shard] == consumer {
			delete(g.releasing, shard)
		}
	}
	for shard, c := range g.releasing {
		if c == consumer && !m.reported[shard] {
			delete(g.releasing, shard) // stopped, or never started on it
		}
	}
	g.rebalance(shards)
	return g.assigned(consumer), nil
}

// rebalance spreads the shards evenly over the live consumers: each gets
// shards/consumers of them, and the first shards%consumers (those already
// holding the most, then by name) one more. A consumer above its share
// gives up its highest shards; they are handed out once its next heartbeat
// no longer reports them (or it timed out).
// Free shards go to the consumers furthest below their share.
func (g *consumerGroup) rebalance(shards int) {
	if len(g.consumers) == 0 {
		return
	}
	count := make(map[string]int, len(g.consumers))
	names := make([]string, 0, len(g.consumers))
	for name := range g.consumers {
		names = append(names, name)
	}
	for shard, c := range g.owner {
		if shard >= shards {
			delete(g.owner, shard)
			continue
		}
		count[c]++
	}
	slices.SortFunc(names, func(a, b string) int {
		if count[a] != count[b] {
			return count[b] - count[a]
		}
		return strings.Compare(a, b)
	})
	quota := make(map[string]int, len(names))
	for i, name := range names {
		quota[name] = shards / len(names)
		if i < shards%len(names) {
			quota[name]++
		}
	}

	// Take the excess away, highest shards first.
	for _, name := range names {
		mine := g.assigned(name)
		for i := len(mine) - 1; i >= 0 && count[name] > quota[name]; i-- {
			shard := mine[i]
			delete(g.owner, shard)
			count[name]--
			// Even a shard it has not reported yet: it may have started
			// on it since the answer that assigned it.
			g.releasing[shard] = name
		}
	}

	// Hand out the free shards.
	for shard := range shards {
		if _, taken := g.owner[shard]; taken {
			continue
		}
		if _, busy := g.releasing[shard]; busy {
			continue
		}
		best := ""
		for _, name := range names {
			if count[name] >= quota[name] {
				continue
			}
			if best == "" || quota[name]-count[name] > quota[best]-count[best] {
				best = name
			}
		}
		if best == "" {
			return
		}
		g.owner[shard] = best
		count[best]++
	}
}
