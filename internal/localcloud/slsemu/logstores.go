package slsemu

import (
	"slices"
	"strconv"
	"strings"
)

// Read-only logstore operations (ListLogStores, GetLogStore), so that a
// client can discover what the emulator holds. Creating, changing and
// deleting projects and logstores is done through the Go API
// ([Server.CreateLogstore], [Server.SetTTL]), not over HTTP.

// findProject returns nil if the project exists, else ProjectNotExist.
func (s *Server) findProject(projectName string) *apiError {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.projects[projectName] == nil {
		return errorf(404, codeProjectNotExist, "The Project does not exist: %s", projectName)
	}
	return nil
}

// listLogStores serves ListLogStores: GET /logstores[?logstoreName=&offset=&size=]
// (https://www.alibabacloud.com/help/en/sls/developer-reference/api-sls-2020-12-30-listlogstores).
// logstoreName filters by substring; offset and size page the sorted names
// (size defaults to 200, the service's default and maximum is 500).
func (s *Server) listLogStores(rq *request) *apiError {
	offset, err1 := intParam(rq, "offset", 0)
	size, err2 := intParam(rq, "size", 200)
	if err1 != nil || err2 != nil || offset < 0 || size < 0 || size > 500 {
		return errorf(400, codeParameterInvalid, "offset or size is invalid")
	}
	s.mu.RLock()
	p := s.projects[rq.project]
	var names []string
	if p != nil {
		filter := rq.query.Get("logstoreName")
		for name := range p.logstores {
			if strings.Contains(name, filter) {
				names = append(names, name)
			}
		}
	}
	s.mu.RUnlock()
	if p == nil {
		return errorf(404, codeProjectNotExist, "The Project does not exist: %s", rq.project)
	}
	slices.Sort(names)
	total := len(names)
	names = names[min(offset, total):min(offset+size, total)]
	return internalError(writeJSON(rq.w, struct {
		Count     int      `json:"count"`
		Total     int      `json:"total"`
		Logstores []string `json:"logstores"`
	}{len(names), total, append([]string{}, names...)}))
}

// logStoreInfo is the GetLogStore answer, limited to what the emulator
// knows.
type logStoreInfo struct {
	Name           string `json:"logstoreName"`
	TTL            int    `json:"ttl"` // days
	ShardCount     int    `json:"shardCount"`
	CreateTime     int64  `json:"createTime"`
	LastModifyTime int64  `json:"lastModifyTime"`
	AutoSplit      bool   `json:"autoSplit"`
	MaxSplitShard  int    `json:"maxSplitShard"`
	AppendMeta     bool   `json:"appendMeta"`
	Mode           string `json:"mode"`
	TelemetryType  string `json:"telemetryType"`
}

// getLogStore serves GetLogStore: GET /logstores/{ls}
// (https://www.alibabacloud.com/help/en/sls/developer-reference/api-sls-2020-12-30-getlogstore).
// TTL is in days as the service answers it (3650 when data is kept
// forever); a TTL set in seconds (Server.SetTTL) is rounded up to whole
// days, as no logstore keeps data for part of a day.
func (s *Server) getLogStore(rq *request) *apiError {
	ls, e := s.findLogstore(rq.project, rq.logstore)
	if e != nil {
		return e
	}
	days := 3650
	if ttl := ls.shards[0].ttl.Load(); ttl > 0 {
		days = int((ttl + 86399) / 86400)
	}
	return internalError(writeJSON(rq.w, logStoreInfo{
		Name: ls.name, TTL: days, ShardCount: len(ls.shards),
		CreateTime: ls.createTime, LastModifyTime: ls.createTime,
		Mode: "standard", TelemetryType: "None",
	}))
}

// intParam reads an integer query parameter, def when absent.
func intParam(rq *request, name string, def int) (int, error) {
	v := rq.query.Get(name)
	if v == "" {
		return def, nil
	}
	return strconv.Atoi(v)
}
