package slsemu

// GetLogStore: GET /logstores/{logstore}, the logstore's settings. The
// service answers more fields (indexing, encryption, …); the emulator
// answers the ones a client reads to know the data it may still find:
// the name, the shard count and the retention.

// OpGetLogStore is the operation name of GetLogStore.
const OpGetLogStore = "GetLogStore"

// permanentTTL is the TTL, in days, the service reports for a logstore
// that keeps its data forever.
const permanentTTL = 3650

// logstoreInfo is the GetLogStore response.
type logstoreInfo struct {
	Name           string `json:"logstoreName"`
	TTL            int    `json:"ttl"` // days
	ShardCount     int    `json:"shardCount"`
	EnableTracking bool   `json:"enable_tracking"`
	AutoSplit      bool   `json:"autoSplit"`
	MaxSplitShard  int    `json:"maxSplitShard"`
	AppendMeta     bool   `json:"appendMeta"`
	TelemetryType  string `json:"telemetryType"`
	Mode           string `json:"mode"`
	CreateTime     int64  `json:"createTime"`
	LastModifyTime int64  `json:"lastModifyTime"`
}

// getLogStore serves GetLogStore. The TTL is the one SetTTL gave, in whole
// days rounded up (a test's TTL of hours reports 1 day), or the service's
// "permanent" value.
func (s *Server) getLogStore(rq *request) *apiError {
	ls, e := s.findLogstore(rq.project, rq.logstore)
	if e != nil {
		return e
	}
	ttl := permanentTTL
	if len(ls.shards) > 0 {
		if secs := ls.shards[0].ttl.Load(); secs > 0 {
			ttl = int((secs + 86399) / 86400)
		}
	}
	return internalError(writeJSON(rq.w, logstoreInfo{
		Name: ls.name, TTL: ttl, ShardCount: len(ls.shards), Mode: "standard",
		CreateTime: ls.createTime, LastModifyTime: ls.createTime,
	}))
}
