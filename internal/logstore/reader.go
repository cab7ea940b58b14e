// Package logstore reads one shard's cursor range [begin, end) from Simple
// Log Service with the official SLS Go SDK, one batch of log groups at a
// time, so that memory stays bounded whatever the size of the range.
package logstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

// Credentials are the STS credentials FC hands the function.
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

// Range is one shard's half-open cursor range.
type Range struct {
	Endpoint string
	Project  string
	Logstore string
	Shard    int
	Begin    string
	End      string
}

// Batch is what one PullLogs call returned. Its groups alias memory the
// Reader recycles: call Release when done with them.
type Batch struct {
	Cursor     string // cursor the batch was pulled from
	NextCursor string // cursor of the group after the batch
	Groups     []*sls.LogGroup
	RawSize    int // uncompressed protobuf size

	dec   *decoder
	free  chan *decoder
	first int64 // Cursor as a number; -1 when it is not one
}

// GroupCursor returns the cursor of Groups[i] (SLS numbers log groups
// consecutively), or "" when the batch's cursor is not a number.
func (b *Batch) GroupCursor(i int) string {
	if b.first < 0 {
		return ""
	}
	return encodeCursor(b.first + int64(i))
}

// Release hands the batch's memory back to the Reader. The batch must not
// be used afterwards.
func (b *Batch) Release() {
	if b.dec == nil {
		return
	}
	select {
	case b.free <- b.dec:
	default:
	}
	b.dec, b.Groups = nil, nil
}

// Logs counts the logs in the batch.
func (b *Batch) Logs() int {
	n := 0
	for _, g := range b.Groups {
		n += len(g.Logs)
	}
	return n
}

// maxStalls is how many empty answers that do not advance the cursor are
// tolerated before the range is declared stuck.
const maxStalls = 3

// Reader pulls a Range batch by batch. It is not safe for concurrent use.
type Reader struct {
	client *sls.Client
	rng    Range
	count  int
	cursor string
	stalls int
	done   bool
	free   chan *decoder // decoders of released batches
}

// Options tune a Reader.
type Options struct {
	// Transport is shared by all readers of the instance (keep-alive
	// connections to SLS survive between invocations). Use NewTransport.
	Transport http.RoundTripper
	// PullCount is the number of log groups per PullLogs call (1..1000).
	PullCount int
}

// NewReader returns a Reader of rng using creds. The SDK's own retries
// stop at ctx's deadline, and ctx cancels requests in flight.
func NewReader(ctx context.Context, rng Range, creds Credentials, opts Options) *Reader {
	retry := 90 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		retry = max(time.Until(dl), time.Millisecond)
	}
	base := opts.Transport
	if base == nil {
		base = NewTransport()
	}
	client := &sls.Client{
		Endpoint:       rng.Endpoint,
		UserAgent:      "sls2siem",
		RequestTimeOut: min(retry, 60*time.Second),
		RetryTimeOut:   retry,
		HTTPClient: &http.Client{
			Transport: contextTransport{ctx: ctx, base: base},
			Timeout:   min(retry, 60*time.Second),
		},
	}
	client = client.WithCredentialsProvider(
		sls.NewStaticCredentialsProvider(creds.AccessKeyID, creds.AccessKeySecret, creds.SecurityToken))
	count := opts.PullCount
	if count <= 0 || count > 1000 {
		count = 100
	}
	return &Reader{client: client, rng: rng, count: count, cursor: rng.Begin, free: make(chan *decoder, 4)}
}

// Cursor is the cursor of the next batch: where a retry would resume.
func (r *Reader) Cursor() string { return r.cursor }

// Seek makes the next batch start at cursor, a cursor of this range
// already read: used to send again what a failed connection may have lost.
func (r *Reader) Seek(cursor string) {
	r.cursor, r.done, r.stalls = cursor, false, 0
}

// ErrDone is returned by Next when the whole range has been read.
var ErrDone = errors.New("logstore: end of range")

// Next pulls the next batch. It returns ErrDone once the next cursor has
// reached the range's end cursor. A batch may be empty without the range
// being over.
func (r *Reader) Next(ctx context.Context) (*Batch, error) {
	if r.done || r.cursor == r.rng.End {
		r.done = true
		return nil, ErrDone
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	raw, meta, err := r.client.GetLogsBytesWithQuery(&sls.PullLogRequest{
		Project:          r.rng.Project,
		Logstore:         r.rng.Logstore,
		ShardID:          r.rng.Shard,
		Cursor:           r.cursor,
		EndCursor:        r.rng.End,
		LogGroupMaxCount: r.count,
	})
	if err != nil {
		return nil, r.describe(ctx, err)
	}
	next := meta.NextCursor
	b := &Batch{Cursor: r.cursor, NextCursor: next, RawSize: len(raw), free: r.free, first: -1}
	if len(raw) > 0 {
		if n, err := decodeCursor(r.cursor); err == nil {
			b.first = n
		}
		select {
		case b.dec = <-r.free:
		default:
			b.dec = &decoder{}
		}
		if b.Groups, err = b.dec.decode(raw); err != nil {
			return nil, fmt.Errorf("pull logs from shard %d at cursor %s: %w", r.rng.Shard, r.cursor, err)
		}
	}
	if next == r.cursor && len(b.Groups) == 0 {
		// The service answers "no data, same cursor" at the shard's end.
		// Before the range's end that means the data is not readable
		// (expired or not yet visible): fail rather than spin or skip.
		r.stalls++
		if r.stalls >= maxStalls {
			return nil, fmt.Errorf("pull logs from shard %d at cursor %s: SLS returned no data and no progress %d times before the end cursor %s",
				r.rng.Shard, r.cursor, r.stalls, r.rng.End)
		}
		return b, nil
	}
	r.stalls = 0
	if next == "" {
		return nil, fmt.Errorf("pull logs from shard %d at cursor %s: SLS returned an empty next cursor", r.rng.Shard, r.cursor)
	}
	r.cursor = next
	return b, nil
}

// describe turns an SDK error into one that names the SLS error code, the
// shard and the cursor, and never the credentials.
func (r *Reader) describe(ctx context.Context, err error) error {
	where := fmt.Sprintf("pull logs from project %s logstore %s shard %d at cursor %s",
		r.rng.Project, r.rng.Logstore, r.rng.Shard, r.cursor)
	var slsErr *sls.Error
	var badResp *sls.BadResponseError
	switch {
	case errors.As(err, &slsErr):
		if slsErr.HTTPCode <= 0 {
			return fmt.Errorf("%s: %s", where, slsErr.Message)
		}
		return fmt.Errorf("%s: SLS error %s (HTTP %d): %s (request id %s): %w",
			where, slsErr.Code, slsErr.HTTPCode, slsErr.Message, slsErr.RequestID, &CodeError{Code: slsErr.Code, HTTPStatus: int(slsErr.HTTPCode)})
	case errors.As(err, &badResp):
		return fmt.Errorf("%s: unexpected SLS answer (HTTP %d)", where, badResp.HTTPCode)
	case ctx.Err() != nil:
		return fmt.Errorf("%s: stopped before the invocation deadline: %w", where, ctx.Err())
	}
	return fmt.Errorf("%s: %w", where, err)
}

// CodeError carries the SLS error code of a failed request, so that callers
// can tell, for example, InvalidCursor from Unauthorized.
type CodeError struct {
	Code       string
	HTTPStatus int
}

func (e *CodeError) Error() string { return e.Code }
