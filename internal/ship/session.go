package ship

import (
	"context"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"

	"sls2siem/internal/delivery"
	"sls2siem/internal/format"
	"sls2siem/internal/logstore"
	"sls2siem/internal/receivers"
	"sls2siem/internal/transport"
)

// Session writes log groups to a receiver over one pooled connection,
// so that the logs of one shard keep their order. It is what both drivers
// (the trigger handler and the consumer group) send through. Its route
// says which receiver it sends to (internal/receivers): it stays there
// until a delivery fails (Fail) or, between batches, Rebalance moves it.
// A Session is used by one goroutine.
type Session struct {
	s     *Shipper
	enc   *format.Encoder
	route *receivers.Route
	recv  *receivers.Receiver // conn's receiver
	conn  *transport.Conn
	buf   []byte
	// flushedBase is the connection's MessagesFlushed when the session
	// took it (a pooled connection has carried other messages).
	flushedBase uint64
}

// Written is what one write of a batch did. Its counters describe the
// batch (see delivery.Counters): Logs the messages handed to the
// connection (the skipped ones excluded); LogGroups, Bytes, Truncated and
// Dropped the whole batch, skipped messages included, set once every
// message was handed (Whole). Start and End are the connection's
// positions before and after (see transport.Conn.Position).
type Written struct {
	delivery.Counters
	Start, End uint64
	Whole      bool
}

// NewSession starts a session; it connects on its first Write.
func (s *Shipper) NewSession() *Session {
	return &Session{s: s, enc: s.newEncoder(), route: s.set.NewRoute(), buf: make([]byte, 0, 4096)}
}

// Receiver names the receiver the session sends to (chosen now when it
// has none yet).
func (ss *Session) Receiver() string { return ss.route.Current().Name() }

// Route is the session's way through the receivers: what each took, how
// many times it switched.
func (ss *Session) Route() *receivers.Route { return ss.route }

// Fail drops the connection after err, a failed write or confirmation,
// and moves the session to the next receiver (receivers.Route.Failed). It
// reports whether the session switched to another receiver that is up:
// nothing is gained by waiting before the next write. A failure that
// ctx's end caused (the invocation's deadline, a stop) says nothing of
// the receiver: the connection is dropped, nothing else.
func (ss *Session) Fail(ctx context.Context, err error) bool {
	ss.Reset()
	if ctx.Err() != nil {
		return false
	}
	return ss.route.Failed(transport.KindOf(err))
}

// Delivered records that the session's receiver confirmed a batch
// (consumer mode): a receiver that was down is up again.
func (ss *Session) Delivered() { ss.route.Progress() }

// Rebalance is called between batches, with nothing unconfirmed: a
// failover session returns to an earlier receiver that is up again
// (fail-back), and any session leaves a receiver that is down for one
// that is up (see receivers.Route.Rebalance). It reports whether the
// session switched.
func (ss *Session) Rebalance() bool {
	if ss.conn != nil {
		return false
	}
	return ss.route.Rebalance()
}

// SetOrigin names where the session's logs come from, for the origin
// structured-data element (SYSLOG_ORIGIN_SD). Call it before Write.
func (ss *Session) SetOrigin(project, logstore string, shard int) {
	ss.enc.SetOrigin(project, logstore, shard)
}

// Write formats every log of groups, writes it and flushes, and returns
// the batch's counters (Logs: the messages handed to the connection;
// LogGroups, Bytes, Truncated, Dropped: the batch's once every message was
// handed; what reached the socket: Flushed). Writes are bounded by ctx's
// deadline. On error the caller must Reset the session: what was written
// on this connection may be lost. The origin element (SYSLOG_ORIGIN_SD)
// takes each group's cursor from LogGroup.GetCursor; use WriteBatch for
// batches whose groups do not carry it.
func (ss *Session) Write(ctx context.Context, groups []*sls.LogGroup) (delivery.Counters, error) {
	w, err := ss.write(ctx, groups, nil, 0)
	return w.Counters, err
}

// WriteBatch is Write for a batch of the logstore reader: the origin
// element numbers its groups from the batch's cursor. The first skip
// messages the batch would send are not sent (nor counted in Logs): the
// receiver confirmed them on an earlier connection.
func (ss *Session) WriteBatch(ctx context.Context, b *logstore.Batch, skip int64) (Written, error) {
	return ss.write(ctx, b.Groups, b, skip)
}

// Flushed counts the messages written whole to the socket since the
// session took its connection (0 without one).
func (ss *Session) Flushed() int64 {
	if ss.conn == nil {
		return 0
	}
	return int64(ss.conn.MessagesFlushed() - ss.flushedBase)
}

// Position is how far the session's connection has sent (see
// transport.Conn.Position); 0 without a connection.
func (ss *Session) Position() uint64 {
	if ss.conn == nil {
		return 0
	}
	return ss.conn.Position()
}

// Acked is how far the receiver has confirmed, without blocking (see
// transport.Conn.Acked), and whether positions count messages.
func (ss *Session) Acked() (pos uint64, ok, messages bool) {
	if ss.conn == nil {
		return 0, false, false
	}
	pos, ok = ss.conn.Acked()
	return pos, ok, ss.conn.CountsMessages()
}

func (ss *Session) write(ctx context.Context, groups []*sls.LogGroup, b *logstore.Batch, skip int64) (Written, error) {
	var w Written
	if ss.conn == nil {
		r := ss.route.Use()
		conn, err := r.Pool().Get(ctx)
		if err != nil {
			return w, err
		}
		ss.conn, ss.recv, ss.flushedBase = conn, r, conn.MessagesFlushed()
	}
	w.Start = ss.conn.Position()
	err := ss.writeGroups(ctx, groups, b, skip, &w)
	w.End = ss.conn.Position()
	return w, err
}

// writeGroups writes the messages of groups (after the first skip) and
// flushes, counting into w.
func (ss *Session) writeGroups(ctx context.Context, groups []*sls.LogGroup, b *logstore.Batch, skip int64, w *Written) error {
	var bytes, truncated, dropped int64
	dl, _ := ctx.Deadline()
	ss.conn.SetDeadline(dl)
	origin := ss.s.cfg.Format.Origin
	for gi, g := range groups {
		var cursor string
		if origin {
			if cursor = g.GetCursor(); cursor == "" && b != nil {
				cursor = b.GroupCursor(gi)
			}
		}
		grp := ss.enc.NewGroup(g, cursor)
		for i, l := range g.Logs {
			var res format.Result
			ss.buf, res = ss.enc.Append(ss.buf[:0], grp, i, l)
			switch res {
			case format.Dropped:
				dropped++
				continue
			case format.Truncated:
				truncated++
			}
			bytes += int64(len(ss.buf))
			if skip > 0 {
				skip--
				continue
			}
			if err := ss.conn.Write(ss.buf); err != nil {
				return err
			}
			w.Logs++
		}
	}
	w.Whole = true
	w.LogGroups, w.Bytes, w.Truncated, w.Dropped = int64(len(groups)), bytes, truncated, dropped
	return ss.conn.Flush()
}

// Confirm checks that everything written on the session's connection
// reached the receiver's TCP stack and that the connection is still up.
func (ss *Session) Confirm(ctx context.Context) error {
	if ss.conn == nil {
		return nil
	}
	return ss.conn.Confirm(ctx)
}

// Reset drops the connection after a failure; the next Write redials.
func (ss *Session) Reset() {
	if ss.conn != nil {
		ss.conn.Close()
		ss.conn = nil
	}
}

// Release hands a healthy connection back to the pool for later
// invocations. The session can still be used.
func (ss *Session) Release() {
	if ss.conn != nil {
		ss.conn.SetDeadline(time.Time{})
		ss.recv.Pool().Put(ss.conn)
		ss.conn = nil
	}
}
