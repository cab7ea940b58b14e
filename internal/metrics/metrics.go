// Package metrics is what the consumer daemon shows of itself: its
// Prometheus metrics, and its health and readiness. Metrics implements
// consume.Observer, keeping Prometheus collectors (client_golang) and the
// per-shard state that the health checks and the time-based gauges (lag,
// checkpoint age) are computed from at each request; Server serves
// /metrics, /healthz and /readyz over HTTP.
package metrics

import (
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"sls2siem/internal/consume"
	"sls2siem/internal/receivers"
)

// Options describe the consumer the metrics are of.
type Options struct {
	Version           string // the build's version
	Project, Logstore string
	Group, Consumer   string
	HeartbeatTimeout  time.Duration // heartbeats failing longer than this: not ready
	StuckAfter        time.Duration // no delivery this long while data waits: unhealthy
	// Receivers reports the syslog receivers' health (the Shipper's
	// receivers.Set Status): the receiver metrics, and readiness fails
	// when none is up. nil: no receiver metrics.
	Receivers func() []receivers.Status
}

// Metrics collects what a consumer does. Its methods are safe for
// concurrent use.
type Metrics struct {
	opts Options
	reg  *prometheus.Registry

	logs, bytes, groups        *prometheus.CounterVec
	truncated, dropped, resent *prometheus.CounterVec
	retries, checkpoints       *prometheus.CounterVec
	failures                   *prometheus.CounterVec // by shard and kind
	// By receiver: logs and bytes confirmed, failed deliveries by kind,
	// switches to it.
	recvLogs, recvBytes, recvSwitches *prometheus.CounterVec
	recvFailures                      *prometheus.CounterVec
	heartbeatFailures                 prometheus.Counter
	inFlight                          prometheus.Gauge
	latency                           prometheus.Histogram

	mu          sync.Mutex
	shards      map[int]*shardState
	held        []int
	heartbeatOK time.Time // last successful heartbeat; zero before the first
	stopping    bool
}

// shardState is what Metrics knows of a held shard.
type shardState struct {
	progress    time.Time // last delivery, or last seen with nothing to deliver
	waiting     bool      // data is known to wait after the delivered logs
	lastFailure string    // kind of the last failed delivery since progress
	lagKnown    bool
	caughtUp    bool
	oldest      time.Time // receive time of the first log group not delivered
	groups      int64
	groupsKnown bool
	savedAt     time.Time // last checkpoint saved; zero before
	receiver    string    // the receiver of its last delivery attempt
}

const namespace = "sls2siem"

// New returns the metrics of the consumer opts describes, registered with
// the Go runtime's and the process's own collectors.
func New(opts Options) *Metrics {
	m := &Metrics{opts: opts, reg: prometheus.NewRegistry(), shards: map[int]*shardState{}}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace:   namespace,
		Name:        "build_info",
		Help:        "Always 1: the version of sls2siem and of Go it was built with.",
		ConstLabels: prometheus.Labels{"version": opts.Version, "goversion": runtime.Version()},
	}, func() float64 { return 1 }))

	// Every sls2siem metric of the consumer carries its project and logstore.
	reg := prometheus.WrapRegistererWith(prometheus.Labels{"project": opts.Project, "logstore": opts.Logstore}, m.reg)
	shard := []string{"shard"}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
		reg.MustRegister(c)
		return c
	}
	m.logs = counter("shipped_logs_total", "Logs delivered to the syslog receiver (confirmed; each counted once).", shard...)
	m.bytes = counter("shipped_bytes_total", "Bytes of the delivered syslog messages (framing excluded).", shard...)
	m.groups = counter("shipped_log_groups_total", "SLS log groups delivered.", shard...)
	m.truncated = counter("truncated_logs_total", "Delivered logs cut to SYSLOG_MAX_MESSAGE_SIZE.", shard...)
	m.dropped = counter("dropped_logs_total", "Logs not sent: longer than SYSLOG_MAX_MESSAGE_SIZE with SYSLOG_OVERSIZE=drop.", shard...)
	m.resent = counter("resent_logs_total", "Messages written to the socket again after a failed delivery: possible duplicates.", shard...)
	m.retries = counter("send_retries_total", "Batches sent again after a failed delivery.", shard...)
	m.failures = counter("send_failures_total", "Failed deliveries of a batch, by kind: ack (RELP refusal), timeout, refused, tls, connect, confirm, write (transport.Kind), other.", "shard", "kind")
	m.checkpoints = counter("checkpoints_saved_total", "Checkpoints the consumer group accepted.", shard...)
	m.heartbeatFailures = prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "consumer_heartbeat_failures_total",
		Help: "Consumer-group heartbeats that failed."})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "batches_in_flight",
		Help: "Batches being written and confirmed now."})
	m.latency = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "batch_ship_duration_seconds",
		Help:    "Time to write, flush and confirm a delivered batch.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}})
	info := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "consumer_info",
		Help:        "Always 1: the consumer group and the name of this consumer.",
		ConstLabels: prometheus.Labels{"consumer_group": opts.Group, "consumer": opts.Consumer}})
	info.Set(1)
	reg.MustRegister(m.heartbeatFailures, m.inFlight, m.latency, info, stateCollector{m})
	recv := "receiver"
	m.recvLogs = counter("receiver_logs_total", "Logs a syslog receiver confirmed (each counted once).", recv)
	m.recvBytes = counter("receiver_bytes_total", "Bytes of the syslog messages a receiver confirmed (framing excluded).", recv)
	m.recvFailures = counter("receiver_send_failures_total", "Failed deliveries of a batch to a syslog receiver, by kind (as sls2siem_send_failures_total).", recv, "kind")
	m.recvSwitches = counter("receiver_switches_total", "Times a shard's batches moved to this syslog receiver from another (after a failure there, or failing back).", recv)
	if opts.Receivers != nil {
		for _, st := range opts.Receivers() {
			m.recvLogs.WithLabelValues(st.Receiver)
			m.recvBytes.WithLabelValues(st.Receiver)
			m.recvSwitches.WithLabelValues(st.Receiver)
			for _, kind := range consume.FailureKinds {
				m.recvFailures.WithLabelValues(st.Receiver, kind)
			}
		}
	}
	return m
}

// Registry is the registry holding every collector, for tests and for
// serving.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// shard returns the state of a shard, creating it (and its zero-valued
// series) on first sight. m.mu must be held.
func (m *Metrics) shard(id int, now time.Time) *shardState {
	st := m.shards[id]
	if st == nil {
		st = &shardState{progress: now}
		m.shards[id] = st
		l := strconv.Itoa(id)
		for _, c := range []*prometheus.CounterVec{m.logs, m.bytes, m.groups, m.truncated, m.dropped, m.resent, m.retries, m.checkpoints} {
			c.WithLabelValues(l)
		}
		for _, kind := range consume.FailureKinds {
			m.failures.WithLabelValues(l, kind)
		}
	}
	return st
}

// Heartbeat implements consume.Observer.
func (m *Metrics) Heartbeat(held []int, err error) {
	if err != nil {
		m.heartbeatFailures.Inc()
		return
	}
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.heartbeatOK = now
	m.held = slices.Sorted(slices.Values(held))
	for _, s := range held {
		m.shard(s, now)
	}
}

// BatchStarted implements consume.Observer.
func (m *Metrics) BatchStarted(shard int, retry bool) {
	m.inFlight.Inc()
	if retry {
		m.retries.WithLabelValues(strconv.Itoa(shard)).Inc()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.shard(shard, time.Now()).waiting = true
}

// BatchDelivered implements consume.Observer.
func (m *Metrics) BatchDelivered(shard int, d consume.Delivery) {
	m.inFlight.Dec()
	l := strconv.Itoa(shard)
	m.logs.WithLabelValues(l).Add(float64(d.Logs))
	m.bytes.WithLabelValues(l).Add(float64(d.Bytes))
	m.groups.WithLabelValues(l).Add(float64(d.LogGroups))
	m.truncated.WithLabelValues(l).Add(float64(d.Truncated))
	m.dropped.WithLabelValues(l).Add(float64(d.Dropped))
	m.resent.WithLabelValues(l).Add(float64(d.Resent))
	m.latency.Observe(d.Duration.Seconds())
	if d.Receiver != "" {
		m.recvLogs.WithLabelValues(d.Receiver).Add(float64(d.Logs))
		m.recvBytes.WithLabelValues(d.Receiver).Add(float64(d.Bytes))
	}
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.shard(shard, now)
	st.progress, st.lastFailure = now, ""
	if d.Receiver != "" {
		st.receiver = d.Receiver
	}
}

// BatchFailed implements consume.Observer.
func (m *Metrics) BatchFailed(shard int, f consume.Failure) {
	m.inFlight.Dec()
	l := strconv.Itoa(shard)
	m.failures.WithLabelValues(l, f.Kind).Inc()
	m.resent.WithLabelValues(l).Add(float64(f.Written.Resent))
	if f.Receiver != "" {
		m.recvFailures.WithLabelValues(f.Receiver, f.Kind).Inc()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.shard(shard, time.Now())
	st.waiting, st.lastFailure = true, f.Kind
	if f.Receiver != "" {
		st.receiver = f.Receiver
	}
}

// ReceiverSwitched implements consume.Observer.
func (m *Metrics) ReceiverSwitched(shard int, from, to string) {
	m.recvSwitches.WithLabelValues(to).Inc()
	m.mu.Lock()
	defer m.mu.Unlock()
	if st := m.shards[shard]; st != nil {
		st.receiver = to
	}
}

// Lag implements consume.Observer. A report on a shard already released
// (a probe that raced the release) is dropped.
func (m *Metrics) Lag(shard int, l consume.Lag) {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.shards[shard]
	if st == nil {
		return
	}
	st.lagKnown, st.caughtUp = true, l.CaughtUp
	if l.CaughtUp {
		// Nothing to deliver is progress too.
		st.waiting, st.progress, st.lastFailure = false, now, ""
		st.groups, st.groupsKnown = 0, true
		return
	}
	st.waiting, st.oldest = true, l.OldestWaiting
	st.groups, st.groupsKnown = l.LogGroups, l.LogGroupsKnown
}

// CheckpointSaved implements consume.Observer. The library saves a
// shard's last checkpoint after releasing it: that one is counted, but
// leaves no gauge behind.
func (m *Metrics) CheckpointSaved(shard int) {
	m.checkpoints.WithLabelValues(strconv.Itoa(shard)).Inc()
	m.mu.Lock()
	defer m.mu.Unlock()
	if st := m.shards[shard]; st != nil {
		st.savedAt = time.Now()
	}
}

// ShardReleased implements consume.Observer: the shard's gauges go (its
// counters stay).
func (m *Metrics) ShardReleased(shard int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.shards, shard)
}

// Stopping implements consume.Observer: the consumer is no longer ready.
func (m *Metrics) Stopping() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopping = true
}

var _ consume.Observer = (*Metrics)(nil)

// stuck reports whether the shard has delivered nothing for StuckAfter
// while data waits. m.mu must be held.
func (m *Metrics) stuck(st *shardState, now time.Time) bool {
	return st.waiting && now.Sub(st.progress) > m.opts.StuckAfter
}

// ready tells whether the consumer holds its heartbeat, and why not.
// m.mu must be held.
func (m *Metrics) ready(now time.Time) (bool, string) {
	switch {
	case m.stopping:
		return false, "the consumer is stopping"
	case m.heartbeatOK.IsZero():
		return false, "no heartbeat has been answered yet"
	case now.Sub(m.heartbeatOK) > m.opts.HeartbeatTimeout:
		return false, "no heartbeat answered for " + now.Sub(m.heartbeatOK).Round(time.Second).String() +
			", longer than the group's timeout: its shards go to other consumers"
	}
	if m.opts.Receivers != nil {
		sts := m.opts.Receivers()
		var down []string
		for _, st := range sts {
			if st.Up {
				return true, ""
			}
			down = append(down, st.Receiver+" ("+st.LastFailure+")")
		}
		if len(sts) > 0 {
			return false, "no syslog receiver is healthy: " + strings.Join(down, ", ")
		}
	}
	return true, ""
}

// stateCollector exports the gauges computed from the state at each
// scrape: lag, checkpoint age, held shards, readiness and stuck shards.
type stateCollector struct{ m *Metrics }

var (
	descLag = prometheus.NewDesc(namespace+"_shard_lag_seconds",
		"How long the oldest log group not yet delivered has been in SLS (now minus its receive time); 0 when the shard is caught up.",
		[]string{"shard"}, nil)
	descLagGroups = prometheus.NewDesc(namespace+"_shard_lag_log_groups",
		"Log groups waiting to be delivered (the cursor distance to the shard's end), when known.",
		[]string{"shard"}, nil)
	descCheckpointAge = prometheus.NewDesc(namespace+"_checkpoint_age_seconds",
		"Time since the shard's checkpoint was last saved (it grows on a shard with no new data: nothing to save).",
		[]string{"shard"}, nil)
	descStuck = prometheus.NewDesc(namespace+"_shard_stuck",
		"1 when the shard delivered nothing for SHIP_STUCK_AFTER while data waits (what /healthz reports), else 0.",
		[]string{"shard"}, nil)
	descHeld = prometheus.NewDesc(namespace+"_shards_held",
		"Shards the consumer group assigned to this consumer at its last heartbeat (0 once heartbeats fail past the group's timeout).",
		nil, nil)
	descReady = prometheus.NewDesc(namespace+"_consumer_ready",
		"1 when the consumer holds its heartbeat and a syslog receiver is healthy (what /readyz reports), else 0.",
		nil, nil)
	descReceiverUp = prometheus.NewDesc(namespace+"_receiver_up",
		"1 when the syslog receiver is healthy, 0 while it is found down (skipped until it answers health probes).",
		[]string{"receiver"}, nil)
)

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLag, descLagGroups, descCheckpointAge, descStuck, descHeld, descReady, descReceiverUp} {
		ch <- d
	}
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	ready, _ := m.ready(now)
	held := len(m.held)
	if m.heartbeatOK.IsZero() || now.Sub(m.heartbeatOK) > m.opts.HeartbeatTimeout {
		held = 0
	}
	ch <- prometheus.MustNewConstMetric(descHeld, prometheus.GaugeValue, float64(held))
	ch <- prometheus.MustNewConstMetric(descReady, prometheus.GaugeValue, boolValue(ready))
	if m.opts.Receivers != nil {
		for _, st := range m.opts.Receivers() {
			ch <- prometheus.MustNewConstMetric(descReceiverUp, prometheus.GaugeValue, boolValue(st.Up), st.Receiver)
		}
	}
	for id, st := range m.shards {
		l := strconv.Itoa(id)
		if st.lagKnown {
			lag := 0.0
			if !st.caughtUp {
				lag = max(now.Sub(st.oldest).Seconds(), 0)
			}
			ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, lag, l)
		}
		if st.groupsKnown {
			ch <- prometheus.MustNewConstMetric(descLagGroups, prometheus.GaugeValue, float64(st.groups), l)
		}
		if !st.savedAt.IsZero() {
			ch <- prometheus.MustNewConstMetric(descCheckpointAge, prometheus.GaugeValue, now.Sub(st.savedAt).Seconds(), l)
		}
		ch <- prometheus.MustNewConstMetric(descStuck, prometheus.GaugeValue, boolValue(m.stuck(st, now)), l)
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
