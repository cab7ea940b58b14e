package sim

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Schedule is what a run does, drawn from its seed: the shipper's
// settings, the ranges it ships back to back, and the seed of every
// connection's plan.
type Schedule struct {
	Seed              uint64
	Protocol          string // relp, relp-tls or tcp
	Window            int    // SYSLOG_RELP_WINDOW
	MaxRetries        int    // SYSLOG_MAX_RETRIES
	Backoff           time.Duration
	WriteTimeout      time.Duration
	DialTimeout       time.Duration
	IdleTimeout       time.Duration
	MaxMessageSize    int
	Drop              bool          // SYSLOG_OVERSIZE=drop
	InvocationTimeout time.Duration // each attempt's deadline
	TriggerRetries    int           // attempts of a failed range after the first
	RetryDelay        time.Duration // between attempts
	PullDelay         time.Duration // each batch's pull
	FaultRate         float64       // share of connections with a fault
	Ranges            []Range
	// Several receivers (SYSLOG_HOST's list), drawn from their own stream
	// of the seed so that one-receiver schedules are those of the seeds
	// before there were several: how many (1 to 3), the policy, the
	// probes, and what each receiver does over the run.
	Receivers      int
	Balance        string // failover or round-robin
	FailbackProbes int
	ProbeInterval  time.Duration
	Behaviours     []Behaviour
	// plans, when set, replaces the drawn plans (by connection number,
	// from 1): the hand-written scenarios of the regression tests;
	// otherPlans, when set, replaces the others.
	plans      map[int]connPlan
	otherPlans *connPlan
}

// Range is one range of logs: its groups, each a list of message body
// sizes, read PullCount groups per batch; Gap is the idle time before it.
type Range struct {
	Groups    [][]int
	PullCount int
	Gap       time.Duration
}

func (s *Schedule) String() string {
	n := 0
	for _, r := range s.Ranges {
		for _, g := range r.Groups {
			n += len(g)
		}
	}
	out := fmt.Sprintf("seed %d: %s, window %d, retries %d, backoff %v, write timeout %v, max message %d (drop %v), "+
		"%d ranges (%d logs), deadline %v, fault rate %.2f",
		s.Seed, s.Protocol, s.Window, s.MaxRetries, s.Backoff, s.WriteTimeout, s.MaxMessageSize, s.Drop,
		len(s.Ranges), n, s.InvocationTimeout, s.FaultRate)
	if s.Receivers > 1 {
		out += fmt.Sprintf("; %d receivers, %s, %d probes every %v:", s.Receivers, s.Balance, s.FailbackProbes, s.ProbeInterval)
		for i, b := range s.Behaviours {
			out += fmt.Sprintf(" [%d] %s", i, b)
		}
	}
	return out
}

// Behaviour is what one receiver does over a run, on top of each
// connection's own plan: when it is down (its connections reset at the
// start of the window, dials refused or unanswered until its end), and
// whether it accepts and never acknowledges.
type Behaviour struct {
	Kind    string // healthy, down from the start, killed mid-run, flapping, never acknowledges
	Outages []Outage
	// Mute: the receiver accepts connections and never acknowledges:
	// RELP answers nothing (MuteAfterOpen: the open, then nothing), TCP
	// never reads.
	Mute, MuteAfterOpen bool
}

// Outage is a window of the run (from its start) in which the receiver
// is down.
type Outage struct {
	From, To time.Duration
	Refuse   bool // dials refused (the process is gone), else unanswered (the host is)
}

func (b Behaviour) String() string {
	out := b.Kind
	for _, o := range b.Outages {
		out += fmt.Sprintf(" %v-%v", o.From, o.To)
	}
	if b.MuteAfterOpen {
		out += " (after the open)"
	}
	return out
}

// down reports whether the receiver is down at t (from the run's start),
// and how a dial fails then.
func (b Behaviour) down(t time.Duration) (down, refuse bool) {
	for _, o := range b.Outages {
		if t >= o.From && t < o.To {
			return true, o.Refuse
		}
	}
	return false, false
}

// Receiver behaviours.
const (
	behaveHealthy = "healthy"
	behaveDown    = "down from the start"
	behaveKilled  = "killed mid-run"
	behaveFlap    = "flapping"
	behaveMute    = "never acknowledges"
)

// drawReceivers draws the receivers of s from their own stream of the
// seed.
func (s *Schedule) drawReceivers() {
	r := rand.New(rand.NewPCG(s.Seed, 0x7ece1e))
	s.Receivers = pick(r, 1, 1, 1, 1, 1, 2, 2, 2, 3, 3)
	if s.Receivers == 1 {
		return
	}
	s.Balance = pick(r, "failover", "round-robin")
	s.FailbackProbes = pick(r, 1, 2, 3)
	s.ProbeInterval = between(r, 20*time.Millisecond, 2*time.Second)
	for i := range s.Receivers {
		b := Behaviour{Kind: pick(r, behaveHealthy, behaveHealthy, behaveDown, behaveKilled, behaveFlap, behaveMute)}
		if i == s.Receivers-1 && r.IntN(2) == 0 {
			b.Kind = behaveHealthy // most runs keep one receiver that works
		}
		switch b.Kind {
		case behaveDown:
			b.Outages = []Outage{{From: 0, To: pick(r, between(r, 100*time.Millisecond, 5*time.Second), time.Hour), Refuse: r.IntN(3) > 0}}
		case behaveKilled:
			from := between(r, time.Millisecond, 3*time.Second)
			b.Outages = []Outage{{From: from, To: from + between(r, 10*time.Millisecond, 5*time.Second), Refuse: r.IntN(3) > 0}}
		case behaveFlap:
			period := between(r, 20*time.Millisecond, time.Second)
			for t := between(r, 0, period); t < 20*time.Second; t += period {
				b.Outages = append(b.Outages, Outage{From: t, To: t + period/2, Refuse: true})
			}
		case behaveMute:
			b.Mute, b.MuteAfterOpen = true, s.Protocol != "tcp" && r.IntN(2) == 0
		}
		s.Behaviours = append(s.Behaviours, b)
	}
}

func pick[T any](r *rand.Rand, v ...T) T { return v[r.IntN(len(v))] }

func between(r *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(r.Int64N(int64(hi-lo)+1))
}

// NewSchedule draws the schedule of seed.
func NewSchedule(seed uint64) *Schedule {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	s := &Schedule{
		Seed:              seed,
		Protocol:          pick(r, "relp", "relp", "relp", "relp", "tcp", "tcp", "relp-tls"),
		Window:            pick(r, 1, 2, 4, 8, 16, 128),
		MaxRetries:        pick(r, 0, 1, 2, 3, 6, 10),
		Backoff:           between(r, time.Millisecond, 300*time.Millisecond),
		WriteTimeout:      between(r, 50*time.Millisecond, 3*time.Second),
		DialTimeout:       between(r, 10*time.Millisecond, 2*time.Second),
		IdleTimeout:       pick(r, time.Second, 5*time.Minute),
		MaxMessageSize:    pick(r, 480, 2048, 8192),
		Drop:              r.IntN(4) == 0,
		InvocationTimeout: pick(r, 300*time.Millisecond, 2*time.Second, 10*time.Second, 60*time.Second),
		TriggerRetries:    pick(r, 0, 1, 3),
		RetryDelay:        between(r, 0, 500*time.Millisecond),
		PullDelay:         between(r, 0, 20*time.Millisecond),
		FaultRate:         pick(r, 0.2, 0.5, 0.8),
	}
	// Sizes: small messages in small batches, or (bulky) batches larger
	// than the RELP client's 64 KiB write buffer, whose socket writes end
	// in the middle of a frame.
	big, logs, window := pick(r, 120, 600, 3000), 30, s.Window
	if r.IntN(3) == 0 {
		big, logs, window = 9000, 40, pick(r, 16, 128)
	}
	s.Window = window
	for range 1 + r.IntN(4) {
		rg := Range{PullCount: 1 + r.IntN(4), Gap: pick(r, 0, time.Millisecond, 100*time.Millisecond, 2*time.Second)}
		for range 1 + r.IntN(6) {
			g := make([]int, 1+r.IntN(logs))
			for i := range g {
				g[i] = 20 + r.IntN(big)
			}
			rg.Groups = append(rg.Groups, g)
		}
		s.Ranges = append(s.Ranges, rg)
	}
	s.drawReceivers()
	return s
}

// Dial outcomes.
const (
	dialOK          = iota
	dialRefused     // ECONNREFUSED
	dialUnanswered  // the SYN gets no answer: the dial times out
	dialAcceptClose // accepted, then closed at once
)

// connPlan is what one connection's receiver and sockets do.
type connPlan struct {
	latency        time.Duration
	sndBuf, rcvBuf int
	dial           int
	openRefuse     bool          // RELP open answered 500
	resetAt        int64         // reset (RST) after this many bytes of the client's stream; -1: never
	halfCloseAt    int64         // half-close (FIN, reading on) after this many bytes; -1: never
	stallAt        int64         // stop reading for stallFor after this many bytes; -1: never
	stallFor       time.Duration //
	discardFrom    int           // take and discard from this message on (nothing acknowledged); -1: never
	refuseAt       int           // RELP: answer 500 to this syslog frame; -1: never
	serverCloseAt  int           // RELP: serverclose after answering this frame; -1: never
	violateAt      int           // RELP: a protocol violation after this frame; -1: never
	closeAt        int64         // close (RST with unread data) after this many bytes; -1: never
	ackDelay       time.Duration // each answer waits up to this long
	splitAcks      bool          // answers written in small pieces
	lie            bool          // RELP: acknowledge the frame the client's pending write cuts
	slowWrites     float64       // share of the client's socket writes that block before the stack takes them
	slowFor        time.Duration
	// The receiver's behaviour: it never acknowledges (RELP: answers
	// nothing, or the open alone; TCP: never reads).
	mute, muteAfterOpen bool
}

// plan draws the plan of the n-th connection (from 1) of the run.
func (s *Schedule) plan(n int) connPlan {
	if p, ok := s.plans[n]; ok {
		return p
	}
	if s.otherPlans != nil {
		return *s.otherPlans
	}
	r := rand.New(rand.NewPCG(s.Seed, uint64(n)))
	p := connPlan{
		latency: between(r, 50*time.Microsecond, 5*time.Millisecond),
		sndBuf:  pick(r, 2<<10, 16<<10, 64<<10, 256<<10),
		rcvBuf:  pick(r, 2<<10, 16<<10, 64<<10, 256<<10),
		resetAt: -1, halfCloseAt: -1, stallAt: -1, closeAt: -1,
		discardFrom: -1, refuseAt: -1, serverCloseAt: -1, violateAt: -1,
		ackDelay: pick(r, 0, time.Millisecond, 20*time.Millisecond, 200*time.Millisecond),
	}
	p.splitAcks = r.IntN(3) == 0
	if r.IntN(3) == 0 {
		p.slowWrites, p.slowFor = pick(r, 0.1, 0.5, 1), between(r, time.Millisecond, 2*s.WriteTimeout)
	}
	if r.Float64() >= s.FaultRate {
		return p
	}
	relp := s.Protocol != "tcp"
	bytes := func() int64 { return int64(r.IntN(pick(r, 2<<10, 64<<10, 512<<10))) }
	frames := func() int { return r.IntN(pick(r, 5, 50, 500)) }
	switch k := r.IntN(13); {
	case k == 0:
		p.dial = pick(r, dialRefused, dialUnanswered, dialAcceptClose)
	case k == 1:
		p.resetAt = bytes()
	case k == 2:
		p.halfCloseAt = bytes()
	case k == 3:
		p.stallAt, p.stallFor = bytes(), between(r, 10*time.Millisecond, 3*s.WriteTimeout)
	case k == 4:
		p.discardFrom = frames()
	case k == 5:
		p.closeAt = bytes()
	case k == 6:
		p.ackDelay = between(r, s.WriteTimeout/2, 2*s.WriteTimeout)
	case relp && k == 7:
		p.refuseAt = frames()
	case relp && k == 8:
		p.serverCloseAt = frames()
	case relp && k == 9:
		p.violateAt = frames()
	case relp && k == 10:
		p.openRefuse = true
	case s.Protocol == "relp" && (k == 11 || k == 12):
		p.lie = true
		p.slowWrites, p.slowFor = 1, between(r, 2*p.latency+time.Millisecond, s.WriteTimeout)
	default:
		p.resetAt = bytes()
	}
	return p
}
