package slstrigger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"sls2siem/internal/localcloud/fcemu"
)

// Round runs one trigger interval: each shard with new data gets its range
// invoked, with retries. Shards run concurrently. The error joins the
// failures to read the logstore (those shards are skipped this round) and
// ctx's error if it ended (the interrupted range is not advanced).
func (s *Simulator) Round(ctx context.Context) (Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	shards, err := s.cfg.Client.ListShards(s.cfg.Project, s.cfg.Logstore)
	if err != nil {
		return Report{}, fmt.Errorf("slstrigger: list shards of %s/%s: %w", s.cfg.Project, s.cfg.Logstore, err)
	}
	ids := make([]int, 0, len(shards))
	for _, sh := range shards {
		ids = append(ids, sh.ShardID)
	}
	slices.Sort(ids)
	if s.initial == nil {
		s.initial = make(map[int]bool, len(ids))
		for _, id := range ids {
			s.initial[id] = true
		}
	}
	reports := make([]Report, len(ids))
	errs := make([]error, len(ids))
	begins := make([]string, len(ids))
	var wg sync.WaitGroup
	for k, id := range ids {
		begin, known := s.next[id]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !known {
				from := "begin"
				if s.initial[id] {
					from = s.cfg.StartCursor
				}
				c, err := s.cfg.Client.GetCursor(s.cfg.Project, s.cfg.Logstore, id, from)
				if err != nil {
					errs[k] = fmt.Errorf("slstrigger: shard %d: get cursor %q: %w", id, from, err)
					return
				}
				begin = c
			}
			begins[k], reports[k], errs[k] = s.shardRound(ctx, id, begin)
		}()
	}
	wg.Wait()

	var rep Report
	for k, id := range ids {
		if begins[k] != "" {
			s.next[id] = begins[k]
		}
		rep.add(reports[k])
	}
	return rep, errors.Join(errs...)
}

// shardRound invokes the new range of one shard, if any, and returns where
// the shard's next range begins.
func (s *Simulator) shardRound(ctx context.Context, shard int, begin string) (string, Report, error) {
	var rep Report
	end, err := s.cfg.Client.GetCursor(s.cfg.Project, s.cfg.Logstore, shard, "end")
	if err != nil {
		return begin, rep, fmt.Errorf("slstrigger: shard %d: get end cursor: %w", shard, err)
	}
	if end == begin {
		return begin, rep, nil // no new data
	}
	cursorTime, err := s.cursorTime(shard, end)
	if err != nil {
		return begin, rep, err
	}
	ev := event{
		CursorTime: cursorTime,
		JobName:    s.cfg.JobName,
		Parameter:  s.cfg.FunctionParameter,
		Source: source{
			BeginCursor:  begin,
			EndCursor:    end,
			Endpoint:     s.cfg.Endpoint,
			LogstoreName: s.cfg.Logstore,
			ProjectName:  s.cfg.Project,
			ShardID:      shard,
		},
		TaskID: newTaskID(),
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return begin, rep, fmt.Errorf("slstrigger: shard %d: encode event: %w", shard, err)
	}

	var last Attempt
	for try := 0; try <= s.cfg.MaxRetryTime; try++ {
		if try > 0 && s.cfg.RetryDelay > 0 {
			t := time.NewTimer(s.cfg.RetryDelay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return begin, rep, ctx.Err()
			}
		}
		last = s.attempt(ctx, body, ev, try)
		if last.Err != "" && ctx.Err() != nil {
			return begin, rep, ctx.Err() // interrupted, not failed: keep the range
		}
		rep.Attempts = append(rep.Attempts, last)
		if last.Err == "" {
			rep.RangesOK++
			slog.Debug("slstrigger: range done", "shard", shard, "task", ev.TaskID, "tries", try+1)
			return end, rep, nil
		}
		slog.Debug("slstrigger: invocation failed", "shard", shard, "task", ev.TaskID, "try", try, "err", last.Err)
	}
	rep.RangesFailed++
	rep.Failed = append(rep.Failed, last)
	slog.Warn("slstrigger: range given up", "shard", shard, "task", ev.TaskID,
		"begin", begin, "end", end, "tries", s.cfg.MaxRetryTime+1, "err", last.Err)
	return end, rep, nil
}

// attempt invokes the function once.
func (s *Simulator) attempt(ctx context.Context, body []byte, ev event, try int) Attempt {
	a := Attempt{
		Shard:       ev.Source.ShardID,
		BeginCursor: ev.Source.BeginCursor,
		EndCursor:   ev.Source.EndCursor,
		TaskID:      ev.TaskID,
		Try:         try,
	}
	start := time.Now()
	var res *fcemu.Result
	var err error
	if hi, ok := s.inv.(headerInvoker); ok {
		res, err = hi.InvokeWithHeaders(ctx, body, http.Header{"X-Fc-Retry-Count": {strconv.Itoa(try)}})
	} else {
		res, err = s.inv.Invoke(ctx, body)
	}
	a.Duration = time.Since(start)
	switch {
	case err != nil:
		a.Err = err.Error()
	case res == nil:
		a.Err = "invoker returned no result"
	default:
		a.RequestID, a.Payload = res.RequestID, res.Payload
		if res.Duration > 0 {
			a.Duration = res.Duration
		}
		if res.Err != nil {
			a.Err = res.Err.Error()
		}
	}
	return a
}

// cursorTime returns the receive time (unix seconds) of the last log group
// before end.
func (s *Simulator) cursorTime(shard int, end string) (int64, error) {
	c := end
	if n, err := decodeCursor(end); err == nil {
		c = encodeCursor(n - 1)
	}
	t, err := s.cfg.Client.GetCursorTime(s.cfg.Project, s.cfg.Logstore, shard, c)
	if err != nil {
		return 0, fmt.Errorf("slstrigger: shard %d: get cursor time: %w", shard, err)
	}
	return t.Unix(), nil
}
