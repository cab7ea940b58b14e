package slsemu

import (
	"fmt"
	"time"
)

// Data retention (the logstore's TTL).
//
// The service deletes a shard's log groups once they are older than the
// logstore's TTL (by receive time). What the emulator answers then, as the
// service does for data that has left the shard:
//
//   - GetCursor from=begin answers the cursor of the first group still
//     kept; from=<time> before it answers that cursor too (never an
//     expired one).
//   - PullLogs and GetCursorTime with the cursor of an expired group
//     answer 400 InvalidCursor (the code the SDK's consumer and the
//     troubleshooting table of docs/operating.md know for "the data left the
//     logstore"), never a silent jump forward: a reader can always tell
//     that logs of its range are gone. Cursors below the shard's first
//     ever cursor are still moved to the beginning, as before.
//
// Groups expire lazily, when a request reads the shard. SetTTL sets a
// logstore's retention; ExpireBefore is the test hook that expires the
// data received before a time at once.

// SetTTL sets the data retention of project/logstore: groups received
// more than ttl ago are no longer served. 0 keeps data forever.
func (s *Server) SetTTL(projectName, logstoreName string, ttl time.Duration) error {
	ls, e := s.findLogstore(projectName, logstoreName)
	if e != nil {
		return fmt.Errorf("set the TTL of %s/%s: %w", projectName, logstoreName, e)
	}
	for _, sh := range ls.shards {
		sh.ttl.Store(int64(ttl / time.Second))
	}
	return nil
}

// ExpireBefore expires, on every shard of project/logstore, the groups
// received before t (unix seconds, as the receive time is kept), and
// returns how many groups expired.
func (s *Server) ExpireBefore(projectName, logstoreName string, t time.Time) (int, error) {
	ls, e := s.findLogstore(projectName, logstoreName)
	if e != nil {
		return 0, fmt.Errorf("expire %s/%s: %w", projectName, logstoreName, e)
	}
	n := 0
	for _, sh := range ls.shards {
		n += sh.expire(t.Unix())
	}
	return n, nil
}

// expire moves the shard's first live group past the groups received
// before cutoff (receive times never decrease within a shard) and returns
// how many expired now.
func (sh *shard) expire(cutoff int64) int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	before := sh.live
	for sh.live < len(sh.groups) && sh.groups[sh.live].received < cutoff {
		sh.live++
	}
	return sh.live - before
}

// liveSnapshot applies the TTL and returns the groups appended so far and
// the index of the first one still served.
func (sh *shard) liveSnapshot() ([]group, int) {
	if ttl := sh.ttl.Load(); ttl > 0 {
		sh.expire(time.Now().Unix() - ttl)
	}
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return sh.groups, sh.live
}

// expiredCursor is the answer to a cursor n (as given, c) of an expired
// group, or nil.
func (sh *shard) expiredCursor(c string, n int64, live int) *apiError {
	if n >= CursorBase && n < CursorBase+int64(live) {
		return errorf(400, codeInvalidCursor, "Cursor %q is out of the data range of shard %d: its data has expired (the logstore's TTL).", c, sh.id)
	}
	return nil
}
