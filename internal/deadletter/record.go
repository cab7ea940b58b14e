// Package deadletter records the cursor ranges that could not be shipped,
// as logs of a dead-letter logstore in the source project, and reads them
// back for sls2siem redrive.
//
// A record is one log of topic "sls2siem-deadletter" whose contents are
// the fields of Record. Every record of a range (project, logstore, shard,
// beginCursor, endCursor) is written with the same hash key, so all of
// them land in the same dead-letter shard, in the order they were
// written: the last one read is the range's state. Records read back are
// untrusted (anyone who may write to the logstore can add one): Parse
// checks every field with internal/trust before a range may be shipped.
package deadletter

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/secret"
	"sls2siem/internal/slsapi"
	"sls2siem/internal/trust"
)

// Topic is the topic of every dead-letter record.
const Topic = "sls2siem-deadletter"

// States of a range.
const (
	StateFailed   = "failed"   // not shipped: redrive ships it again
	StateResolved = "resolved" // shipped after an earlier failure
	StateExpired  = "expired"  // its data left the source logstore (TTL): lost
)

// Record is one dead-letter record.
type Record struct {
	State       string
	Endpoint    string // the source's SLS endpoint (admitted when parsed)
	Project     string
	Logstore    string
	Shard       int
	BeginCursor string
	EndCursor   string
	CursorTime  int64 // the trigger event's cursorTime (0: unknown)
	RequestID   string
	Error       string // secret-free
	// LogsWritten counts the logs written to the receiver (confirmed or
	// not), LogsConfirmed those it confirmed, before the failure.
	LogsWritten   int64
	LogsConfirmed int64
	Time          time.Time // when the record was written
}

// Key identifies a range.
type Key struct {
	Project, Logstore string
	Shard             int
	BeginCursor       string
	EndCursor         string
}

// Key is the record's range key.
func (r Record) Key() Key {
	return Key{r.Project, r.Logstore, r.Shard, r.BeginCursor, r.EndCursor}
}

func (k Key) String() string {
	return fmt.Sprintf("%s/%s/%d/[%s,%s)", k.Project, k.Logstore, k.Shard, k.BeginCursor, k.EndCursor)
}

// hashKey routes every record of a range to the same shard.
func (k Key) hashKey() string {
	sum := md5.Sum([]byte(k.String()))
	return hex.EncodeToString(sum[:])
}

// Field names of a record's contents.
const (
	fState         = "state"
	fEndpoint      = "endpoint"
	fProject       = "project"
	fLogstore      = "logstore"
	fShard         = "shard"
	fBeginCursor   = "beginCursor"
	fEndCursor     = "endCursor"
	fCursorTime    = "cursorTime"
	fRequestID     = "requestId"
	fError         = "error"
	fLogsWritten   = "logsWritten"
	fLogsConfirmed = "logsConfirmed"
)

// maxError bounds the error text a record carries.
const maxError = 4096

// Scrub removes secret values from text (defence in depth: the shipper's
// errors never hold them) and bounds its length.
func Scrub(text string, creds secret.Credentials) string {
	for _, v := range creds.Values() {
		if len(v) >= 4 {
			text = strings.ReplaceAll(text, v, secret.Redacted)
		}
	}
	if len(text) > maxError {
		text = text[:maxError] + "…"
	}
	return text
}

// log is the record as an SLS log.
func (r Record) log() *sls.Log {
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	kv := [][2]string{
		{fState, r.State}, {fEndpoint, r.Endpoint}, {fProject, r.Project}, {fLogstore, r.Logstore},
		{fShard, strconv.Itoa(r.Shard)}, {fBeginCursor, r.BeginCursor}, {fEndCursor, r.EndCursor},
		{fCursorTime, strconv.FormatInt(r.CursorTime, 10)}, {fRequestID, r.RequestID}, {fError, r.Error},
		{fLogsWritten, strconv.FormatInt(r.LogsWritten, 10)}, {fLogsConfirmed, strconv.FormatInt(r.LogsConfirmed, 10)},
	}
	l := &sls.Log{Time: proto.Uint32(uint32(t.Unix()))}
	for _, p := range kv {
		l.Contents = append(l.Contents, &sls.LogContent{Key: proto.String(p[0]), Value: proto.String(p[1])})
	}
	return l
}

// ErrNotARecord is a log of another topic: not ours, skipped.
var ErrNotARecord = errors.New("not a dead-letter record")

// Parse reads a record back from a log of group topic. Every field is
// untrusted: the state must be known, the project and logstore valid SLS
// names, the endpoint allowed, the shard and cursors well formed. The
// error names the field; it quotes values with secret.Quote.
func Parse(topic string, l *sls.Log, allowed trust.Endpoints) (Record, error) {
	if topic != Topic {
		return Record{}, fmt.Errorf("%w: topic %s", ErrNotARecord, secret.Quote(topic))
	}
	f := map[string]string{}
	for _, c := range l.Contents {
		f[c.GetKey()] = c.GetValue()
	}
	var r Record
	r.State = f[fState]
	switch r.State {
	case StateFailed, StateResolved, StateExpired:
	default:
		return Record{}, fmt.Errorf("field state is %s: want failed, resolved or expired", secret.Quote(r.State))
	}
	r.Project, r.Logstore = f[fProject], f[fLogstore]
	if err := trust.Project(r.Project); err != nil {
		return Record{}, fmt.Errorf("field project %w", err)
	}
	if err := trust.Logstore(r.Logstore); err != nil {
		return Record{}, fmt.Errorf("field logstore %w", err)
	}
	ep, err := allowed.Admit(f[fEndpoint])
	if err != nil {
		return Record{}, fmt.Errorf("field endpoint %w", err)
	}
	r.Endpoint = ep.URL
	shard, err := strconv.Atoi(f[fShard])
	if err != nil || shard < 0 || shard > 1<<20 {
		return Record{}, fmt.Errorf("field shard is %s: want a shard number from 0 to %d", secret.Quote(f[fShard]), 1<<20)
	}
	r.Shard = shard
	r.BeginCursor, r.EndCursor = f[fBeginCursor], f[fEndCursor]
	for _, c := range []struct{ name, v string }{{fBeginCursor, r.BeginCursor}, {fEndCursor, r.EndCursor}} {
		if _, err := slsapi.CursorNumber(c.v); err != nil {
			return Record{}, fmt.Errorf("field %s is %s: want an SLS cursor", c.name, secret.Quote(c.v))
		}
	}
	num := func(name string) int64 {
		n, perr := strconv.ParseInt(f[name], 10, 64)
		if perr != nil && f[name] != "" && err == nil {
			err = fmt.Errorf("field %s is %s: want a whole number", name, secret.Quote(f[name]))
		}
		return n
	}
	err = nil
	r.CursorTime, r.LogsWritten, r.LogsConfirmed = num(fCursorTime), num(fLogsWritten), num(fLogsConfirmed)
	if err != nil {
		return Record{}, err
	}
	r.RequestID, r.Error = f[fRequestID], f[fError]
	r.Time = time.Unix(int64(l.GetTime()), 0)
	return r, nil
}
