package consume

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	consumer "github.com/aliyun/aliyun-log-go-sdk/consumer"

	"sls2siem/internal/delivery"
	"sls2siem/internal/receivers"
	"sls2siem/internal/ship"
)

// maxBackoff bounds the pause before a failed batch is sent again (and so
// how long a shard with a failing receiver takes to be released).
const maxBackoff = 10 * time.Second

// processor is the consumer library's Processor: it delivers each batch
// through a ship.Session and saves the checkpoint only once the batch is
// confirmed. The library calls Process and Shutdown of one shard from that
// shard's goroutine; shards run concurrently.
type processor struct {
	project   string
	logstore  string
	shipper   *ship.Shipper
	log       *slog.Logger
	writeCtx  context.Context // bounds socket writes (the FC deadline)
	stopping  <-chan struct{} // closed when the consumer starts stopping
	backoff   time.Duration   // first pause after a failure; it doubles
	flushEach bool            // save each checkpoint at once instead of at the interval
	obs       Observer

	mu     sync.Mutex
	shards map[int]*shardState
	sum    Summary
	// byReceiver counts the logs each receiver confirmed, with several.
	byReceiver map[string]int64
	// undelivered holds, per shard, the cursor of a batch that was not
	// delivered once the consumer started stopping (failed, or not
	// attempted); a later delivery of the shard clears it.
	undelivered map[int]string
}

// shardState is what the processor keeps for one held shard.
type shardState struct {
	sess     *ship.Session
	failures int // consecutive failed deliveries
	// written is how many messages of the batch being retried reached the
	// socket in its failed attempts (they are written again: resent).
	written int64
	// Where the shard stands (guarded by processor.mu): the cursor of the
	// first log group not yet delivered, and whether a pull found nothing
	// there.
	cursor   string
	caughtUp bool
	// receiver is the receiver of the shard's last delivery attempt.
	receiver string
}

// setPosition records where the shard stands.
func (p *processor) setPosition(st *shardState, cursor string, caughtUp bool) {
	p.mu.Lock()
	st.cursor, st.caughtUp = cursor, caughtUp
	p.mu.Unlock()
}

func (p *processor) state(shard int) *shardState {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.shards[shard]
	if st == nil {
		st = &shardState{sess: p.shipper.NewSession()}
		st.sess.SetOrigin(p.project, p.logstore, shard)
		p.shards[shard] = st
		p.sum.addShard(shard)
	}
	return st
}

// Process delivers the batch and then saves its checkpoint. On failure it
// saves nothing, waits and returns the error: the library calls it again
// with the same batch.
func (p *processor) Process(shard int, gl *sls.LogGroupList, tr consumer.CheckPointTracker) (string, error) {
	st := p.state(shard)
	groups := gl.LogGroups
	if countLogs(groups) == 0 {
		// Nothing to deliver before the next cursor; a pull that did not
		// move found the shard's end.
		caughtUp := tr.GetCurrentCursor() == tr.GetNextCursor()
		p.setPosition(st, tr.GetNextCursor(), caughtUp)
		if caughtUp {
			p.obs.Lag(shard, Lag{CaughtUp: true})
		}
		p.saveCheckpoint(shard, tr)
		return "", nil
	}
	p.setPosition(st, tr.GetCurrentCursor(), false)
	if p.isStopping() && st.failures > 0 {
		// Once stopping, a batch whose delivery failed is not tried
		// again: it stays the shard's next one, after the saved
		// checkpoint. Refusing it here, at once, keeps the library from
		// redelivering it every 50 ms until it stops the shard. (A
		// healthy shard delivers what the library hands it until then.)
		p.leftUndelivered(shard, tr.GetCurrentCursor())
		return "", &processError{fmt.Errorf("shard %d batch at cursor %s not delivered: the consumer is stopping", shard, tr.GetCurrentCursor())}
	}
	// Between batches nothing is unconfirmed: a failover session returns
	// to an earlier receiver that is healthy again, any leaves one found
	// down.
	st.sess.Rebalance()
	recv := st.sess.Receiver()
	if st.receiver != "" && st.receiver != recv {
		p.obs.ReceiverSwitched(shard, st.receiver, recv)
		if p.several() {
			p.log.Info("shard switched syslog receivers", "shard", shard, "from", st.receiver, "to", recv)
		}
	}
	st.receiver = recv
	p.obs.BatchStarted(shard, st.failures > 0)
	start := time.Now()
	c, err := st.sess.Write(p.writeCtx, groups)
	if err == nil {
		err = st.sess.Confirm(p.writeCtx)
	}
	// The batch's messages that reach the socket again.
	flushed := st.sess.Flushed()
	c.Resent = min(flushed, st.written)
	st.written = max(st.written, flushed)
	if st.failures > 0 {
		c.BatchesRetried = 1
	}
	if err != nil {
		return "", p.failed(shard, st, tr.GetCurrentCursor(), countLogs(groups), c, err)
	}
	took := time.Since(start)
	st.failures, st.written = 0, 0
	st.sess.Delivered()
	st.sess.Release()
	p.mu.Lock()
	delete(p.undelivered, shard)
	p.sum.Add(c)
	if p.byReceiver != nil {
		p.byReceiver[recv] += c.Logs
	}
	p.mu.Unlock()
	p.obs.BatchDelivered(shard, Delivery{Counters: c, Receiver: recv, Duration: took})
	p.setPosition(st, tr.GetNextCursor(), false)
	p.saveCheckpoint(shard, tr)
	return "", nil
}

// failed handles a failed delivery of the batch at cursor: the connection
// is reset, nothing is saved, and the consumer waits its backoff (less when
// it starts stopping, and then the batch stays undelivered).
func (p *processor) failed(shard int, st *shardState, cursor string, logs int, c delivery.Counters, err error) error {
	recv := st.receiver
	healthy := st.sess.Fail(p.writeCtx, err)
	st.failures++
	backoff := min(p.backoff<<min(st.failures-1, 16), maxBackoff)
	if healthy {
		backoff = 0 // the next receiver is up: nothing to wait for
	}
	p.mu.Lock()
	p.sum.Reconnects++
	p.sum.Resent += c.Resent
	p.sum.BatchesRetried += c.BatchesRetried
	p.mu.Unlock()
	kind := FailureKind(err)
	p.obs.BatchFailed(shard, Failure{Kind: kind, Receiver: recv, Written: delivery.Counters{Logs: c.Logs, Resent: c.Resent}, Err: err})
	attrs := []any{"shard", shard, "cursor", cursor, "logs", logs, "written", c.Logs,
		"retry", st.failures, "backoff", backoff.String(), "kind", kind, "error", err.Error()}
	if p.several() {
		attrs = append(attrs, "receiver", recv, "next", st.sess.Receiver())
	}
	p.log.Warn("syslog delivery failed: checkpoint not saved, the batch will be sent again", attrs...)
	if !p.pause(backoff) {
		p.leftUndelivered(shard, cursor)
	}
	return &processError{fmt.Errorf("deliver shard %d batch at cursor %s: %w", shard, cursor, err)}
}

// processError is Process's error: the processor logged it already (the
// library's own line about it is demoted, see sdkLogger).
type processError struct{ err error }

func (e *processError) Error() string { return e.err.Error() }
func (e *processError) Unwrap() error { return e.err }

// isStopping reports whether the consumer started stopping.
func (p *processor) isStopping() bool {
	select {
	case <-p.stopping:
		return true
	default:
		return false
	}
}

// leftUndelivered records that the shard's batch at cursor is left
// undelivered by the stop.
func (p *processor) leftUndelivered(shard int, cursor string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.undelivered == nil {
		p.undelivered = map[int]string{}
	}
	p.undelivered[shard] = cursor
}

// saveCheckpoint marks the cursor after the delivered batch as the shard's
// checkpoint: saved at once, or by the library at the checkpoint interval
// and when the shard is released.
func (p *processor) saveCheckpoint(shard int, tr consumer.CheckPointTracker) {
	if err := tr.SaveCheckPoint(p.flushEach); err != nil {
		// The cursor stays pending: the next save, or the one at release,
		// carries it.
		p.log.Warn("saving the checkpoint failed; it will be saved later", "shard", shard,
			"checkpoint", tr.GetNextCursor(), "error", err.Error())
	}
}

// Shutdown runs when the shard is released (rebalancing or stop), before
// the library saves its last checkpoint.
func (p *processor) Shutdown(tr consumer.CheckPointTracker) error {
	p.mu.Lock()
	st := p.shards[tr.GetShardId()]
	delete(p.shards, tr.GetShardId())
	p.mu.Unlock()
	if st != nil {
		st.sess.Reset() // a healthy connection went back to the pool already
	}
	p.obs.ShardReleased(tr.GetShardId())
	p.log.Info("shard released: saving its last checkpoint", "shard", tr.GetShardId())
	return nil
}

// pause waits d, or less when the consumer starts stopping; it reports
// whether it waited all of d.
func (p *processor) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.stopping:
		return false
	}
}

func (p *processor) summary() Summary {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.sum
	s.Shards = append([]int(nil), p.sum.Shards...)
	s.Undelivered = len(p.undelivered)
	if p.byReceiver != nil {
		for _, r := range p.shipper.Receivers().Receivers() {
			s.Receivers = append(s.Receivers, receivers.Share{Receiver: r.Name(), Logs: p.byReceiver[r.Name()]})
		}
	}
	return s
}

// several reports whether the logs go to several receivers.
func (p *processor) several() bool { return p.shipper.Receivers().Len() > 1 }

func countLogs(groups []*sls.LogGroup) int {
	n := 0
	for _, g := range groups {
		n += len(g.Logs)
	}
	return n
}
