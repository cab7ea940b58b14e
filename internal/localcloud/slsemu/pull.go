package slsemu

import (
	"net/http"
	"strconv"
)

// maxPullCount is the largest count PullLogs accepts.
const maxPullCount = 1000

// pullLogs serves PullLogs:
// GET /logstores/{ls}/shards/{id}?type=logs&cursor=C&count=N[&end_cursor=E].
//
// It answers the groups in [cursor, end_cursor), at most count of them, as a
// LogGroupList compressed per Accept-Encoding. A cursor before the shard's
// beginning is moved to it; one beyond the shard's end is InvalidCursor.
// When no group is in range it answers count 0, body raw size 0 and the
// cursor itself as the next cursor. A cursor of a group that expired (the
// logstore's TTL, see ttl.go) is InvalidCursor.
func (s *Server) pullLogs(rq *request) *apiError {
	sh, e := s.requestShard(rq)
	if e != nil {
		return e
	}
	countStr := rq.query.Get("count")
	count, err := strconv.Atoi(countStr)
	if err != nil || count < 1 || count > maxPullCount {
		return errorf(400, codeParameterInvalid, "count : %s pair is invalid", countStr)
	}
	if rq.query.Get("query") != "" {
		return errorf(400, codeParameterInvalid, "The emulator does not support SPL queries in PullLogs.")
	}
	cursor := rq.query.Get("cursor")
	start, err := DecodeCursor(cursor)
	if err != nil {
		return errorf(400, codeInvalidCursor, "Cursor %q is invalid.", cursor)
	}

	groups, live := sh.liveSnapshot()
	stop := CursorBase + int64(len(groups))
	if start > stop {
		return errorf(400, codeInvalidCursor, "Cursor %q is beyond the end of shard %d.", cursor, sh.id)
	}
	if e := sh.expiredCursor(cursor, start, live); e != nil {
		return e
	}
	if start < CursorBase {
		start = CursorBase
		cursor = EncodeCursor(start)
	}
	if ec := rq.query.Get("end_cursor"); ec != "" {
		end, err := DecodeCursor(ec)
		if err != nil {
			return errorf(400, codeInvalidCursor, "End cursor %q is invalid.", ec)
		}
		stop = min(stop, end)
	}

	h := rq.w.Header()
	h.Set("Content-Type", "application/x-protobuf")
	if start >= stop {
		h.Set("X-Log-Cursor", cursor)
		h.Set("X-Log-Count", "0")
		h.Set("X-Log-Bodyrawsize", "0")
		rq.w.WriteHeader(http.StatusOK)
		return nil
	}

	n := min(int64(count), stop-start)
	encoding := acceptedEncoding(rq.r.Header.Get("Accept-Encoding"))
	body, rawSize, err := sh.pullBody(groups, start, n, encoding)
	if err != nil {
		return internalError(err)
	}

	h.Set("X-Log-Cursor", EncodeCursor(start+n))
	h.Set("X-Log-Count", strconv.FormatInt(n, 10))
	h.Set("X-Log-Bodyrawsize", strconv.Itoa(rawSize))
	h.Set("X-Log-Read-Last-Cursor", strconv.FormatInt(start+n-1, 10))
	if encoding != "" {
		h.Set("X-Log-Compresstype", encoding)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	rq.w.WriteHeader(http.StatusOK)
	rq.w.Write(body)
	return nil
}

// pullBody builds (or takes from the shard's cache) the compressed
// LogGroupList of groups [start, start+n). Stored groups never change, so
// an answer can be reused: benchmarks that read a range several times then
// measure the shipper, not the emulator's compression.
func (sh *shard) pullBody(groups []group, start, n int64, encoding string) ([]byte, int, error) {
	key := pullKey{start: start, n: n, encoding: encoding}
	sh.cacheMu.Lock()
	if e, ok := sh.cache[key]; ok {
		sh.cacheMu.Unlock()
		return e.body, e.rawSize, nil
	}
	sh.cacheMu.Unlock()
	page := groups[start-CursorBase : start-CursorBase+n]
	size := 0
	for _, g := range page {
		size += len(g.framed)
	}
	raw := make([]byte, 0, size)
	for _, g := range page {
		raw = append(raw, g.framed...)
	}
	body, err := compress(encoding, raw)
	if err != nil {
		return nil, 0, err
	}
	sh.cacheMu.Lock()
	defer sh.cacheMu.Unlock()
	if sh.cacheBytes+len(body) <= pullCacheBytes {
		if sh.cache == nil {
			sh.cache = map[pullKey]pullEntry{}
		}
		sh.cache[key] = pullEntry{body: body, rawSize: len(raw)}
		sh.cacheBytes += len(body)
	}
	return body, len(raw), nil
}

// pullCacheBytes bounds each shard's cache of compressed answers.
const pullCacheBytes = 512 << 20

type pullKey struct {
	start, n int64
	encoding string
}

type pullEntry struct {
	body    []byte
	rawSize int
}
