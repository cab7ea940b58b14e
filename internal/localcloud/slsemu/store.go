package slsemu

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

// project is an SLS project: a set of logstores. Its map is guarded by
// Server.mu.
type project struct {
	name      string
	logstores map[string]*logstore
}

// logstore is a set of shards fixed at creation.
type logstore struct {
	name       string
	createTime int64
	shards     []*shard
	lb         atomic.Uint64 // round-robin counter of load-balanced writes

	consumerGroups groupSet
}

// shard is an append-only sequence of serialized log groups.
type shard struct {
	id         int
	beginKey   string // inclusive, 32 lowercase hex digits
	endKey     string // exclusive, 32 lowercase hex digits
	createTime int64

	mu     sync.RWMutex
	groups []group
	// live is the index of the first group not expired (see ttl.go);
	// groups before it are kept but no longer served.
	live int
	// ttl is the logstore's data retention in seconds (0: forever).
	ttl atomic.Int64

	cacheMu    sync.Mutex
	cache      map[pullKey]pullEntry // compressed PullLogs answers
	cacheBytes int
}

// group is one stored log group.
type group struct {
	// framed is the group as a field-1 entry of a LogGroupList: the tag
	// byte, the varint length and the serialized LogGroup.
	framed   []byte
	received int64 // unix seconds
}

// snapshot returns the groups appended so far. Groups are never modified
// once appended, so the caller may read the slice without the lock.
func (sh *shard) snapshot() []group {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return sh.groups
}

// append stores the serialized LogGroup raw, received at the unix second
// recv, and returns its cursor number. If strict, recv must not be before
// the previous group's receive time; otherwise it is raised to it.
func (sh *shard) append(raw []byte, recv int64, strict bool) (int64, error) {
	framed := make([]byte, 0, 1+binary.MaxVarintLen64+len(raw))
	framed = append(framed, 0x0a) // field 1, wire type 2
	framed = binary.AppendUvarint(framed, uint64(len(raw)))
	framed = append(framed, raw...)

	sh.mu.Lock()
	defer sh.mu.Unlock()
	if n := len(sh.groups); n > 0 && recv < sh.groups[n-1].received {
		if strict {
			return 0, fmt.Errorf("receive time %d is before the shard's last receive time %d", recv, sh.groups[n-1].received)
		}
		recv = sh.groups[n-1].received
	}
	sh.groups = append(sh.groups, group{framed: framed, received: recv})
	return CursorBase + int64(len(sh.groups)-1), nil
}

// cursorAt returns the cursor number for from, as GetCursor defines it:
// "begin", "end", or a unix time selecting the first group received at or
// after it (the end if there is none).
func (sh *shard) cursorAt(from string) (int64, *apiError) {
	groups, live := sh.liveSnapshot()
	switch from {
	case "begin":
		return CursorBase + int64(live), nil
	case "end":
		return CursorBase + int64(len(groups)), nil
	}
	t, err := strconv.ParseInt(from, 10, 64)
	if err != nil || t < 0 {
		return 0, errorf(400, codeParameterInvalid, "Parameter from is invalid: %q.", from)
	}
	i := sort.Search(len(groups), func(i int) bool { return groups[i].received >= t })
	return CursorBase + int64(max(i, live)), nil
}

// keyRanges splits the 128-bit MD5 key space evenly into n ranges and
// returns their inclusive begin keys and exclusive end keys. As in the
// service, the last end key is "ffffffffffffffffffffffffffffffff".
func keyRanges(n int) (begins, ends []string) {
	space := new(big.Int).Lsh(big.NewInt(1), 128)
	for i := range n {
		b := new(big.Int).Mul(space, big.NewInt(int64(i)))
		b.Div(b, big.NewInt(int64(n)))
		begins = append(begins, fmt.Sprintf("%032x", b))
	}
	ends = append(ends, begins[1:]...)
	ends = append(ends, "ffffffffffffffffffffffffffffffff")
	return begins, ends
}

// CreateLogstore creates logstore in project, creating the project if
// needed, with shardCount read-write shards 0..shardCount-1 whose key ranges
// split the MD5 key space evenly.
func (s *Server) CreateLogstore(projectName, logstoreName string, shardCount int) error {
	if projectName == "" || logstoreName == "" {
		return errors.New("create logstore: empty project or logstore name")
	}
	if shardCount < 1 {
		return fmt.Errorf("create logstore %s/%s: shard count %d is not positive", projectName, logstoreName, shardCount)
	}
	now := time.Now().Unix()
	ls := &logstore{name: logstoreName, createTime: now}
	begins, ends := keyRanges(shardCount)
	for i := range shardCount {
		ls.shards = append(ls.shards, &shard{id: i, beginKey: begins[i], endKey: ends[i], createTime: now})
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projects[projectName]
	if p == nil {
		p = &project{name: projectName, logstores: make(map[string]*logstore)}
		s.projects[projectName] = p
	}
	if _, ok := p.logstores[logstoreName]; ok {
		return fmt.Errorf("create logstore %s/%s: already exists", projectName, logstoreName)
	}
	p.logstores[logstoreName] = ls
	return nil
}

// findLogstore returns the named logstore or the error the service answers.
func (s *Server) findLogstore(projectName, logstoreName string) (*logstore, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.projects[projectName]
	if p == nil {
		return nil, errorf(404, codeProjectNotExist, "The Project does not exist: %s", projectName)
	}
	ls := p.logstores[logstoreName]
	if ls == nil {
		return nil, errorf(404, codeLogStoreNotExist, "logstore %s does not exist", logstoreName)
	}
	return ls, nil
}

// findShard returns shard id of the named logstore or the error the service
// answers.
func (s *Server) findShard(projectName, logstoreName string, id int) (*shard, *apiError) {
	ls, e := s.findLogstore(projectName, logstoreName)
	if e != nil {
		return nil, e
	}
	if id < 0 || id >= len(ls.shards) {
		return nil, errorf(400, codeShardNotExist, "Shard %d does not exist.", id)
	}
	return ls.shards[id], nil
}

// Append stores lg in the given shard as if it had been received at
// receiveTime, bypassing HTTP, and returns its cursor. Receive times of a
// shard must not decrease. Append is meant for loading large data sets.
func (s *Server) Append(projectName, logstoreName string, shardID int, lg *sls.LogGroup, receiveTime time.Time) (cursor string, err error) {
	sh, e := s.findShard(projectName, logstoreName, shardID)
	if e != nil {
		return "", fmt.Errorf("append to %s/%s/%d: %w", projectName, logstoreName, shardID, e)
	}
	raw, err := lg.Marshal()
	if err != nil {
		return "", fmt.Errorf("append to %s/%s/%d: marshal log group: %w", projectName, logstoreName, shardID, err)
	}
	n, err := sh.append(raw, receiveTime.Unix(), true)
	if err != nil {
		return "", fmt.Errorf("append to %s/%s/%d: %w", projectName, logstoreName, shardID, err)
	}
	return EncodeCursor(n), nil
}

// Cursor returns the cursor GetCursor would answer for from ("begin", "end"
// or a decimal unix time), bypassing HTTP.
func (s *Server) Cursor(projectName, logstoreName string, shardID int, from string) (string, error) {
	sh, e := s.findShard(projectName, logstoreName, shardID)
	if e != nil {
		return "", fmt.Errorf("cursor of %s/%s/%d: %w", projectName, logstoreName, shardID, e)
	}
	n, e := sh.cursorAt(from)
	if e != nil {
		return "", fmt.Errorf("cursor of %s/%s/%d: %w", projectName, logstoreName, shardID, e)
	}
	return EncodeCursor(n), nil
}

// ShardCount returns the number of shards of a logstore.
func (s *Server) ShardCount(projectName, logstoreName string) (int, error) {
	ls, e := s.findLogstore(projectName, logstoreName)
	if e != nil {
		return 0, fmt.Errorf("shard count of %s/%s: %w", projectName, logstoreName, e)
	}
	return len(ls.shards), nil
}
