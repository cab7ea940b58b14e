package sample

import (
	"encoding/json"
	"fmt"
)

// Pair is one key/value pair of a log's contents or of a group's tags.
// It is encoded in JSON as a two-element array ["key","value"].
type Pair struct {
	Key, Value string
}

// MarshalJSON encodes p as ["key","value"].
func (p Pair) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]string{p.Key, p.Value})
}

// UnmarshalJSON decodes a two-element array of strings.
func (p *Pair) UnmarshalJSON(data []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("pair must be an array of two strings: %w", err)
	}
	if len(raw) != 2 {
		return fmt.Errorf("pair must have 2 elements, has %d", len(raw))
	}
	var kv [2]string
	for i, r := range raw {
		if len(r) == 0 || r[0] != '"' {
			return fmt.Errorf("pair element %d must be a string, got %s", i, r)
		}
		if err := json.Unmarshal(r, &kv[i]); err != nil {
			return fmt.Errorf("pair element %d: %w", i, err)
		}
	}
	p.Key, p.Value = kv[0], kv[1]
	return nil
}

// Log is one log entry: a time in seconds, an optional nanosecond part
// (0 means absent) and ordered contents, where keys may repeat.
type Log struct {
	Time     uint32
	TimeNs   uint32
	Contents []Pair
}

// LogGroup is one SLS LogGroup: the unit PostLogStoreLogs writes and the
// unit a cursor points to.
type LogGroup struct {
	Topic, Source string
	Tags          []Pair
	Logs          []Log
}

// Logstore is a whole sample logstore. Shards[i] holds the groups of shard
// i in the order the shard receives them.
type Logstore struct {
	Project, Logstore string
	Shards            [][]LogGroup
}

// LogCount returns the number of logs in all shards.
func (ls *Logstore) LogCount() int {
	n := 0
	for _, groups := range ls.Shards {
		for _, g := range groups {
			n += len(g.Logs)
		}
	}
	return n
}
