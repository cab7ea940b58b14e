package deadletter

import (
	"strconv"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"
)

// Field names of a record's contents.
const (
	fState         = "state"
	fEndpoint      = "endpoint"
	fProject       = "project"
	fLogstore      = "logstore"
	fShard         = "shard"
	fBeginCursor   = "beginCursor"
	fEndCursor     = "endCursor"
	fNextCursor    = "nextCursor"
	fCursorTime    = "cursorTime"
	fRequestID     = "requestId"
	fError         = "error"
	fLogsWritten   = "logsWritten"
	fLogsConfirmed = "logsConfirmed"
	fAttempts      = "attempts"
	fLastTry       = "lastTry"
	fNextTry       = "nextTry"
	fWritten       = "written"
	fMAC           = "mac"
)

// fieldNames are the signed fields, in the order they are written and
// signed.
var fieldNames = []string{fState, fEndpoint, fProject, fLogstore, fShard, fBeginCursor, fEndCursor, fNextCursor,
	fCursorTime, fRequestID, fError, fLogsWritten, fLogsConfirmed, fAttempts, fLastTry, fNextTry, fWritten}

// fieldLimits bound each field's size in bytes, before anything else is
// looked at: a record is small, whatever a writer of the logstore puts in
// it.
var fieldLimits = map[string]int{
	fState: 16, fEndpoint: 512, fProject: 63, fLogstore: 63, fShard: 8,
	fBeginCursor: 128, fEndCursor: 128, fNextCursor: 128, fCursorTime: 20, fRequestID: 256,
	fError: maxError + len("…"), fLogsWritten: 20, fLogsConfirmed: 20, fAttempts: 20, fLastTry: 20, fNextTry: 20, fWritten: 20,
	fMAC: 64,
}

// macDomain separates these MACs from any other use of the key.
const macDomain = "sls2siem dead-letter record v1\n"

// canonical is what a record's MAC is computed over: the domain, the
// dead-letter logstore's name, then every signed field in fieldNames'
// order, each as name, length and value (so that no two records share
// one encoding). value gives a field's value as written ("" when absent).
func canonical(deadLetterLogstore string, value func(name string) string) []byte {
	b := make([]byte, 0, 512)
	b = append(b, macDomain...)
	add := func(name, v string) {
		b = append(b, name...)
		b = append(b, '=')
		b = strconv.AppendInt(b, int64(len(v)), 10)
		b = append(b, ':')
		b = append(b, v...)
		b = append(b, '\n')
	}
	add("deadLetterLogstore", deadLetterLogstore)
	for _, name := range fieldNames {
		add(name, value(name))
	}
	return b
}

// values are the record's fields as written.
func (r Record) values() map[string]string {
	unix := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return strconv.FormatInt(t.Unix(), 10)
	}
	return map[string]string{
		fState: r.State, fEndpoint: r.Endpoint, fProject: r.Project, fLogstore: r.Logstore,
		fShard: strconv.Itoa(r.Shard), fBeginCursor: r.BeginCursor, fEndCursor: r.EndCursor, fNextCursor: r.NextCursor,
		fCursorTime: strconv.FormatInt(r.CursorTime, 10), fRequestID: r.RequestID, fError: r.Error,
		fLogsWritten: strconv.FormatInt(r.LogsWritten, 10), fLogsConfirmed: strconv.FormatInt(r.LogsConfirmed, 10),
		fAttempts: strconv.Itoa(r.Attempts), fLastTry: unix(r.LastTry), fNextTry: unix(r.NextTry), fWritten: strconv.FormatInt(r.Written.UnixNano(), 10),
	}
}

// log is the record as an SLS log of the dead-letter logstore
// deadLetterLogstore, signed with keys.
func (r Record) log(deadLetterLogstore string, keys Keys) *sls.Log {
	v := r.values()
	l := &sls.Log{Time: proto.Uint32(uint32(r.Written.Unix()))}
	for _, name := range fieldNames {
		l.Contents = append(l.Contents, &sls.LogContent{Key: proto.String(name), Value: proto.String(v[name])})
	}
	sum := keys.sign(canonical(deadLetterLogstore, func(name string) string { return v[name] }))
	l.Contents = append(l.Contents, &sls.LogContent{Key: proto.String(fMAC), Value: proto.String(sum)})
	return l
}

// Contents are a log's fields as pairs of key and value, for Parse.
func Contents(l *sls.Log) [][2]string {
	out := make([][2]string, len(l.Contents))
	for i, c := range l.Contents {
		out[i] = [2]string{c.GetKey(), c.GetValue()}
	}
	return out
}
