package logstore

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// pull admits the answers of one Reader.Next call (slsapi.LogsAdmitter):
// a PullLogs answer whose declared size does not fit the memory budget,
// that is not LZ4, or whose body is longer than LZ4 allows for its
// declared size is refused before the SDK reads it.
type pull struct {
	budget   *Budget
	limit    int64 // the most one answer may reserve
	reserved int64
}

// rawFactor is the reservation per declared raw byte: the compressed body
// the SDK reads, the raw buffer it decompresses into, and the decoded
// structures (corrected to their real size after decoding).
const rawFactor = 3

// maxErrorBody bounds the body of an answer that holds no data.
const maxErrorBody = 1 << 20

// AdmitLogs checks a PullLogs answer's headers and reserves its memory. It
// returns how many body bytes the answer may have.
func (p *pull) AdmitLogs(ctx context.Context, resp *http.Response) (int64, error) {
	v := resp.Header.Get("X-Log-Bodyrawsize")
	raw, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || raw < 0 {
		return 0, fmt.Errorf("SLS answered X-Log-Bodyrawsize %.32q: want a size in bytes", v)
	}
	if raw == 0 {
		return maxErrorBody, nil // the SDK ignores the body
	}
	if ct := resp.Header.Get("X-Log-Compresstype"); ct != "lz4" {
		return 0, fmt.Errorf("SLS answered X-Log-Compresstype %.32q for a request that accepts lz4 only", ct)
	}
	n := min(rawFactor*raw, p.limit)
	if raw > p.limit {
		return 0, &tooLargeError{raw: raw, budget: p.limit}
	}
	if err := p.budget.acquire(ctx, n); err != nil {
		return 0, err
	}
	p.reserved += n
	return raw + raw/255 + 16, nil // LZ4's bound on a block of raw bytes
}

// tooLargeError is an answer that does not fit the memory budget.
type tooLargeError struct{ raw, budget int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("SLS answered X-Log-Bodyrawsize %d bytes, which does not fit the memory budget (%d bytes for one answer)", e.raw, e.budget)
}
