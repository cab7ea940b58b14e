// Package ship ships one SLS trigger invocation: it decodes the event,
// reads the shard's cursor range, formats every log and writes it to the
// syslog receiver, and answers success only when every log was written.
package ship

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"sls2siem/internal/config"
	"sls2siem/internal/deadletter"
	"sls2siem/internal/delivery"
	"sls2siem/internal/format"
	"sls2siem/internal/ledger"
	"sls2siem/internal/logstore"
	"sls2siem/internal/receivers"
	"sls2siem/internal/secret"
	"sls2siem/internal/slsapi"
	"sls2siem/internal/transport"
	"sls2siem/internal/trigger"
	"sls2siem/internal/trust"
)

// Invocation is one call of the function.
type Invocation struct {
	RequestID   string
	Event       []byte
	Credentials secret.Credentials
}

// Summary is the function's answer, and the fields of its log line.
type Summary struct {
	RequestID   string `json:"requestId,omitempty"`
	Project     string `json:"project"`
	Logstore    string `json:"logstore"`
	Shard       int    `json:"shard"`
	BeginCursor string `json:"beginCursor"`
	EndCursor   string `json:"endCursor"`
	delivery.Counters
	// Unconfirmed counts the logs written but not confirmed when the
	// invocation failed (0 on success).
	Unconfirmed int64 `json:"unconfirmed"`
	// SendFailure is the kind of the receiver-side failure that failed the
	// range (transport.Kind: connect, refused, tls, write, confirm, ack,
	// timeout); empty on success or when the failure was not sending.
	SendFailure string `json:"sendFailure,omitempty"`
	// Receivers says, with several receivers, which took how many of the
	// range's logs, how many times the range switched receivers and how
	// many messages were written again after a switch; absent with one.
	Receivers *receivers.Usage `json:"receivers,omitempty"`
	// DeadLettered reports that the failed range was recorded in the
	// dead-letter logstore (SHIP_DEADLETTER_LOGSTORE) for redrive.
	DeadLettered bool `json:"deadLettered"`
	// LagSeconds is how far the range's data is behind: now minus the
	// event's cursorTime (the receive time of its last log), when given.
	LagSeconds int64 `json:"lagSeconds"`
	DurationMS int64 `json:"durationMs"`
}

// LogOutcome writes a run's last log line: msgOK at info level, or
// msgErr at error level with the error.
func LogOutcome(ctx context.Context, log *slog.Logger, msgOK, msgErr string, attrs []slog.Attr, err error) {
	ctx = context.WithoutCancel(ctx)
	if err != nil {
		attrs = append(attrs, slog.String("outcome", "error"), slog.String("error", err.Error()))
		log.LogAttrs(ctx, slog.LevelError, msgErr, attrs...)
		return
	}
	attrs = append(attrs, slog.String("outcome", "success"))
	log.LogAttrs(ctx, slog.LevelInfo, msgOK, attrs...)
}

// Shipper holds what lives as long as the function instance: the
// configuration, the SLS HTTP transport, the memory budget of pulled
// batches and the syslog receivers (their connection pools and health).
// It is safe for concurrent invocations.
type Shipper struct {
	cfg    config.Config
	log    *slog.Logger
	sls    *slsapi.Transport
	budget *logstore.Budget
	set    *receivers.Set
	// dl writes the dead-letter records (nil without
	// SHIP_DEADLETTER_LOGSTORE).
	dl *deadletter.Writer
}

// Option adjusts the syslog transport of a Shipper (of each receiver).
type Option func(*transport.Config)

// WithDial makes the Shipper open its syslog connections with dial (see
// transport.Config.Dial): the delivery simulator's simulated network.
func WithDial(dial func(ctx context.Context, network, address string) (net.Conn, error)) Option {
	return func(c *transport.Config) { c.Dial = dial }
}

// New returns a Shipper for cfg.
func New(cfg config.Config, log *slog.Logger, opts ...Option) *Shipper {
	var dl *deadletter.Writer
	if cfg.DeadLetterLogstore != "" {
		dl = deadletter.NewWriter(cfg.DeadLetterLogstore, cfg.DeadLetterKeys)
	}
	cfgs := append([]transport.Config(nil), cfg.Syslog.Receivers...)
	if len(cfgs) == 0 {
		cfgs = []transport.Config{cfg.Syslog.Transport}
	}
	for i := range cfgs {
		for _, o := range opts {
			o(&cfgs[i])
		}
	}
	return &Shipper{
		dl:     dl,
		cfg:    cfg,
		log:    log,
		sls:    slsapi.NewTransport(cfg.Endpoints).WithSigning(cfg.Signing),
		budget: logstore.NewBudget(cfg.BatchMemory),
		set: receivers.New(cfgs, receivers.Options{Policy: cfg.Syslog.Balance, FailbackProbes: cfg.Syslog.FailbackProbes,
			ProbeInterval: cfg.Syslog.ProbeInterval, MaxRetries: cfg.Syslog.MaxRetries, Log: log}),
	}
}

// Receivers are the instance's syslog receivers and their health.
func (s *Shipper) Receivers() *receivers.Set { return s.set }

// SLSTransport is the instance's SLS HTTP transport, for the consumer
// library's requests.
func (s *Shipper) SLSTransport() *slsapi.Transport { return s.sls }

func (s *Shipper) newEncoder() *format.Encoder { return format.NewEncoder(s.cfg.Format) }

// Close closes the pooled syslog connections and stops the health probes
// (FC's pre-stop).
func (s *Shipper) Close() error { return s.set.Close() }

// Ship ships the range named by inv.Event. It stops DeadlineMargin before
// ctx's deadline. The Summary counts what was delivered even on error.
// With SHIP_DEADLETTER_LOGSTORE set, a failed range is recorded there
// (see deadLetter) and the summary says deadLettered.
func (s *Shipper) Ship(ctx context.Context, inv Invocation) (sum Summary, err error) {
	start := time.Now()
	sum.RequestID = inv.RequestID
	defer func() {
		sum.DurationMS = time.Since(start).Milliseconds()
		attrs := append([]slog.Attr{
			slog.String("requestId", sum.RequestID),
			slog.String("project", sum.Project),
			slog.String("logstore", sum.Logstore),
			slog.Int("shard", sum.Shard),
			slog.String("beginCursor", sum.BeginCursor),
			slog.String("endCursor", sum.EndCursor),
		}, sum.Counters.Attrs()...)
		if sum.SendFailure != "" {
			attrs = append(attrs, slog.String("sendFailure", sum.SendFailure))
		}
		if sum.Receivers != nil {
			attrs = append(attrs, slog.Any("receivers", sum.Receivers))
		}
		attrs = append(attrs, slog.Int64("unconfirmed", sum.Unconfirmed), slog.Int64("lagSeconds", sum.LagSeconds),
			slog.Bool("deadLettered", sum.DeadLettered), slog.Int64("durationMs", sum.DurationMS))
		LogOutcome(ctx, s.log, "invocation shipped", "invocation failed", attrs, err)
	}()
	ev, err := trigger.Parse(inv.Event, s.cfg.Endpoints)
	if err != nil {
		return sum, err
	}
	src := ev.Source
	if ev.CursorTime > 0 {
		sum.LagSeconds = max(time.Now().Unix()-ev.CursorTime, 0)
	}
	// The range is checked against its shard before anything is shipped:
	// one that cannot exist fails at once (and is recorded invalid).
	sum.Project, sum.Logstore, sum.Shard, sum.BeginCursor, sum.EndCursor = src.ProjectName, src.LogstoreName, src.ShardID, src.BeginCursor, src.EndCursor
	client, err := slsapi.New(src.Endpoint, inv.Credentials, s.sls)
	if err == nil {
		err = client.CheckRange(ctx, src.ProjectName, src.LogstoreName, src.ShardID, src.BeginCursor, src.EndCursor)
	}
	if err == nil {
		err = s.run(ctx, src, inv.Credentials, &sum)
	}
	if s.dl != nil {
		err = s.deadLetter(ctx, ev, inv, &sum, err)
	}
	return sum, err
}

// ShipRange ships the range src (an SLS trigger event's source, e.g. read
// back from a dead-letter record or computed by a backfill) with the same
// pipeline, transport rules and deadline margin as Ship. Its endpoint,
// project and logstore are checked again with internal/trust. It writes no
// dead-letter record and no log line: the caller reports the outcome.
func (s *Shipper) ShipRange(ctx context.Context, src trigger.Source, creds secret.Credentials) (sum Summary, err error) {
	start := time.Now()
	defer func() { sum.DurationMS = time.Since(start).Milliseconds() }()
	sum.Project, sum.Logstore, sum.Shard = src.ProjectName, src.LogstoreName, src.ShardID
	sum.BeginCursor, sum.EndCursor = src.BeginCursor, src.EndCursor
	if err := trust.Project(src.ProjectName); err != nil {
		return sum, fmt.Errorf("ship range: project %w", err)
	}
	if err := trust.Logstore(src.LogstoreName); err != nil {
		return sum, fmt.Errorf("ship range: logstore %w", err)
	}
	ep, err := s.cfg.Endpoints.Admit(src.Endpoint)
	if err != nil {
		return sum, fmt.Errorf("ship range: endpoint %w", err)
	}
	src.Endpoint = ep.URL
	return sum, s.run(ctx, src, creds, &sum)
}

// run ships src within ctx's deadline less DeadlineMargin.
func (s *Shipper) run(ctx context.Context, src trigger.Source, creds secret.Credentials, sum *Summary) error {
	sum.Project, sum.Logstore, sum.Shard = src.ProjectName, src.LogstoreName, src.ShardID
	sum.BeginCursor, sum.EndCursor = src.BeginCursor, src.EndCursor
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left <= s.cfg.DeadlineMargin {
			return fmt.Errorf("the invocation has %s left, no more than %s=%s: nothing can be shipped before the deadline; lower %s or raise the function's timeout",
				left.Round(time.Millisecond), config.VarDeadlineMargin, s.cfg.DeadlineMargin, config.VarDeadlineMargin)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-s.cfg.DeadlineMargin))
		defer cancel()
	}
	err := s.shipRange(ctx, src, creds, sum)
	if err != nil {
		sum.SendFailure = string(transport.KindOf(err))
		err = fmt.Errorf("ship project %s logstore %s shard %d [%s, %s): %w; %d logs were confirmed delivered and %d more written unconfirmed before the failure: the whole range must be retried",
			src.ProjectName, src.LogstoreName, src.ShardID, src.BeginCursor, src.EndCursor, err, sum.Logs, sum.Unconfirmed)
	}
	return err
}

// deadLetter records the outcome of a trigger invocation in the
// dead-letter logstore: a failed record for a failure, a resolved record
// for a success of a range this instance dead-lettered before (see
// deadletter.Writer). The write is bounded by the invocation's deadline:
// it may use the first three quarters of SHIP_DEADLINE_MARGIN (shipping
// stopped at the margin), leaving the rest to answer. It never hides the
// original error: a failed write is joined to it. A failed resolved write
// is only logged: the range was delivered, and redrive at worst ships it
// again.
func (s *Shipper) deadLetter(ctx context.Context, ev trigger.Event, inv Invocation, sum *Summary, shipErr error) (err error) {
	err = shipErr
	defer func() {
		if p := recover(); p != nil {
			err = errors.Join(shipErr, fmt.Errorf("writing the dead-letter record to logstore %s panicked: %v", s.dl.Logstore, p))
		}
	}()
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deadLetterTimeout)
	if dl, ok := ctx.Deadline(); ok {
		wctx, cancel = context.WithDeadline(context.WithoutCancel(ctx), dl.Add(-s.cfg.DeadlineMargin/4))
	}
	defer cancel()
	src := ev.Source
	rec := deadletter.Record{
		Endpoint: src.Endpoint, Project: src.ProjectName, Logstore: src.LogstoreName, Shard: src.ShardID,
		BeginCursor: src.BeginCursor, EndCursor: src.EndCursor, CursorTime: ev.CursorTime, RequestID: inv.RequestID,
		LogsWritten: sum.Logs + sum.Unconfirmed, LogsConfirmed: sum.Logs,
	}
	client, cerr := slsapi.New(src.Endpoint, inv.Credentials, s.sls)
	if shipErr == nil {
		if _, werr := resolved(wctx, s.dl, client, cerr, rec); werr != nil {
			s.log.Warn("the range was shipped but its resolved dead-letter record could not be written: redrive may ship it again",
				"logstore", s.dl.Logstore, "error", werr.Error())
		}
		return nil
	}
	rec.Error = deadletter.Scrub(shipErr.Error(), inv.Credentials)
	if invalid := (*slsapi.InvalidRangeError)(nil); errors.As(shipErr, &invalid) {
		// Not shippable, now or later: recorded once, for the audit trail.
		werr := cerr
		if werr == nil {
			_, werr = s.dl.Invalid(wctx, client, rec)
		}
		if werr != nil {
			return fmt.Errorf("%w; and its invalid record could not be written to %s=%s: %v", shipErr, config.VarShipDeadLetterLogstore, s.dl.Logstore, werr)
		}
		return fmt.Errorf("%w; recorded as invalid in logstore %s (never shipped)", shipErr, s.dl.Logstore)
	}
	werr := cerr
	if werr == nil {
		werr = s.dl.Failed(wctx, client, rec)
	}
	if werr != nil {
		return fmt.Errorf("%w; and the range could not be dead-lettered to %s=%s either, so nothing records it for redrive: %v",
			shipErr, config.VarShipDeadLetterLogstore, s.dl.Logstore, werr)
	}
	sum.DeadLettered = true
	return fmt.Errorf("%w; the range was dead-lettered to logstore %s for sls2siem redrive", shipErr, s.dl.Logstore)
}

// resolved writes the resolved record of rec with client (or fails with
// cerr, why there is no client).
func resolved(ctx context.Context, w *deadletter.Writer, client *slsapi.Client, cerr error, rec deadletter.Record) (bool, error) {
	if cerr != nil {
		return false, cerr
	}
	return w.Resolved(ctx, client, rec)
}

// deadLetterTimeout bounds a dead-letter write without a deadline.
const deadLetterTimeout = 10 * time.Second

// shipRange reads the range from SLS and delivers it (Deliver).
func (s *Shipper) shipRange(ctx context.Context, src trigger.Source, creds secret.Credentials, sum *Summary) error {
	reader := logstore.NewReader(logstore.Range{
		Endpoint: src.Endpoint, Project: src.ProjectName, Logstore: src.LogstoreName,
		Shard: src.ShardID, Begin: src.BeginCursor, End: src.EndCursor,
	}, creds, logstore.Options{Transport: s.sls, PullCount: s.cfg.PullCount, Budget: s.budget})
	defer reader.Close()
	sess := s.NewSession()
	sess.SetOrigin(src.ProjectName, src.LogstoreName, src.ShardID)
	var err error
	sum.Counters, sum.Unconfirmed, err = s.Deliver(ctx, reader, sess, src.EndCursor)
	sum.Receivers = sess.route.Usage()
	return err
}

// Source is where the batches of a range come from: the SLS logstore
// reader, or the delivery simulator's generator (internal/delivery/sim).
type Source interface {
	// Next returns the next batch, or logstore.ErrDone after the last.
	Next(ctx context.Context) (*logstore.Batch, error)
	// Seek makes Next continue at cursor (a batch's Cursor, or the end).
	Seek(cursor string)
}

// Deliver writes every batch of src through sess and answers nil only
// when the receiver confirmed every log. The ledger keeps what the current
// connection carried that the receiver has not confirmed; after every
// batch the connection reports how far the receiver has confirmed (RELP
// acknowledgements, or the bytes its TCP stack acknowledged), and when the
// connection fails only the unconfirmed rest is read again and resent on
// a new one (for RELP from the first unacknowledged message), to the next
// receiver when there are several (see internal/receivers): at once when
// that one is up, after the backoff otherwise. Retries are bounded by
// SYSLOG_MAX_RETRIES failures in a row without a confirmed log, counted
// across the receivers (at least one failure per receiver), and the
// switches between receivers by receivers × max(SYSLOG_MAX_RETRIES, 1).
// end is the cursor after the range's last batch. It returns what was
// delivered, even on error, and how many logs were written unconfirmed
// when it failed. The session is released to the pool on success and
// reset otherwise; its route holds what each receiver took.
func (s *Shipper) Deliver(ctx context.Context, src Source, sess *Session, end string) (delivery.Counters, int64, error) {
	defer sess.Reset() // success releases the connection first
	route := sess.route
	led := ledger.New(max(s.cfg.Syslog.MaxRetries, s.set.Len()-1))
	defer func() {
		c := led.Counters()
		route.Settle(c.Logs, c.Resent)
	}()
	// confirm records what the receiver has confirmed so far, and what
	// reached the socket; it reports whether that is progress.
	confirm := func() bool {
		led.Flushed(sess.Flushed())
		if pos, ok, messages := sess.Acked(); ok {
			if messages {
				return led.ConfirmMessages(pos)
			}
			return led.Confirm(pos)
		}
		return false
	}
	var skipAt string // the resume batch, and how many of its messages to skip
	var skip int64
	pf := startPrefetch(ctx, src)
	defer func() { pf.stop() }()
	// retry resets the connection after cause and resumes the range at the
	// first unconfirmed message (or at cursor, when everything written is
	// confirmed), on the next receiver when there are several.
	retry := func(cause error, cursor string) error {
		if confirm() { // RELP acknowledgements stay true after the failure
			route.Forgive()
		}
		c := led.Counters()
		route.Settle(c.Logs, c.Resent)
		from := route.Current().Name()
		healthy := sess.Fail(ctx, cause)
		unconfirmed := led.Unconfirmed()
		resume, n, err := led.Fail(cursor)
		if err != nil {
			return fmt.Errorf("%w (%s: %v)", cause, s.retryBudget(), err)
		}
		if plantSwitchSkipsUnconfirmed && route.Current().Name() != from {
			resume, n = cursor, 0
		}
		if route.TooManySwitches() {
			return fmt.Errorf("%w (the range switched receivers %d times; one more would exceed %d receivers × max(%s, 1) = %d: %w)",
				cause, route.Switches(), s.set.Len(), config.VarSyslogMaxRetries, s.set.MaxSwitches(), receivers.ErrTooManySwitches)
		}
		backoff := s.cfg.Syslog.Backoff(led.Failures())
		if healthy {
			backoff = 0
		}
		attrs := []any{"error", cause.Error(), "retry", led.Failures(), "resend", unconfirmed, "backoff", backoff.String()}
		if s.set.Len() > 1 {
			attrs = append(attrs, "receiver", from, "next", route.Current().Name())
		}
		s.log.Warn("syslog send failed: reconnecting and resending what the receiver has not confirmed", attrs...)
		pf.stop()
		if err := sleep(ctx, backoff); err != nil {
			return cause
		}
		skipAt, skip = resume, n
		src.Seek(resume)
		pf = startPrefetch(ctx, src)
		return nil
	}
	for {
		batch, err := pf.next(ctx)
		if errors.Is(err, logstore.ErrDone) {
			if err := sess.Confirm(ctx); err != nil {
				if rerr := retry(err, end); rerr != nil {
					return led.Counters(), led.Unconfirmed(), s.deadlineHint(ctx, rerr)
				}
				continue
			}
			led.Flushed(sess.Flushed())
			if led.ConfirmAll() {
				route.Progress()
			}
			break
		}
		if err != nil {
			return led.Counters(), led.Unconfirmed(), s.deadlineHint(ctx, err)
		}
		if len(batch.Groups) == 0 {
			batch.Release()
			continue
		}
		cursor, next := batch.Cursor, batch.NextCursor
		if next == "" {
			next = cursor
		}
		var n int64
		if cursor == skipAt {
			n, skipAt = skip, ""
		}
		before := sess.Position() // what the old account read: 0 before the (pooled) connection is taken
		w, err := sess.WriteBatch(ctx, batch, n)
		batch.Release()
		if plantStartBeforeConnect {
			w.Start = before
		}
		// Recorded even when the write failed part-way: what the receiver
		// acknowledged of it counts, and a resend resumes after that.
		led.Sent(ledger.Entry{Cursor: cursor, Skip: n, Logs: w.Logs, Groups: w.LogGroups, Bytes: w.Bytes,
			Truncated: w.Truncated, Dropped: w.Dropped, Start: w.Start, End: w.End, Whole: w.Whole})
		if err != nil {
			// The batch is pending unless the receiver confirmed all of it
			// before the failure showed: then the resend starts after it.
			if rerr := retry(err, next); rerr != nil {
				return led.Counters(), led.Unconfirmed(), s.deadlineHint(ctx, rerr)
			}
			continue
		}
		if confirm() {
			route.Progress()
		}
		if plantReceiverPerBatch && s.set.Len() > 1 {
			sess.Release()
			sess.route = s.set.NewRoute()
		}
	}
	sess.Release()
	return led.Counters(), 0, nil
}

// retryBudget says the retry budget, for an error.
func (s *Shipper) retryBudget() string {
	if s.set.Len() == 1 {
		return fmt.Sprintf("%s=%d", config.VarSyslogMaxRetries, s.cfg.Syslog.MaxRetries)
	}
	return fmt.Sprintf("%s=%d, counted across %d receivers, at least one failure each", config.VarSyslogMaxRetries, s.cfg.Syslog.MaxRetries, s.set.Len())
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
	if errors.Is(ctx.Err(), context.Canceled) {
		return err // stopped, not by the deadline
	}
	if ctx.Err() != nil || ok && !time.Now().Before(dl) {
		return fmt.Errorf("%w (stopped %s before the invocation's deadline, %s)", err, s.cfg.DeadlineMargin, config.VarDeadlineMargin)
	}
	return err
}
