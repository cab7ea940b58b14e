package ship

import (
	"context"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"

	"sls2siem/internal/format"
	"sls2siem/internal/logstore"
	"sls2siem/internal/transport"
)

// Session writes log groups to the receiver over one pooled connection,
// so that the logs of one shard keep their order. It is what both drivers
// (the trigger handler and the consumer group) send through. A Session is
// used by one goroutine.
type Session struct {
	s    *Shipper
	enc  *format.Encoder
	conn *transport.Conn
	buf  []byte
}

// Counts are what one Write sent.
type Counts struct {
	Logs      int64
	Bytes     int64
	Truncated int64
	Dropped   int64 // longer than SYSLOG_MAX_MESSAGE_SIZE with SYSLOG_OVERSIZE=drop: not sent
}

// NewSession starts a session; it connects on its first Write.
func (s *Shipper) NewSession() *Session {
	return &Session{s: s, enc: s.newEncoder(), buf: make([]byte, 0, 4096)}
}

// SetOrigin names where the session's logs come from, for the origin
// structured-data element (SYSLOG_ORIGIN_SD). Call it before Write.
func (ss *Session) SetOrigin(project, logstore string, shard int) {
	ss.enc.SetOrigin(project, logstore, shard)
}

// Write formats every log of groups, writes it and flushes. Writes are
// bounded by ctx's deadline. On error the caller must Reset the session:
// what was written on this connection may be lost. The origin element
// (SYSLOG_ORIGIN_SD) takes each group's cursor from LogGroup.GetCursor;
// use WriteBatch for batches whose groups do not carry it.
func (ss *Session) Write(ctx context.Context, groups []*sls.LogGroup) (Counts, error) {
	return ss.write(ctx, groups, nil, 0)
}

// WriteBatch is Write for a batch of the logstore reader: the origin
// element numbers its groups from the batch's cursor. The first skip
// messages the batch would send are not sent (nor counted): the receiver
// confirmed them on an earlier connection.
func (ss *Session) WriteBatch(ctx context.Context, b *logstore.Batch, skip int64) (Counts, error) {
	return ss.write(ctx, b.Groups, b, skip)
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

func (ss *Session) write(ctx context.Context, groups []*sls.LogGroup, b *logstore.Batch, skip int64) (Counts, error) {
	var c Counts
	if ss.conn == nil {
		conn, err := ss.s.pool.Get(ctx)
		if err != nil {
			return c, err
		}
		ss.conn = conn
	}
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
			if res != format.Dropped && skip > 0 {
				skip--
				continue
			}
			switch res {
			case format.Dropped:
				if skip == 0 {
					c.Dropped++
				}
				continue
			case format.Truncated:
				c.Truncated++
			}
			if err := ss.conn.Write(ss.buf); err != nil {
				return c, err
			}
			c.Logs++
			c.Bytes += int64(len(ss.buf))
		}
	}
	return c, ss.conn.Flush()
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
		ss.s.pool.Put(ss.conn)
		ss.conn = nil
	}
}
