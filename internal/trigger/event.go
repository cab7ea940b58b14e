// Package trigger decodes the event an SLS trigger hands to the function:
// one shard's half-open cursor range [beginCursor, endCursor) and where to
// read it from. The event is untrusted (anyone allowed to invoke the
// function can send one): Parse returns a range only when its project and
// logstore are valid SLS names and its endpoint is allowed, so that the
// signed requests and the STS token go to SLS and nowhere else.
package trigger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"sls2siem/internal/secret"
	"sls2siem/internal/trust"
)

// Event is the SLS trigger event (FC's events.SlsEvent).
type Event struct {
	Source     Source          `json:"source"`
	CursorTime int64           `json:"cursorTime,omitempty"`
	JobName    string          `json:"jobName,omitempty"`
	TaskID     string          `json:"taskId,omitempty"`
	Parameter  json.RawMessage `json:"parameter,omitempty"`
}

// Source names the shard and the cursor range to ship.
type Source struct {
	ProjectName  string `json:"projectName"`
	LogstoreName string `json:"logstoreName"`
	// Endpoint is the admitted endpoint, scheme://host[:port], with the
	// scheme SLS_HTTPS asks for.
	Endpoint    string `json:"endpoint"`
	ShardID     int    `json:"shardId"`
	BeginCursor string `json:"beginCursor"`
	EndCursor   string `json:"endCursor"`
}

// wire mirrors Event with pointers, so that a missing field can be told
// apart from a zero one.
type wire struct {
	Source *struct {
		ProjectName  *string `json:"projectName"`
		LogstoreName *string `json:"logstoreName"`
		Endpoint     *string `json:"endpoint"`
		ShardID      *int    `json:"shardId"`
		BeginCursor  *string `json:"beginCursor"`
		EndCursor    *string `json:"endCursor"`
	} `json:"source"`
	CursorTime *int64          `json:"cursorTime"`
	JobName    *string         `json:"jobName"`
	TaskID     *string         `json:"taskId"`
	Parameter  json.RawMessage `json:"parameter"`
}

// Parse decodes and validates an SLS trigger event, admitting its endpoint
// by allowed. The error names the first field that is missing, empty, of
// the wrong type or against its rule, and the rule.
func Parse(data []byte, allowed trust.Endpoints) (Event, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return Event{}, errors.New("trigger event: the event is empty: want the SLS trigger's JSON object")
	}
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		return Event{}, fmt.Errorf("trigger event: %w", describeJSONError(err))
	}
	if w.Source == nil {
		return Event{}, errors.New("trigger event: field source is missing")
	}
	ws := w.Source
	var e Event
	var err error
	str := func(name string, p *string) string {
		if err != nil {
			return ""
		}
		switch {
		case p == nil:
			err = fmt.Errorf("trigger event: field source.%s is missing", name)
		case strings.TrimSpace(*p) == "":
			err = fmt.Errorf("trigger event: field source.%s is empty", name)
		default:
			return *p
		}
		return ""
	}
	e.Source.ProjectName = str("projectName", ws.ProjectName)
	e.Source.LogstoreName = str("logstoreName", ws.LogstoreName)
	e.Source.Endpoint = str("endpoint", ws.Endpoint)
	e.Source.BeginCursor = str("beginCursor", ws.BeginCursor)
	e.Source.EndCursor = str("endCursor", ws.EndCursor)
	if err != nil {
		return Event{}, err
	}
	switch {
	case ws.ShardID == nil:
		return Event{}, errors.New("trigger event: field source.shardId is missing")
	case *ws.ShardID < 0:
		return Event{}, fmt.Errorf("trigger event: field source.shardId is %d: want a shard number ≥ 0", *ws.ShardID)
	}
	e.Source.ShardID = *ws.ShardID
	if *ws.ShardID > maxShardID {
		return Event{}, fmt.Errorf("trigger event: field source.shardId is %d: want a shard number from 0 to %d", *ws.ShardID, maxShardID)
	}
	if err := trust.Project(e.Source.ProjectName); err != nil {
		return Event{}, fmt.Errorf("trigger event: field source.projectName %w", err)
	}
	if err := trust.Logstore(e.Source.LogstoreName); err != nil {
		return Event{}, fmt.Errorf("trigger event: field source.logstoreName %w", err)
	}
	for _, c := range []struct{ name, v string }{{"beginCursor", e.Source.BeginCursor}, {"endCursor", e.Source.EndCursor}} {
		if !validCursor(c.v) {
			return Event{}, fmt.Errorf("trigger event: field source.%s is %s: want an SLS cursor (base64, at most %d characters)", c.name, secret.Quote(c.v), maxCursor)
		}
	}
	ep, err := allowed.Admit(e.Source.Endpoint)
	if err != nil {
		return Event{}, fmt.Errorf("trigger event: field source.endpoint %w", err)
	}
	e.Source.Endpoint = ep.URL
	if w.CursorTime != nil {
		e.CursorTime = *w.CursorTime
	}
	if w.JobName != nil {
		e.JobName = *w.JobName
	}
	if w.TaskID != nil {
		e.TaskID = *w.TaskID
	}
	e.Parameter = w.Parameter
	return e, nil
}

// Bounds of the range's coordinates: SLS shard numbers are small, and
// cursors are the base64 of a decimal number.
const (
	maxShardID = 1 << 20
	maxCursor  = 128
)

func validCursor(c string) bool {
	if len(c) > maxCursor {
		return false
	}
	for i := 0; i < len(c); i++ {
		ch := c[i]
		if !(ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '+' || ch == '/' || ch == '=') {
			return false
		}
	}
	return true
}

func describeJSONError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return fmt.Errorf("the event is a JSON %s: want an object", typeErr.Value)
		}
		return fmt.Errorf("field %s is a JSON %s: want %s", typeErr.Field, typeErr.Value, jsonKind(typeErr.Type.String()))
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("the event is not valid JSON (at byte %d): %w", syntaxErr.Offset, err)
	}
	return fmt.Errorf("the event is not valid JSON: %w", err)
}

func jsonKind(goType string) string {
	switch strings.TrimPrefix(goType, "*") {
	case "string":
		return "a string"
	case "int", "int64":
		return "a whole number"
	}
	return "an object"
}
