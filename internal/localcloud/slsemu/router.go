package slsemu

import (
	"net/http"
	"strings"
)

// Operation names, as used by [Fault.Op] and [Server.Requests].
const (
	OpListShards    = "ListShards"
	OpGetCursor     = "GetCursor"
	OpGetCursorTime = "GetCursorTime"
	OpPullLogs      = "PullLogs"
	OpPutLogs       = "PutLogs"
	OpListLogStores = "ListLogStores"
	OpGetLogStore   = "GetLogStore"
	OpGetLogs       = "GetLogs" // also GetHistograms, GetLogsV2, GetProjectLogs
	OpUnknown       = "Unknown"

	OpListConsumerGroup   = "ListConsumerGroup"
	OpCreateConsumerGroup = "CreateConsumerGroup"
	OpUpdateConsumerGroup = "UpdateConsumerGroup"
	OpDeleteConsumerGroup = "DeleteConsumerGroup"
	OpHeartBeat           = "HeartBeat"
	OpUpdateCheckpoint    = "UpdateCheckPoint"
	OpGetCheckpoint       = "GetCheckPoint"
)

// routeMatch is the operation a request maps to and its handler.
type routeMatch struct {
	op     string
	handle func(*Server, *request) *apiError
}

// route maps rq to an operation and fills rq.logstore and rq.shard.
// Operations the emulator does not implement answer as unknownRoute and
// queryRoute say; docs/local-cloud.md lists every operation.
func route(rq *request) routeMatch {
	path := strings.Trim(rq.r.URL.Path, "/")
	method := rq.r.Method
	switch {
	case path == "logs" && method == http.MethodGet:
		return queryRoute // GetProjectLogs
	case path == "logstores" && method == http.MethodGet:
		return routeMatch{OpListLogStores, (*Server).listLogStores}
	}
	seg := strings.Split(path, "/")
	if len(seg) < 2 || seg[0] != "logstores" || seg[1] == "" {
		return unknownRoute
	}
	rq.logstore = seg[1]
	rest := seg[2:]

	switch {
	case len(rest) > 0 && rest[0] == "consumergroups":
		return routeConsumerGroups(rq, rest)
	case len(rest) == 0 && method == http.MethodPost:
		return routeMatch{OpPutLogs, (*Server).putLogs}
	case len(rest) == 0 && method == http.MethodGet:
		switch rq.query.Get("type") {
		case "log", "histogram", "context_log":
			return queryRoute // GetLogs, GetHistograms (Go SDK form), GetContextLogs
		case "":
			return routeMatch{OpGetLogStore, (*Server).getLogStore}
		}
	case len(rest) == 1 && rest[0] == "index" && method == http.MethodGet && rq.query.Get("type") == "histogram":
		return queryRoute // GetHistograms (API 2020-12-30 form)
	case len(rest) == 1 && rest[0] == "logs" && method == http.MethodPost:
		return queryRoute // GetLogsV2
	case len(rest) == 1 && rest[0] == "shards" && method == http.MethodGet:
		return routeMatch{OpListShards, (*Server).listShards}
	case len(rest) == 2 && rest[0] == "shards" && method == http.MethodPost && (rest[1] == "lb" || rest[1] == "route"):
		rq.shard = rest[1]
		return routeMatch{OpPutLogs, (*Server).putLogs}
	case len(rest) == 2 && rest[0] == "shards" && method == http.MethodGet:
		rq.shard = rest[1]
		switch rq.query.Get("type") {
		case "cursor":
			return routeMatch{OpGetCursor, (*Server).getCursor}
		case "cursor_time":
			return routeMatch{OpGetCursorTime, (*Server).getCursorTime}
		case "logs", "log":
			return routeMatch{OpPullLogs, (*Server).pullLogs}
		}
	}
	return unknownRoute
}

// unknownRoute answers an operation the emulator does not implement (or a
// path that is none): 400 ParameterInvalid, a JSON error every SLS client
// reports as the service's and none retries (the SDKs retry 5xx).
var unknownRoute = routeMatch{OpUnknown, func(_ *Server, rq *request) *apiError {
	return errorf(400, codeParameterInvalid, "The SLS emulator does not implement %s %s (docs/local-cloud.md lists what it serves).", rq.r.Method, rq.r.URL.Path)
}}

// queryRoute answers the query API (GetLogs, GetHistograms, GetLogsV2,
// GetContextLogs, GetProjectLogs) as the service answers it for a logstore without an
// index, which every emulated logstore is: 400 IndexConfigNotExist,
// "logstore without index config" (Common errors when querying and
// analyzing logs, https://www.alibabacloud.com/help/doc-detail/61628.html;
// the code is the one the Go SDK matches for a missing index). The project
// and logstore are checked first, as for every other operation.
var queryRoute = routeMatch{OpGetLogs, func(s *Server, rq *request) *apiError {
	if rq.logstore != "" {
		if _, e := s.findLogstore(rq.project, rq.logstore); e != nil {
			return e
		}
	} else if e := s.findProject(rq.project); e != nil {
		return e
	}
	return errorf(400, codeIndexConfigNotExist, "logstore without index config")
}}
