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

// route maps rq to an operation and fills rq.logstore and rq.shard. Routes
// for further APIs (consumer groups) are added here, with their handlers in
// files of their own.
func route(rq *request) routeMatch {
	seg := strings.Split(strings.Trim(rq.r.URL.Path, "/"), "/")
	if len(seg) < 2 || seg[0] != "logstores" || seg[1] == "" {
		return unknownRoute
	}
	rq.logstore = seg[1]
	rest := seg[2:]
	method := rq.r.Method

	switch {
	case len(rest) > 0 && rest[0] == "consumergroups":
		return routeConsumerGroups(rq, rest)
	case len(rest) == 0 && method == http.MethodPost:
		return routeMatch{OpPutLogs, (*Server).putLogs}
	case len(rest) == 0 && method == http.MethodGet:
		return routeMatch{OpGetLogStore, (*Server).getLogStore}
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

var unknownRoute = routeMatch{OpUnknown, func(_ *Server, rq *request) *apiError {
	return errorf(400, codeParameterInvalid, "The emulator does not support %s %s.", rq.r.Method, rq.r.URL.Path)
}}
