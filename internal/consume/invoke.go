package consume

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"sls2siem/internal/config"
	"sls2siem/internal/secret"
	"sls2siem/internal/ship"
)

// TimerEvent is the event of an FC timer trigger.
type TimerEvent struct {
	TriggerTime string `json:"triggerTime"`
	TriggerName string `json:"triggerName"`
	Payload     string `json:"payload"`
}

// IsTimerEvent reports whether payload is an FC timer trigger's event:
// a JSON object with triggerTime and triggerName, and no SLS trigger
// "source".
func IsTimerEvent(payload []byte) bool {
	var ev struct {
		TriggerTime *string         `json:"triggerTime"`
		TriggerName *string         `json:"triggerName"`
		Source      json.RawMessage `json:"source"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(payload), &ev); err != nil {
		return false
	}
	return ev.TriggerTime != nil && ev.TriggerName != nil && ev.Source == nil
}

// Invoker runs the consumer-group driver for timer-triggered FC
// invocations, each until shortly before its deadline. Concurrent
// invocations of one instance are distinct consumers of the group (the
// consumer name gets a slot number); a later invocation reuses a free slot,
// and so the name, so that it resumes the shards its predecessor held.
type Invoker struct {
	cfg     config.Config
	consume config.Consume
	cfgErr  error
	shipper *ship.Shipper
	log     *slog.Logger

	mu    sync.Mutex
	slots []bool // in use
}

// NewInvoker returns the Invoker of a function instance: cfg is the
// configuration loaded for timer events (config.UseTimer); if it is
// invalid (cfgErr), every timer invocation fails with the error.
func NewInvoker(cfg config.Config, cfgErr error, shipper *ship.Shipper, log *slog.Logger) *Invoker {
	return &Invoker{cfg: cfg, consume: cfg.Consume, cfgErr: cfgErr, shipper: shipper, log: log}
}

// Invoke handles one timer event: it consumes with creds (the invocation's
// STS credentials) until SHIP_DEADLINE_MARGIN + SLS_CONSUMER_STOP_TIMEOUT
// before ctx's deadline, then stops cleanly, and answers the JSON Summary.
func (iv *Invoker) Invoke(ctx context.Context, requestID string, event []byte, creds secret.Credentials) ([]byte, error) {
	var ev TimerEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, fmt.Errorf("timer event: %w", err)
	}
	if iv.cfgErr != nil {
		return nil, iv.cfgErr
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		return nil, fmt.Errorf("timer invocation %s: FC gave no deadline; the consumer-group variant runs until shortly before it", requestID)
	}
	c := iv.consume
	stopAt := deadline.Add(-iv.cfg.DeadlineMargin - c.StopTimeout)
	if time.Until(stopAt) < time.Second {
		return nil, fmt.Errorf("timer invocation %s: the function timeout leaves %s to consume: it must exceed %s (%s) + %s (%s) by at least a few seconds",
			requestID, time.Until(stopAt).Round(time.Millisecond), config.VarDeadlineMargin, iv.cfg.DeadlineMargin,
			config.VarSLSConsumerStopTimeout, c.StopTimeout)
	}
	slot := iv.acquire()
	c.Name = c.Name + "-" + strconv.Itoa(slot)
	runCtx, cancel := context.WithDeadline(ctx, stopAt)
	defer cancel()
	iv.log.Info("timer invocation: consuming until shortly before the deadline", "requestId", requestID,
		"triggerName", ev.TriggerName, "triggerTime", ev.TriggerTime, "consumer", c.Name, "stopAt", stopAt.UTC().Format(time.RFC3339))
	sum, err := Run(runCtx, Options{
		Consume:       c,
		Credentials:   creds,
		PullCount:     iv.cfg.PullCount,
		RetryBackoff:  iv.cfg.Syslog.RetryBackoff,
		Shipper:       iv.shipper,
		Log:           iv.log.With("requestId", requestID),
		WriteDeadline: deadline.Add(-iv.cfg.DeadlineMargin),
	})
	if !errors.Is(err, ErrStopTimeout) {
		iv.releaseSlot(slot) // else the library may still run under that name
	}
	if err != nil {
		return nil, err
	}
	sum.RequestID = requestID
	return json.Marshal(sum)
}

// acquire returns the lowest free slot.
func (iv *Invoker) acquire() int {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	for i, used := range iv.slots {
		if !used {
			iv.slots[i] = true
			return i
		}
	}
	iv.slots = append(iv.slots, true)
	return len(iv.slots) - 1
}

func (iv *Invoker) releaseSlot(slot int) {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	iv.slots[slot] = false
}

// RunDaemon runs the consumer until ctx is done (SIGINT or SIGTERM), with
// the AccessKey pair of the configuration; obs (may be nil) is told what
// it does.
func RunDaemon(ctx context.Context, cfg config.Config, c config.Consume, shipper *ship.Shipper, log *slog.Logger, obs Observer) (Summary, error) {
	return Run(ctx, Options{
		Consume:      c,
		PullCount:    cfg.PullCount,
		RetryBackoff: cfg.Syslog.RetryBackoff,
		Shipper:      shipper,
		Log:          log,
		Observer:     obs,
	})
}
