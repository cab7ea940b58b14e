// Package ship ships one SLS trigger invocation: it decodes the event,
// reads the shard's cursor range, formats every log and writes it to the
// syslog receiver, and answers success only when every log was written.
package ship

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"sls2siem/internal/config"
	"sls2siem/internal/format"
	"sls2siem/internal/logstore"
	"sls2siem/internal/transport"
	"sls2siem/internal/trigger"
)

// Invocation is one call of the function.
type Invocation struct {
	RequestID   string
	Event       []byte
	Credentials logstore.Credentials
}

// Summary is the function's answer, and the fields of its log line.
type Summary struct {
	RequestID   string `json:"requestId,omitempty"`
	Project     string `json:"project"`
	Logstore    string `json:"logstore"`
	Shard       int    `json:"shard"`
	BeginCursor string `json:"beginCursor"`
	EndCursor   string `json:"endCursor"`
	LogGroups   int64  `json:"logGroups"`
	Logs        int64  `json:"logs"`
	Bytes       int64  `json:"bytes"`
	Truncated   int64  `json:"truncated"`
	Dropped     int64  `json:"dropped"` // longer than SYSLOG_MAX_MESSAGE_SIZE with SYSLOG_OVERSIZE=drop
	Resent      int64  `json:"resent"`  // logs sent again after a connection failed: possible duplicates
	Retries     int64  `json:"retries"` // reconnections after a failed send
	DurationMS  int64  `json:"durationMs"`
}

// Shipper holds what lives as long as the function instance: the
// configuration, the SLS HTTP transport and the syslog connection pool.
// It is safe for concurrent invocations.
type Shipper struct {
	cfg  config.Config
	log  *slog.Logger
	sls  http.RoundTripper
	pool *transport.Pool
}

// New returns a Shipper for cfg.
func New(cfg config.Config, log *slog.Logger) *Shipper {
	s := cfg.Syslog
	return &Shipper{
		cfg: cfg,
		log: log,
		sls: logstore.NewTransport(),
		pool: transport.NewPool(transport.Config{
			Network:      s.Protocol,
			Address:      s.Address(),
			Framing:      s.Framing,
			DialTimeout:  s.DialTimeout,
			WriteTimeout: s.WriteTimeout,
			IdleTimeout:  s.IdleTimeout,
			TLS:          s.TLS,
		}),
	}
}

func (s *Shipper) newEncoder() *format.Encoder {
	sc, f := s.cfg.Syslog, s.cfg.Format
	return format.NewEncoder(format.Options{
		Syntax: f.Syntax, Body: f.Body,
		Facility: sc.Facility, Severity: sc.Severity,
		Hostname: sc.Hostname, AppName: sc.AppName, ProcID: f.ProcID, MsgID: f.MsgID,
		FacilityKeys: f.FacilityKeys, SeverityKeys: f.SeverityKeys,
		HostnameKeys: f.HostnameKeys, AppNameKeys: f.AppNameKeys,
		ProcIDKeys: f.ProcIDKeys, MsgIDKeys: f.MsgIDKeys,
		Location: f.Timezone, BOM: f.BOM,
		SDID: f.SDID, SDKeys: f.SDKeys, Origin: f.OriginSD,
		IncludeKeys: f.IncludeKeys, ExcludeKeys: f.ExcludeKeys,
		EscapeBreaks: sc.Protocol != config.ProtocolUDP && sc.Framing == config.FramingLF,
		MaxSize:      sc.MaxMessageSize, DropOversize: f.DropOversize,
		Vendor: f.Vendor, Product: f.Product, Version: f.Version,
		EventIDKeys: f.EventIDKeys, EventID: f.EventID,
		EventNameKeys: f.EventNameKeys, EventName: f.EventName,
		LEEFDelimiter: f.LEEFDelimiter,
	})
}

// Close closes the pooled syslog connections (FC's pre-stop).
func (s *Shipper) Close() error { return s.pool.Close() }

// Ship ships the range named by inv.Event. It stops DeadlineMargin before
// ctx's deadline. The Summary counts what was written even on error.
func (s *Shipper) Ship(ctx context.Context, inv Invocation) (sum Summary, err error) {
	start := time.Now()
	sum.RequestID = inv.RequestID
	defer func() {
		sum.DurationMS = time.Since(start).Milliseconds()
		s.logResult(ctx, sum, err)
	}()
	ev, err := trigger.Parse(inv.Event)
	if err != nil {
		return sum, err
	}
	src := ev.Source
	sum.Project, sum.Logstore, sum.Shard = src.ProjectName, src.LogstoreName, src.ShardID
	sum.BeginCursor, sum.EndCursor = src.BeginCursor, src.EndCursor

	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-s.cfg.DeadlineMargin))
		defer cancel()
	}
	err = s.shipRange(ctx, ev, inv.Credentials, &sum)
	if err != nil {
		err = fmt.Errorf("ship project %s logstore %s shard %d [%s, %s): %w; %d logs were written before the failure, the whole range must be retried",
			src.ProjectName, src.LogstoreName, src.ShardID, src.BeginCursor, src.EndCursor, err, sum.Logs)
	}
	return sum, err
}

func (s *Shipper) shipRange(ctx context.Context, ev trigger.Event, creds logstore.Credentials, sum *Summary) error {
	src := ev.Source
	reader := logstore.NewReader(ctx, logstore.Range{
		Endpoint: src.Endpoint, Project: src.ProjectName, Logstore: src.LogstoreName,
		Shard: src.ShardID, Begin: src.BeginCursor, End: src.EndCursor,
	}, creds, logstore.Options{Transport: s.sls, PullCount: s.cfg.PullCount})
	sess := s.NewSession()
	sess.SetOrigin(src.ProjectName, src.LogstoreName, src.ShardID)
	defer sess.Reset() // success releases the connection first

	// What the current connection carried in this invocation: if it fails,
	// all of it may be lost (plain TCP gives no application ack), so the
	// range is read again from connStart and resent.
	var connStart string
	var onConn Counts // what the current connection carried (Logs, and the groups in onConnGroups)
	var onConnGroups int64
	failures := 0
	pf := startPrefetch(ctx, reader)
	defer func() { pf.stop() }()
	recoverFrom := func(cause error) error {
		sess.Reset()
		failures++
		if failures > s.cfg.Syslog.MaxRetries {
			return fmt.Errorf("%w (gave up after %d retries)", cause, s.cfg.Syslog.MaxRetries)
		}
		backoff := s.cfg.Syslog.RetryBackoff << (failures - 1)
		s.log.Warn("syslog send failed: reconnecting and resending what this connection carried",
			"error", cause.Error(), "retry", failures, "resend", onConn.Logs, "backoff", backoff.String())
		pf.stop()
		if err := sleep(ctx, backoff); err != nil {
			return cause
		}
		sum.Logs -= onConn.Logs
		sum.LogGroups -= onConnGroups
		sum.Truncated -= onConn.Truncated
		sum.Dropped -= onConn.Dropped
		sum.Resent += onConn.Logs
		sum.Retries++
		onConn, onConnGroups = Counts{}, 0
		reader.Seek(connStart)
		pf = startPrefetch(ctx, reader)
		return nil
	}
	for {
		batch, err := pf.next(ctx)
		if errors.Is(err, logstore.ErrDone) {
			if err := sess.Confirm(ctx); err != nil {
				if rerr := recoverFrom(err); rerr != nil {
					return s.deadlineHint(ctx, rerr)
				}
				continue
			}
			break
		}
		if err != nil {
			return s.deadlineHint(ctx, err)
		}
		if len(batch.Groups) == 0 {
			batch.Release()
			continue
		}
		if !sess.Connected() {
			connStart = batch.Cursor
		}
		groups := int64(len(batch.Groups))
		c, err := sess.WriteBatch(ctx, batch)
		batch.Release()
		sum.Bytes += c.Bytes
		if err != nil {
			sum.Resent += c.Logs // partly written: sent again with the rest
			if rerr := recoverFrom(err); rerr != nil {
				return s.deadlineHint(ctx, rerr)
			}
			continue
		}
		failures = 0
		onConn.Logs += c.Logs
		onConn.Truncated += c.Truncated
		onConn.Dropped += c.Dropped
		onConnGroups += groups
		sum.LogGroups += groups
		sum.Logs += c.Logs
		sum.Truncated += c.Truncated
		sum.Dropped += c.Dropped
	}
	sess.Release()
	return nil
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// deadlineHint says so when an error comes from the invocation running out
// of time.
func (s *Shipper) deadlineHint(ctx context.Context, err error) error {
	dl, ok := ctx.Deadline()
	if ctx.Err() != nil || ok && !time.Now().Before(dl) {
		return fmt.Errorf("%w (stopped %s before the invocation's deadline, %s)", err, s.cfg.DeadlineMargin, config.VarDeadlineMargin)
	}
	return err
}

func (s *Shipper) logResult(ctx context.Context, sum Summary, err error) {
	attrs := []slog.Attr{
		slog.String("requestId", sum.RequestID),
		slog.String("project", sum.Project),
		slog.String("logstore", sum.Logstore),
		slog.Int("shard", sum.Shard),
		slog.String("beginCursor", sum.BeginCursor),
		slog.String("endCursor", sum.EndCursor),
		slog.Int64("logGroups", sum.LogGroups),
		slog.Int64("logs", sum.Logs),
		slog.Int64("bytes", sum.Bytes),
		slog.Int64("truncated", sum.Truncated),
		slog.Int64("dropped", sum.Dropped),
		slog.Int64("resent", sum.Resent),
		slog.Int64("retries", sum.Retries),
		slog.Int64("durationMs", sum.DurationMS),
	}
	if err != nil {
		attrs = append(attrs, slog.String("outcome", "error"), slog.String("error", err.Error()))
		s.log.LogAttrs(context.WithoutCancel(ctx), slog.LevelError, "invocation failed", attrs...)
		return
	}
	attrs = append(attrs, slog.String("outcome", "success"))
	s.log.LogAttrs(context.WithoutCancel(ctx), slog.LevelInfo, "invocation shipped", attrs...)
}
