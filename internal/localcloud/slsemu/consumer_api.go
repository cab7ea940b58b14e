package slsemu

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Error codes of the consumer-group API. ConsumerNotExsit is spelt as the
// Go SDK's consumer library matches it.
const (
	codeConsumerGroupNotExist     = "ConsumerGroupNotExist"
	codeConsumerGroupAlreadyExist = "ConsumerGroupAlreadyExist"
	codeJSONInfoInvalid           = "JsonInfoInvalid"
	codeNotExistConsumerWithBody  = "NotExistConsumerWithBody"
	codeConsumerNotExist          = "ConsumerNotExsit"
	codeConsumerNotMatch          = "ConsumerNotMatch"
	codeInvalidShardCheckPoint    = "InvalidShardCheckPoint"
)

// routeConsumerGroups maps the consumer-group API under
// /logstores/{ls}/consumergroups; rest is the path after the logstore.
func routeConsumerGroups(rq *request, rest []string) routeMatch {
	method := rq.r.Method
	switch {
	case len(rest) == 1 && method == http.MethodGet:
		return routeMatch{OpListConsumerGroup, (*Server).listConsumerGroups}
	case len(rest) == 1 && method == http.MethodPost:
		return routeMatch{OpCreateConsumerGroup, (*Server).createConsumerGroup}
	case len(rest) != 2 || rest[1] == "":
		return unknownRoute
	case method == http.MethodPut:
		return routeMatch{OpUpdateConsumerGroup, (*Server).updateConsumerGroup}
	case method == http.MethodDelete:
		return routeMatch{OpDeleteConsumerGroup, (*Server).deleteConsumerGroup}
	case method == http.MethodGet:
		return routeMatch{OpGetCheckpoint, (*Server).getCheckpoints}
	case method == http.MethodPost && rq.query.Get("type") == "heartbeat":
		return routeMatch{OpHeartBeat, (*Server).heartBeat}
	case method == http.MethodPost && rq.query.Get("type") == "checkpoint":
		return routeMatch{OpUpdateCheckpoint, (*Server).updateCheckpoint}
	}
	return unknownRoute
}

// groupName returns the consumer group named by the request path.
func groupName(rq *request) string {
	seg := strings.Split(strings.Trim(rq.r.URL.Path, "/"), "/")
	return seg[len(seg)-1]
}

func errGroupNotExist(name string) *apiError {
	return errorf(404, codeConsumerGroupNotExist, "consumer group %s does not exist", name)
}

// withGroup runs f on the request's logstore groups and the named group,
// under the groups' lock.
func (s *Server) withGroup(rq *request, f func(ls *logstore, g *consumerGroup) *apiError) *apiError {
	ls, e := s.findLogstore(rq.project, rq.logstore)
	if e != nil {
		return e
	}
	gs := groupsOf(ls)
	gs.mu.Lock()
	defer gs.mu.Unlock()
	name := groupName(rq)
	g := gs.groups[name]
	if g == nil {
		return errGroupNotExist(name)
	}
	return f(ls, g)
}

// groupInfo is one element of the ListConsumerGroup answer.
type groupInfo struct {
	Name    string `json:"name"`
	Timeout int    `json:"timeout"`
	Order   bool   `json:"order"`
}

// listConsumerGroups serves ListConsumerGroup:
// GET /logstores/{ls}/consumergroups.
func (s *Server) listConsumerGroups(rq *request) *apiError {
	ls, e := s.findLogstore(rq.project, rq.logstore)
	if e != nil {
		return e
	}
	gs := groupsOf(ls)
	gs.mu.Lock()
	out := make([]groupInfo, 0, len(gs.groups))
	for _, g := range gs.groups {
		out = append(out, groupInfo{Name: g.name, Timeout: g.timeout, Order: g.order})
	}
	gs.mu.Unlock()
	slices.SortFunc(out, func(a, b groupInfo) int { return strings.Compare(a.Name, b.Name) })
	return internalError(writeJSON(rq.w, out))
}

// createConsumerGroup serves CreateConsumerGroup:
// POST /logstores/{ls}/consumergroups {"consumerGroup","timeout","order"}.
func (s *Server) createConsumerGroup(rq *request) *apiError {
	var body struct {
		Name    string `json:"consumerGroup"`
		Timeout *int   `json:"timeout"`
		Order   bool   `json:"order"`
	}
	if err := json.Unmarshal(rq.body, &body); err != nil || body.Name == "" || body.Timeout == nil || *body.Timeout <= 0 {
		return errorf(400, codeJSONInfoInvalid, "consumerGroup or timeout is of error format")
	}
	ls, e := s.findLogstore(rq.project, rq.logstore)
	if e != nil {
		return e
	}
	gs := groupsOf(ls)
	gs.mu.Lock()
	defer gs.mu.Unlock()
	if gs.groups[body.Name] != nil {
		return errorf(400, codeConsumerGroupAlreadyExist, "consumer group %s already exists", body.Name)
	}
	if gs.groups == nil {
		gs.groups = make(map[string]*consumerGroup)
	}
	gs.groups[body.Name] = newConsumerGroup(body.Name, *body.Timeout, body.Order)
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

// updateConsumerGroup serves UpdateConsumerGroup:
// PUT /logstores/{ls}/consumergroups/{cg} {"order","timeout"}.
func (s *Server) updateConsumerGroup(rq *request) *apiError {
	var body struct {
		Timeout *int  `json:"timeout"`
		Order   *bool `json:"order"`
	}
	if err := json.Unmarshal(rq.body, &body); err != nil || (body.Timeout != nil && *body.Timeout <= 0) {
		return errorf(400, codeJSONInfoInvalid, "order or timeout is of error format")
	}
	return s.withGroup(rq, func(_ *logstore, g *consumerGroup) *apiError {
		if body.Timeout != nil {
			g.timeout = *body.Timeout
		}
		if body.Order != nil {
			g.order = *body.Order
		}
		rq.w.WriteHeader(http.StatusOK)
		return nil
	})
}

// deleteConsumerGroup serves DeleteConsumerGroup:
// DELETE /logstores/{ls}/consumergroups/{cg}.
func (s *Server) deleteConsumerGroup(rq *request) *apiError {
	return s.withGroup(rq, func(ls *logstore, g *consumerGroup) *apiError {
		delete(groupsOf(ls).groups, g.name)
		rq.w.WriteHeader(http.StatusOK)
		return nil
	})
}

// heartBeat serves HeartBeat:
// POST /logstores/{ls}/consumergroups/{cg}?type=heartbeat&consumer=C [shards].
func (s *Server) heartBeat(rq *request) *apiError {
	consumer := rq.query.Get("consumer")
	if consumer == "" {
		return errorf(400, codeParameterInvalid, "consumer is missing")
	}
	var held []int
	if err := json.Unmarshal(rq.body, &held); err != nil {
		return errorf(400, codePostBodyInvalid, "heartbeat body must be a JSON array of shard IDs")
	}
	var assigned []int
	e := s.withGroup(rq, func(ls *logstore, g *consumerGroup) *apiError {
		var e *apiError
		assigned, e = g.heartbeat(consumer, held, len(ls.shards), time.Now())
		return e
	})
	if e != nil {
		return e
	}
	return internalError(writeJSON(rq.w, assigned))
}

// updateCheckpoint serves UpdateCheckPoint:
// POST /logstores/{ls}/consumergroups/{cg}?type=checkpoint&consumer=C&forceSuccess=B
// {"shard","checkpoint"}.
func (s *Server) updateCheckpoint(rq *request) *apiError {
	var body struct {
		Shard      *int   `json:"shard"`
		Checkpoint string `json:"checkpoint"`
	}
	if err := json.Unmarshal(rq.body, &body); err != nil || body.Shard == nil {
		return errorf(400, codePostBodyInvalid, "checkpoint body must be {\"shard\":N,\"checkpoint\":\"...\"}")
	}
	if _, err := base64.StdEncoding.DecodeString(body.Checkpoint); err != nil || body.Checkpoint == "" {
		return errorf(400, codeInvalidShardCheckPoint, "shard checkpoint not encoded by base64")
	}
	consumer := rq.query.Get("consumer")
	force, ok := queryBool(rq.query, "forceSuccess", false)
	if !ok {
		return errorf(400, codeParameterInvalid, "forceSuccess %q is not a boolean", rq.query.Get("forceSuccess"))
	}
	if consumer == "" && !force {
		return errorf(400, codeParameterInvalid, "without a consumer, forceSuccess must be true")
	}
	shard := *body.Shard
	return s.withGroup(rq, func(ls *logstore, g *consumerGroup) *apiError {
		if shard < 0 || shard >= len(ls.shards) {
			return errorf(404, codeShardNotExist, "shard %d does not exist", shard)
		}
		if consumer != "" {
			g.expire(time.Now())
			if g.consumers[consumer] == nil {
				return errorf(404, codeConsumerNotExist, "consumer %s does not exist in consumer group %s", consumer, g.name)
			}
			if !g.holds(consumer, shard) {
				return errorf(400, codeConsumerNotMatch, "shard %d is not held by consumer %s", shard, consumer)
			}
		}
		g.checkpoints[shard] = checkpoint{cursor: body.Checkpoint, updated: time.Now().UnixMicro(), consumer: consumer}
		rq.w.WriteHeader(http.StatusOK)
		return nil
	})
}

// checkpointInfo is one element of the GetCheckPoint answer.
type checkpointInfo struct {
	Shard      int    `json:"shard"`
	Checkpoint string `json:"checkpoint"`
	UpdateTime int64  `json:"updateTime"`
	Consumer   string `json:"consumer"`
}

// getCheckpoints serves GetCheckPoint:
// GET /logstores/{ls}/consumergroups/{cg}[?shard=N]. It lists every shard
// (or only shard N; none if N does not exist) with its checkpoint ("" when
// none was saved) and the consumer it is assigned to.
func (s *Server) getCheckpoints(rq *request) *apiError {
	only := -1
	if v := rq.query.Get("shard"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return errorf(400, codeParameterInvalid, "shard %q is invalid", v)
		}
		only = n
	}
	out := []checkpointInfo{}
	e := s.withGroup(rq, func(ls *logstore, g *consumerGroup) *apiError {
		g.expire(time.Now())
		for shard := range len(ls.shards) {
			if only >= 0 && shard != only {
				continue
			}
			cp := g.checkpoints[shard]
			out = append(out, checkpointInfo{Shard: shard, Checkpoint: cp.cursor, UpdateTime: cp.updated, Consumer: g.owner[shard]})
		}
		return nil
	})
	if e != nil {
		return e
	}
	return internalError(writeJSON(rq.w, out))
}
