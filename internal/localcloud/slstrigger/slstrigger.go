// Package slstrigger simulates the SLS trigger of Function Compute: an ETL
// job that, every trigger interval, invokes the function once per shard with
// new data, passing the cursor range [last end cursor, current end cursor).
//
// It reads the logstore with the trigger role's SDK client (ListShards,
// GetCursor, GetCursorTime) and builds the event exactly as the real trigger
// does (events.SlsEvent in fc-runtime-go-sdk):
//
//	{"cursorTime":..,"jobName":..,"parameter":{..},"source":{"beginCursor":..,
//	 "endCursor":..,"endpoint":..,"logstoreName":..,"projectName":..,"shardId":..},
//	 "taskId":..}
//
// Assumptions where the service is not documented:
//
//   - A failed invocation (an infrastructure error or a function error,
//     including a timeout) is retried up to MaxRetryTime times with the same
//     taskId and cursors. A range still failing after that is given up: it is
//     reported in [Report.Failed] and the shard moves on to the next range.
//     The real service's behaviour here is undocumented ("SLS triggers the
//     function again when the next trigger interval arrives"), so the shipper
//     must not rely on a given-up range being re-sent.
//   - The whole backlog of a shard is sent as one range (the real trigger
//     cuts a lagging shard into interval-sized windows).
//   - cursorTime is the receive time of the last log group in the range:
//     GetCursorTime of the cursor just before the end cursor.
//   - Shards present at the first round start at [Config.StartCursor]; shards
//     that appear later (after a split) start at "begin".
package slstrigger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"

	"sls2siem/internal/localcloud/fcemu"
)

// Invoker runs one invocation of the function, e.g. an [*fcemu.Instance].
// An Invoker that also has
//
//	InvokeWithHeaders(ctx context.Context, event []byte, h http.Header) (*fcemu.Result, error)
//
// gets the x-fc-retry-count header on each attempt.
type Invoker interface {
	Invoke(ctx context.Context, event []byte) (*fcemu.Result, error)
}

type headerInvoker interface {
	InvokeWithHeaders(ctx context.Context, event []byte, h http.Header) (*fcemu.Result, error)
}

// Config describes one SLS trigger.
type Config struct {
	// Client is the trigger role's SDK client.
	Client sls.ClientInterface
	// Endpoint is written into events, e.g. "http://127.0.0.1:PORT".
	Endpoint string

	Project, Logstore string

	// Interval is the trigger interval (triggerInterval). Default 60s.
	Interval time.Duration
	// MaxRetryTime is jobConfig.maxRetryTime, 0..100: how many times a failed
	// range is retried.
	MaxRetryTime int
	// RetryDelay is the pause between retries of a range (default none).
	RetryDelay time.Duration
	// StartCursor is where shards start: "begin" (default), "end", or a unix
	// time in seconds.
	StartCursor string

	// JobName defaults to a hash of the project and logstore.
	JobName string
	// FunctionParameter becomes the event's "parameter"; default {}.
	FunctionParameter json.RawMessage
}

// Attempt is one invocation of the function for a cursor range.
type Attempt struct {
	Shard                  int
	BeginCursor, EndCursor string
	TaskID                 string        // the same for every attempt of a range
	RequestID              string        // FC request id, "" if the invocation never ran
	Try                    int           // 0 for the first attempt, n for the n-th retry
	Payload                []byte        // the function's answer on success
	Err                    string        // "" on success
	Duration               time.Duration // the function's Result.Duration, else the call's wall time
}

// Report describes what rounds did.
type Report struct {
	Attempts     []Attempt // by shard, then in order
	RangesOK     int
	RangesFailed int
	Failed       []Attempt // the last attempt of each range given up
}

// add appends r to rep.
func (rep *Report) add(r Report) {
	rep.Attempts = append(rep.Attempts, r.Attempts...)
	rep.RangesOK += r.RangesOK
	rep.RangesFailed += r.RangesFailed
	rep.Failed = append(rep.Failed, r.Failed...)
}

// Simulator drives one trigger. Rounds are serialised: concurrent calls
// wait for each other.
type Simulator struct {
	cfg Config
	inv Invoker

	mu      sync.Mutex
	initial map[int]bool   // shards of the first ListShards; nil before it
	next    map[int]string // per shard, the begin cursor of the next range
}

// New returns a simulator for cfg that invokes inv.
func New(cfg Config, inv Invoker) (*Simulator, error) {
	if cfg.Client == nil {
		return nil, errors.New("slstrigger: Config.Client is nil")
	}
	if inv == nil {
		return nil, errors.New("slstrigger: invoker is nil")
	}
	if cfg.Endpoint == "" || cfg.Project == "" || cfg.Logstore == "" {
		return nil, errors.New("slstrigger: Config.Endpoint, Project and Logstore are required")
	}
	if cfg.MaxRetryTime < 0 || cfg.MaxRetryTime > 100 {
		return nil, fmt.Errorf("slstrigger: MaxRetryTime %d is outside 0..100", cfg.MaxRetryTime)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 60 * time.Second
	}
	if cfg.RetryDelay < 0 {
		cfg.RetryDelay = 0
	}
	switch cfg.StartCursor {
	case "":
		cfg.StartCursor = "begin"
	case "begin", "end":
	default:
		if _, err := strconv.ParseInt(cfg.StartCursor, 10, 64); err != nil {
			return nil, fmt.Errorf("slstrigger: StartCursor %q is not begin, end or a unix time", cfg.StartCursor)
		}
	}
	if cfg.JobName == "" {
		sum := sha256.Sum256([]byte(cfg.Project + "/" + cfg.Logstore))
		cfg.JobName = hex.EncodeToString(sum[:20])
	}
	if len(cfg.FunctionParameter) == 0 {
		cfg.FunctionParameter = json.RawMessage("{}")
	} else if !json.Valid(cfg.FunctionParameter) {
		return nil, errors.New("slstrigger: FunctionParameter is not valid JSON")
	}
	return &Simulator{cfg: cfg, inv: inv, next: make(map[int]string)}, nil
}

// RunUntilCaughtUp runs rounds, Interval apart, until a round finds no new
// data on any shard (or fails, or ctx ends), and returns what they did.
func (s *Simulator) RunUntilCaughtUp(ctx context.Context) (Report, error) {
	var total Report
	for {
		r, err := s.Round(ctx)
		total.add(r)
		if err != nil {
			return total, err
		}
		if len(r.Attempts) == 0 {
			return total, nil
		}
		if err := wait(ctx, s.cfg.Interval); err != nil {
			return total, err
		}
	}
}

// Run runs a round, then another Interval after it ends, until ctx is done.
// A round's errors are logged and do not stop the trigger. It returns what
// the rounds did once ctx is done.
func (s *Simulator) Run(ctx context.Context) (Report, error) {
	var total Report
	for {
		r, err := s.Round(ctx)
		total.add(r)
		if err != nil && ctx.Err() == nil {
			slog.Warn("slstrigger: round failed", "project", s.cfg.Project, "logstore", s.cfg.Logstore, "err", err)
		}
		if wait(ctx, s.cfg.Interval) != nil {
			return total, nil
		}
	}
}

func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
