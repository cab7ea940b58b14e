package slsapi

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
)

// SLS cursors are the base64 of a decimal sequence number that goes up by
// one per log group of a shard (the SDK's own arithmetic relies on this
// too). This is the one codec of them.

// maxCursor bounds the length of a cursor sls2siem accepts.
const maxCursor = 128

var errNotCursor = errors.New("not an SLS cursor")

// CursorNumber decodes an SLS cursor into its sequence number.
func CursorNumber(c string) (int64, error) {
	if c == "" || len(c) > maxCursor {
		return 0, errNotCursor
	}
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil || len(b) == 0 || len(b) > 19 {
		return 0, errNotCursor
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || n < 0 {
		return 0, errNotCursor
	}
	return n, nil
}

// Cursor encodes a sequence number as an SLS cursor.
func Cursor(n int64) string {
	return base64.StdEncoding.EncodeToString(strconv.AppendInt(nil, n, 10))
}

// Distance is how many log groups lie from cursor a to cursor b, when both
// are sequence cursors and b is not before a.
func Distance(a, b string) (int64, bool) {
	na, err := CursorNumber(a)
	if err != nil {
		return 0, false
	}
	nb, err := CursorNumber(b)
	if err != nil || nb < na {
		return 0, false
	}
	return nb - na, true
}

// InvalidRangeError is a cursor range that cannot exist in its shard: its
// begin is after its end, its end is past the shard's end cursor, or the
// shard, logstore or project does not exist. Nothing of it can be
// shipped, now or later.
type InvalidRangeError struct {
	Project, Logstore string
	Shard             int
	Begin, End        string
	Reason            string
}

func (e *InvalidRangeError) Error() string {
	return fmt.Sprintf("the range [%s, %s) cannot exist in project %s logstore %s shard %d: %s",
		e.Begin, e.End, e.Project, e.Logstore, e.Shard, e.Reason)
}

// ExpiredRangeError is a range whose first log groups left the shard
// (the logstore's TTL): it begins before the shard's first kept cursor.
type ExpiredRangeError struct {
	Project, Logstore string
	Shard             int
	Begin, First      string
	Groups            int64 // log groups of the range that expired
}

func (e *ExpiredRangeError) Error() string {
	return fmt.Sprintf("the range begins at cursor %s, before the first cursor %s that project %s logstore %s shard %d still keeps: %d log groups of it expired",
		e.Begin, e.First, e.Project, e.Logstore, e.Shard, e.Groups)
}

// CheckRange checks the range [begin, end) of a shard against the shard
// as SLS has it now (GetCursor begin and end), before anything is
// shipped: an *InvalidRangeError when it cannot exist, an
// *ExpiredRangeError when its beginning left the shard, another error when
// SLS could not say.
func (c *Client) CheckRange(ctx context.Context, project, logstore string, shard int, begin, end string) error {
	invalid := func(format string, args ...any) error {
		return &InvalidRangeError{Project: project, Logstore: logstore, Shard: shard, Begin: begin, End: end, Reason: fmt.Sprintf(format, args...)}
	}
	bn, err1 := CursorNumber(begin)
	en, err2 := CursorNumber(end)
	if err1 != nil || err2 != nil {
		return invalid("its cursors are not SLS cursors")
	}
	if bn > en {
		return invalid("its begin cursor is after its end cursor")
	}
	last, err := c.GetCursor(ctx, project, logstore, shard, "end")
	if err != nil {
		for _, code := range []string{"ShardNotExist", "LogStoreNotExist", "ProjectNotExist"} {
			if IsCode(err, code) {
				return invalid("%v", err)
			}
		}
		return err
	}
	if ln, err := CursorNumber(last); err == nil && en > ln {
		return invalid("its end cursor is %d log groups past the shard's end cursor %s", en-ln, last)
	}
	first, err := c.GetCursor(ctx, project, logstore, shard, "begin")
	if err != nil {
		return err
	}
	if fn, err := CursorNumber(first); err == nil && bn < fn && bn < en {
		return &ExpiredRangeError{Project: project, Logstore: logstore, Shard: shard, Begin: begin, First: first, Groups: min(fn, en) - bn}
	}
	return nil
}
