// Package trigger decodes the event an SLS trigger hands to the function:
// one shard's half-open cursor range [beginCursor, endCursor) and where to
// read it from.
package trigger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
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
	Endpoint     string `json:"endpoint"`
	ShardID      int    `json:"shardId"`
	BeginCursor  string `json:"beginCursor"`
	EndCursor    string `json:"endCursor"`
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

// Parse decodes and validates an SLS trigger event. The error names the
// first field that is missing, empty or of the wrong type.
func Parse(data []byte) (Event, error) {
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
	if err := checkEndpoint(e.Source.Endpoint); err != nil {
		return Event{}, err
	}
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

// checkEndpoint accepts what the SLS SDK accepts: a host[:port], optionally
// behind http:// or https://.
func checkEndpoint(ep string) error {
	raw := ep
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return fmt.Errorf("trigger event: field source.endpoint is %q: want an SLS endpoint such as cn-hangzhou-intranet.log.aliyuncs.com or http://host:port", ep)
	}
	return nil
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
