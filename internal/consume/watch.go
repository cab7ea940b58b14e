package consume

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// watchingTransport reports the consumer library's heartbeats and
// checkpoint saves to an Observer as they cross the SLS transport: the
// library keeps both to itself, and this sees exactly what SLS answered.
type watchingTransport struct {
	base http.RoundTripper
	obs  Observer
}

// Bounds on the consumer-group bodies read here (a heartbeat lists shard
// numbers; a checkpoint is one cursor).
const maxWatchedBody = 64 << 10

func (t watchingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	kind := ""
	if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/consumergroups/") {
		kind = r.URL.Query().Get("type")
	}
	switch kind {
	case "heartbeat":
		return t.heartbeat(r)
	case "checkpoint":
		return t.checkpoint(r)
	}
	return t.base.RoundTrip(r)
}

func (t watchingTransport) heartbeat(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		t.obs.Heartbeat(nil, fmt.Errorf("heartbeat: %w", err))
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		t.obs.Heartbeat(nil, fmt.Errorf("heartbeat: SLS answered HTTP %d", resp.StatusCode))
		return resp, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxWatchedBody+1))
	resp.Body.Close()
	if err != nil {
		t.obs.Heartbeat(nil, fmt.Errorf("heartbeat: read the answer: %w", err))
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var held []int
	if len(body) > maxWatchedBody || json.Unmarshal(body, &held) != nil {
		t.obs.Heartbeat(nil, fmt.Errorf("heartbeat: the answer is not a list of shards"))
		return resp, nil
	}
	t.obs.Heartbeat(held, nil)
	return resp, nil
}

func (t watchingTransport) checkpoint(r *http.Request) (*http.Response, error) {
	shard := -1
	if r.GetBody != nil {
		if rc, err := r.GetBody(); err == nil {
			var cp struct {
				Shard *int `json:"shard"`
			}
			b, _ := io.ReadAll(io.LimitReader(rc, maxWatchedBody))
			rc.Close()
			if json.Unmarshal(b, &cp) == nil && cp.Shard != nil {
				shard = *cp.Shard
			}
		}
	}
	resp, err := t.base.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusOK && shard >= 0 {
		t.obs.CheckpointSaved(shard)
	}
	return resp, err
}
