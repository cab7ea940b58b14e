package logstore

import (
	"encoding/base64"
	"strconv"
)

// SLS cursors are the base64 of a decimal sequence number that goes up by
// one per log group (the SDK's own arithmetic relies on this too).

func decodeCursor(c string) (int64, error) {
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(string(b), 10, 64)
}

func encodeCursor(n int64) string {
	return base64.StdEncoding.EncodeToString(strconv.AppendInt(nil, n, 10))
}
