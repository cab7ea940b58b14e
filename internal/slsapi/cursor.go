package slsapi

import (
	"encoding/base64"
	"errors"
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
