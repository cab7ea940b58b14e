// Package deadletter records the cursor ranges that could not be shipped,
// as logs of a dead-letter logstore in the source project, and reads them
// back for sls2siem redrive.
//
// A record is one log of topic "sls2siem-deadletter" whose contents are
// the fields of Record and a MAC: HMAC-SHA256, keyed by
// SHIP_DEADLETTER_KEY, over the dead-letter logstore's name and every
// field (canonical.go). Every record of a range (project, logstore,
// shard, beginCursor, endCursor) is written with the same hash key, so
// all of them land in the same dead-letter shard; a range's state is its
// record with the latest signed write time, so that a copy of an older
// record (a replay) changes nothing.
//
// Records read back are untrusted: anyone who may write to the logstore
// can add one. Parse bounds every field, refuses a record without a valid
// MAC, checks every field with internal/trust, and copies what it keeps
// out of the pulled buffer.
package deadletter

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"sls2siem/internal/secret"
	"sls2siem/internal/slsapi"
	"sls2siem/internal/trust"
)

// Topic is the topic of every dead-letter record.
const Topic = "sls2siem-deadletter"

// States of a range.
const (
	StateFailed   = "failed"   // not (wholly) shipped: redrive ships it from NextCursor
	StateProgress = "progress" // redrive shipped part of it and goes on from NextCursor
	StateResolved = "resolved" // shipped
	StateExpired  = "expired"  // its data left the source logstore (TTL): lost
	StateInvalid  = "invalid"  // the range cannot exist in the shard: never shipped (audit)
)

// Pending reports whether a range in state still has to be shipped.
func Pending(state string) bool { return state == StateFailed || state == StateProgress }

// Record is one dead-letter record.
type Record struct {
	State       string
	Endpoint    string // the source's SLS endpoint, as the event named it (admitted when parsed; redrive uses SLS_ENDPOINT)
	Project     string
	Logstore    string
	Shard       int
	BeginCursor string
	EndCursor   string
	// NextCursor is where shipping resumes: every log group before it was
	// confirmed delivered ("" or BeginCursor when none was).
	NextCursor string
	CursorTime int64 // the trigger event's cursorTime (0: unknown)
	RequestID  string
	Error      string // secret-free
	// LogsWritten counts the logs written to the receiver (confirmed or
	// not), LogsConfirmed those it confirmed, before the failure.
	LogsWritten   int64
	LogsConfirmed int64
	// Attempts counts redrive's failed tries of the range in a row;
	// LastTry is when redrive last tried it (zero: never), NextTry when
	// it may try it again (zero: at once).
	Attempts int
	LastTry  time.Time
	NextTry  time.Time
	// Written is when the record was written (set by Append): a range's
	// state is its record with the latest Written.
	Written time.Time
}

// Resume is the cursor shipping resumes from.
func (r Record) Resume() string {
	if r.NextCursor != "" {
		return r.NextCursor
	}
	return r.BeginCursor
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
		text = cutUTF8(text, maxError) + "…"
	}
	return text
}

func cutUTF8(s string, n int) string {
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// ErrNotARecord is a log of another topic: not ours, skipped.
var ErrNotARecord = errors.New("not a dead-letter record")

// ErrUnsigned is a record sls2siem did not sign: its MAC does not verify
// with SHIP_DEADLETTER_KEY or SHIP_DEADLETTER_KEY_PREVIOUS (forged,
// altered, signed with another key, or none), or it has a field
// sls2siem never writes (unknown, repeated or oversized, refused before
// the MAC is computed). It is never acted on.
var ErrUnsigned = errors.New("not signed by sls2siem")

// Verifier is what Parse checks a record against.
type Verifier struct {
	Keys Keys
	// Allowed admits the record's endpoint (SLS_ALLOWED_ENDPOINTS).
	Allowed trust.Endpoints
	// Logstore is the dead-letter logstore the record was read from: its
	// name is signed, so a record copied from another one is refused.
	Logstore string
}

// Parse reads a record back from a log of group topic: its fields as
// pairs of key and value. Every field is untrusted: its size is bounded,
// the MAC must verify (ErrUnsigned otherwise), the state must be known,
// the project and logstore valid SLS names, the endpoint allowed, the
// shard, cursors and counts well formed. The error names the field; it
// quotes values with secret.Quote. The record holds copies, never the
// caller's strings (they may alias a pulled buffer).
func Parse(topic string, contents [][2]string, v Verifier) (Record, error) {
	if topic != Topic {
		return Record{}, fmt.Errorf("%w: topic %s", ErrNotARecord, secret.Quote(topic))
	}
	f := make(map[string]string, len(fieldNames)+1)
	for _, kv := range contents {
		limit, known := fieldLimits[kv[0]]
		switch {
		case !known:
			return Record{}, fmt.Errorf("%w: field %s is not a field of a dead-letter record", ErrUnsigned, secret.Quote(kv[0]))
		case len(kv[1]) > limit:
			return Record{}, fmt.Errorf("%w: field %s has %d bytes, more than the %d a record's may", ErrUnsigned, kv[0], len(kv[1]), limit)
		}
		if _, dup := f[kv[0]]; dup {
			return Record{}, fmt.Errorf("%w: field %s is given twice", ErrUnsigned, kv[0])
		}
		f[kv[0]] = kv[1]
	}
	if sum, ok := f[fMAC]; !ok || !v.Keys.verify(canonical(v.Logstore, func(name string) string { return f[name] }), sum) {
		return Record{}, fmt.Errorf("%w: its MAC (field mac) does not verify with SHIP_DEADLETTER_KEY or SHIP_DEADLETTER_KEY_PREVIOUS for logstore %s", ErrUnsigned, v.Logstore)
	}
	r, err := decode(f, v.Allowed)
	if err != nil {
		return Record{}, err
	}
	return r, nil
}

// decode checks and converts the fields of a signed record, copying the
// strings it keeps.
func decode(f map[string]string, allowed trust.Endpoints) (Record, error) {
	var r Record
	for _, s := range []string{StateFailed, StateProgress, StateResolved, StateExpired, StateInvalid} {
		if f[fState] == s {
			r.State = s // the constant: no copy of the buffer kept
		}
	}
	if r.State == "" {
		return Record{}, fmt.Errorf("field state is %s: want failed, progress, resolved, expired or invalid", secret.Quote(f[fState]))
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
	r.BeginCursor, r.EndCursor, r.NextCursor = f[fBeginCursor], f[fEndCursor], f[fNextCursor]
	for _, c := range []struct{ name, v string }{{fBeginCursor, r.BeginCursor}, {fEndCursor, r.EndCursor}, {fNextCursor, r.NextCursor}} {
		if c.v == "" && c.name == fNextCursor {
			continue
		}
		if _, err := slsapi.CursorNumber(c.v); err != nil {
			return Record{}, fmt.Errorf("field %s is %s: want an SLS cursor", c.name, secret.Quote(c.v))
		}
	}
	var numErr error
	num := func(name string) int64 {
		if f[name] == "" {
			return 0
		}
		n, err := strconv.ParseInt(f[name], 10, 64)
		if (err != nil || n < 0) && numErr == nil {
			numErr = fmt.Errorf("field %s is %s: want a whole number, not negative", name, secret.Quote(f[name]))
		}
		return n
	}
	r.CursorTime, r.LogsWritten, r.LogsConfirmed = num(fCursorTime), num(fLogsWritten), num(fLogsConfirmed)
	r.Attempts = int(min(num(fAttempts), 1<<30))
	if n := num(fLastTry); n > 0 {
		r.LastTry = time.Unix(n, 0)
	}
	if n := num(fNextTry); n > 0 {
		r.NextTry = time.Unix(n, 0)
	}
	if n := num(fWritten); n > 0 {
		r.Written = time.Unix(0, n)
	}
	if numErr != nil {
		return Record{}, numErr
	}
	// Copies: the values may alias the pulled answer, which must not
	// outlive its batch.
	r.Endpoint, r.Project, r.Logstore = strings.Clone(r.Endpoint), strings.Clone(r.Project), strings.Clone(r.Logstore)
	r.BeginCursor, r.EndCursor, r.NextCursor = strings.Clone(r.BeginCursor), strings.Clone(r.EndCursor), strings.Clone(r.NextCursor)
	r.RequestID, r.Error = strings.Clone(f[fRequestID]), strings.Clone(f[fError])
	return r, nil
}
