package slsemu

import "strconv"

// shardInfo is one element of the ListShards response.
type shardInfo struct {
	ShardID           int    `json:"shardID"`
	Status            string `json:"status"`
	InclusiveBeginKey string `json:"inclusiveBeginKey"`
	ExclusiveEndKey   string `json:"exclusiveEndKey"`
	CreateTime        int64  `json:"createTime"`
}

// listShards serves ListShards: GET /logstores/{ls}/shards.
func (s *Server) listShards(rq *request) *apiError {
	ls, e := s.findLogstore(rq.project, rq.logstore)
	if e != nil {
		return e
	}
	out := make([]shardInfo, len(ls.shards))
	for i, sh := range ls.shards {
		out[i] = shardInfo{
			ShardID:           sh.id,
			Status:            "readwrite",
			InclusiveBeginKey: sh.beginKey,
			ExclusiveEndKey:   sh.endKey,
			CreateTime:        sh.createTime,
		}
	}
	return internalError(writeJSON(rq.w, out))
}

// requestShard returns the shard named by the request path.
func (s *Server) requestShard(rq *request) (*shard, *apiError) {
	id, err := strconv.Atoi(rq.shard)
	if err != nil {
		return nil, errorf(400, codeParameterInvalid, "Shard id %q is invalid.", rq.shard)
	}
	return s.findShard(rq.project, rq.logstore, id)
}

// internalError turns a failure to write a response into an apiError.
func internalError(err error) *apiError {
	if err == nil {
		return nil
	}
	return errorf(500, codeInternalServerError, "%v", err)
}
