package slstrigger

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strconv"
)

// event is the SLS trigger event; field order matches the service's.
type event struct {
	CursorTime int64           `json:"cursorTime"`
	JobName    string          `json:"jobName"`
	Parameter  json.RawMessage `json:"parameter"`
	Source     source          `json:"source"`
	TaskID     string          `json:"taskId"`
}

type source struct {
	BeginCursor  string `json:"beginCursor"`
	EndCursor    string `json:"endCursor"`
	Endpoint     string `json:"endpoint"`
	LogstoreName string `json:"logstoreName"`
	ProjectName  string `json:"projectName"`
	ShardID      int    `json:"shardId"`
}

// decodeCursor and encodeCursor follow the SDK's cursor encoding: base64 of
// the decimal cursor number.
func decodeCursor(c string) (int64, error) {
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(string(b), 10, 64)
}

func encodeCursor(n int64) string {
	return base64.StdEncoding.EncodeToString([]byte(strconv.FormatInt(n, 10)))
}

// newTaskID returns a random UUID-shaped task id.
func newTaskID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
