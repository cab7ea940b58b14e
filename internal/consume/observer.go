package consume

import (
	"time"

	"sls2siem/internal/delivery"
	"sls2siem/internal/transport"
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
	// ReceiverSwitched reports that the shard's batches go to the
	// receiver to from now on instead of from (after a failure on from, or
	// a failover's fail-back), with several receivers.
	ReceiverSwitched(shard int, from, to string)
	// ShardReleased is called when the consumer lets a shard go.
	ShardReleased(shard int)
	// Stopping is called once, when the consumer starts its clean stop.
	Stopping()
}

// Delivery is a delivered batch: what was confirmed (Logs, LogGroups,
// Bytes, Truncated, Dropped), by which receiver (host:port), and how long
// writing and confirming it took.
type Delivery struct {
	delivery.Counters
	Receiver string
	Duration time.Duration
}

// Failure is a failed delivery: its kind, the receiver it failed on, and
// what of the batch reached the socket before it (Written.Resent: those
// messages are written again with the batch).
type Failure struct {
	Kind     string
	Receiver string
	Written  delivery.Counters
	Err      error
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

// Kinds of delivery failure: the transport's (see transport.Kind), and
// other for an error that did not come from it.
const (
	FailConnect = string(transport.KindConnect)
	FailRefused = string(transport.KindRefused)
	FailTLS     = string(transport.KindTLS)
	FailWrite   = string(transport.KindWrite)
	FailConfirm = string(transport.KindConfirm)
	FailAck     = string(transport.KindAck)
	FailTimeout = string(transport.KindTimeout)
	FailOther   = "other"
)

// FailureKinds lists every kind: the transport's, then other.
var FailureKinds = func() []string {
	var kinds []string
	for _, k := range transport.Kinds {
		kinds = append(kinds, string(k))
	}
	return append(kinds, FailOther)
}()

// FailureKind classifies an error of ship.Session.Write or Confirm by the
// *transport.SendError it holds (errors.As), never by its text.
func FailureKind(err error) string {
	if err == nil {
		return ""
	}
	if k := transport.KindOf(err); k != "" {
		return string(k)
	}
	return FailOther
}

// nopObserver is the Observer of a consumer nobody watches.
type nopObserver struct{}

func (nopObserver) Heartbeat([]int, error)               {}
func (nopObserver) BatchStarted(int, bool)               {}
func (nopObserver) BatchDelivered(int, Delivery)         {}
func (nopObserver) BatchFailed(int, Failure)             {}
func (nopObserver) Lag(int, Lag)                         {}
func (nopObserver) CheckpointSaved(int)                  {}
func (nopObserver) ReceiverSwitched(int, string, string) {}
func (nopObserver) ShardReleased(int)                    {}
func (nopObserver) Stopping()                            {}
