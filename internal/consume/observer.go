package consume

import (
	"strings"
	"time"

	"sls2siem/internal/ship"
)

// Observer is told what the consumer does, for the daemon's metrics and
// health (internal/metrics implements it). The consumer calls it from its
// goroutines, concurrently for different shards: its methods must be safe
// for concurrent use and return at once.
type Observer interface {
	// Heartbeat reports a heartbeat's outcome: the shards the group
	// assigned to this consumer, or why it failed.
	Heartbeat(held []int, err error)
	// BatchStarted is called before a batch holding logs is written;
	// retry tells that its previous delivery failed.
	BatchStarted(shard int, retry bool)
	// BatchDelivered and BatchFailed end what BatchStarted began.
	BatchDelivered(shard int, d Delivery)
	BatchFailed(shard int, f Failure)
	// Lag reports where the shard stands: caught up when a pull found
	// nothing after the delivered logs, else as measured in SLS.
	Lag(shard int, l Lag)
	// CheckpointSaved reports a checkpoint the group accepted.
	CheckpointSaved(shard int)
	// ShardReleased is called when the consumer lets a shard go.
	ShardReleased(shard int)
	// Stopping is called once, when the consumer starts its clean stop.
	Stopping()
}

// Delivery is a delivered batch: what was sent (confirmed, each log once)
// and how long writing and confirming it took.
type Delivery struct {
	LogGroups int64
	ship.Counts
	Duration time.Duration
}

// Failure is a failed delivery: its kind, and what was written before it
// (those logs are sent again).
type Failure struct {
	Kind    string
	Written ship.Counts
	Err     error
}

// Lag is how far a shard is behind.
type Lag struct {
	// CaughtUp: nothing waits after the delivered logs.
	CaughtUp bool
	// OldestWaiting is the receive time of the first log group not yet
	// delivered (when not CaughtUp).
	OldestWaiting time.Time
	// LogGroups is how many log groups wait, when LogGroupsKnown (the
	// cursor distance to the shard's end).
	LogGroups      int64
	LogGroupsKnown bool
}

// Kinds of delivery failure.
const (
	FailConnect = "connect" // could not connect (or handshake) to the receiver
	FailWrite   = "write"   // a write or flush to the socket failed
	FailConfirm = "confirm" // the receiver did not confirm the bytes (closed, reset, stalled)
	FailAck     = "ack"     // the RELP receiver refused or did not acknowledge a message
	FailOther   = "other"
)

// FailureKinds lists every kind, in the order above.
var FailureKinds = []string{FailConnect, FailWrite, FailConfirm, FailAck, FailOther}

// FailureKind classifies an error of ship.Session.Write or Confirm by the
// operation its text names (internal/transport and internal/relp wrap every
// error with it).
func FailureKind(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	switch {
	case strings.Contains(s, "connect to syslog receiver"):
		return FailConnect
	case strings.Contains(s, "RELP"):
		return FailAck
	case strings.Contains(s, "confirm delivery"):
		return FailConfirm
	case strings.Contains(s, "send to syslog receiver"), strings.Contains(s, "flush to syslog receiver"):
		return FailWrite
	}
	return FailOther
}

// nopObserver is the Observer of a consumer nobody watches.
type nopObserver struct{}

func (nopObserver) Heartbeat([]int, error)       {}
func (nopObserver) BatchStarted(int, bool)       {}
func (nopObserver) BatchDelivered(int, Delivery) {}
func (nopObserver) BatchFailed(int, Failure)     {}
func (nopObserver) Lag(int, Lag)                 {}
func (nopObserver) CheckpointSaved(int)          {}
func (nopObserver) ShardReleased(int)            {}
func (nopObserver) Stopping()                    {}
