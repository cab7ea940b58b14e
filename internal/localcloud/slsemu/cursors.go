package slsemu

import "time"

// getCursor serves GetCursor:
// GET /logstores/{ls}/shards/{id}?type=cursor&from=begin|end|<unix>.
func (s *Server) getCursor(rq *request) *apiError {
	sh, e := s.requestShard(rq)
	if e != nil {
		return e
	}
	from := rq.query.Get("from")
	if from == "" {
		return errorf(400, codeParameterInvalid, "Parameter from is missing.")
	}
	n, e := sh.cursorAt(from)
	if e != nil {
		return e
	}
	return internalError(writeJSON(rq.w, struct {
		Cursor string `json:"cursor"`
	}{EncodeCursor(n)}))
}

// getCursorTime serves GetCursorTime:
// GET /logstores/{ls}/shards/{id}?type=cursor_time&cursor=C. It answers the
// receive time of the group at the cursor; at the shard end, that of the
// last group (or the current time if the shard is empty).
func (s *Server) getCursorTime(rq *request) *apiError {
	sh, e := s.requestShard(rq)
	if e != nil {
		return e
	}
	c := rq.query.Get("cursor")
	n, err := DecodeCursor(c)
	if err != nil {
		return errorf(400, codeInvalidCursor, "Cursor %q is invalid.", c)
	}
	groups, live := sh.liveSnapshot()
	end := CursorBase + int64(len(groups))
	if n > end {
		return errorf(400, codeInvalidCursor, "Cursor %q is beyond the end of shard %d.", c, sh.id)
	}
	if e := sh.expiredCursor(c, n, live); e != nil {
		return e
	}
	i := max(n, CursorBase) - CursorBase
	var t int64
	switch {
	case i < int64(len(groups)):
		t = groups[i].received
	case len(groups) > 0:
		t = groups[len(groups)-1].received
	default:
		t = time.Now().Unix()
	}
	return internalError(writeJSON(rq.w, struct {
		CursorTime int64 `json:"cursor_time"`
	}{t}))
}
