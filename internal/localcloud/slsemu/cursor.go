package slsemu

import (
	"encoding/base64"
	"fmt"
	"strconv"
)

// CursorBase is the cursor number of the first log group of every shard.
// The n-th group (from 0) of a shard has the cursor number CursorBase+n.
const CursorBase int64 = 1600000000000000000

// EncodeCursor returns the cursor string of cursor number n: the standard
// base64 encoding of its decimal form.
func EncodeCursor(n int64) string {
	return base64.StdEncoding.EncodeToString(strconv.AppendInt(nil, n, 10))
}

// DecodeCursor returns the cursor number of the cursor string c.
func DecodeCursor(c string) (int64, error) {
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return 0, fmt.Errorf("decode cursor %q: %w", c, err)
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("decode cursor %q: %w", c, err)
	}
	return n, nil
}
