package sim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/config"
	"sls2siem/internal/delivery"
	"sls2siem/internal/format"
	"sls2siem/internal/logstore"
	"sls2siem/internal/receivers"
	"sls2siem/internal/ship"
	"sls2siem/internal/transport"
)

// world is one run: the simulated network, the receivers' records and the
// shipper's answers.
type world struct {
	sc *Schedule
	wg sync.WaitGroup

	mu         sync.Mutex
	links      []*link
	stored     map[int]int          // message id -> times a receiver kept it
	storedOn   map[int]map[int]bool // link id -> message ids kept there
	promised   map[int]bool         // ids the liar acknowledged while plausibly on their way
	promisedOn map[int]map[int]bool // link id -> ids the liar promised there
	violations []string
	notes      []string
	attempt    atomic.Int64 // the attempt running (index into attempts)
	attempts   []attempt
	events     map[string]int // faults and situations that happened, by name
	// Several receivers: when the run started (outages count from it), a
	// sequence that orders the connections' uses and ends, and per
	// attempt the receivers it used, in order.
	start time.Time
	seq   atomic.Int64
	uses  map[int][]use
}

// use is an attempt's use of a receiver: a dial that failed (l nil) or
// its first write on a connection.
type use struct {
	seq  int64
	recv int
	l    *link
}

// used records the first write of the running attempt on l (the client's
// end; l.mu is held).
func (w *world) used(l *link) {
	a := w.currentAttempt()
	if l.probe || a < 0 || l.used[a] {
		return
	}
	if l.used == nil {
		l.used = map[int]bool{}
	}
	l.used[a] = true
	w.mu.Lock()
	w.uses[a] = append(w.uses[a], use{seq: w.seq.Add(1), recv: l.recv, l: l})
	w.mu.Unlock()
}

// attempt is one delivery of a range (an invocation of the function).
type attempt struct {
	rng, try    int
	counters    delivery.Counters
	unconfirmed int64
	err         error
	// With several receivers: their health when the attempt started, and
	// what it reports it did with them.
	health []receivers.Status
	usage  *receivers.Usage
}

func newWorld(sc *Schedule) *world {
	return &world{sc: sc, stored: map[int]int{}, storedOn: map[int]map[int]bool{}, promised: map[int]bool{}, promisedOn: map[int]map[int]bool{}, events: map[string]int{},
		uses: map[int][]use{}}
}

// event counts something that happened (a fault, a situation).
func (w *world) event(name string) {
	w.mu.Lock()
	w.events[name]++
	w.mu.Unlock()
}

func (w *world) violation(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.violations = append(w.violations, fmt.Sprintf(format, args...))
}

func (w *world) note(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.notes = append(w.notes, fmt.Sprintf(format, args...))
}

// store records that the receiver of l kept message id.
func (w *world) store(l *link, id int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if id < 0 {
		w.violations = append(w.violations, fmt.Sprintf("link %d: a message without its simid", l.id))
		return
	}
	w.stored[id]++
	if w.storedOn[l.id] == nil {
		w.storedOn[l.id] = map[int]bool{}
	}
	w.storedOn[l.id][id] = true
}

func (w *world) promise(l *link, id int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.promised[id] = true
	if w.promisedOn[l.id] == nil {
		w.promisedOn[l.id] = map[int]bool{}
	}
	w.promisedOn[l.id][id] = true
}

func (w *world) currentAttempt() int { return int(w.attempt.Load()) }

// slowWrite is how long the client's n-th socket write on l waits before
// the stack takes its bytes.
func (w *world) slowWrite(l *link, n int) time.Duration {
	p := l.plan
	if p.slowWrites == 0 {
		return 0
	}
	r := rand.New(rand.NewPCG(w.sc.Seed^uint64(l.id)<<20, uint64(n)))
	if r.Float64() >= p.slowWrites {
		return 0
	}
	w.event("slow socket write")
	return time.Duration(r.Int64N(int64(p.slowFor)) + 1)
}

// dial is the shipper's transport.Config.Dial: a new link and its
// receiver, or the dial fault of the connection's plan or of its
// receiver's behaviour.
func (w *world) dial(ctx context.Context, network, address string) (net.Conn, error) {
	recv := w.receiverOf(address)
	w.mu.Lock()
	n := len(w.links) + 1
	p := w.sc.plan(n)
	l := newLink(w, n, p)
	l.recv, l.probe = recv, receivers.IsProbe(ctx)
	w.links = append(w.links, l)
	w.mu.Unlock()
	if w.sc.Receivers > 1 {
		b := w.sc.Behaviours[recv]
		if down, refuse := b.down(time.Since(w.start)); down {
			w.dialFailed(l)
			w.event("receiver down: " + b.Kind)
			if refuse {
				return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
			}
			<-ctx.Done()
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: ctx.Err()}
		}
		l.plan.mute, l.plan.muteAfterOpen = b.Mute, b.MuteAfterOpen
		p = l.plan
	}
	switch p.dial {
	case dialRefused:
		w.dialFailed(l)
		w.event("dial refused")
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	case dialUnanswered:
		w.dialFailed(l)
		w.event("dial unanswered")
		<-ctx.Done()
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: ctx.Err()}
	}
	relp := w.sc.Protocol != "tcp"
	if w.sc.Protocol != "relp-tls" {
		attempt := w.currentAttempt
		if l.probe {
			attempt = func() int { return -1 }
		}
		l.tap = &tap{p: parser{relp: relp}, attempt: attempt}
	}
	client, server := l.ends()
	r := &receiver{w: w, l: l, e: server, nc: server, plan: l.plan, relp: relp,
		rng: rand.New(rand.NewPCG(w.sc.Seed, uint64(n)<<32|1)), p: parser{relp: relp}}
	if w.sc.Protocol == "relp-tls" {
		r.nc = tls.Server(server, serverTLS())
	}
	w.wg.Add(1)
	go r.run()
	return client, nil
}

// dialFailed records a failed dial of the running attempt (not a probe's).
func (w *world) dialFailed(l *link) {
	a := w.currentAttempt()
	if l.probe || a < 0 {
		return
	}
	w.mu.Lock()
	w.uses[a] = append(w.uses[a], use{seq: w.seq.Add(1), recv: l.recv})
	w.mu.Unlock()
}

// hosts are the receivers' host names: siem.sim alone, as before there
// were several, or siem-a.sim, siem-b.sim, …
func (sc *Schedule) hosts() []string {
	if sc.Receivers <= 1 {
		return []string{"siem.sim"}
	}
	var out []string
	for i := range sc.Receivers {
		out = append(out, "siem-"+string(rune('a'+i))+".sim")
	}
	return out
}

// receiverOf is the index of the receiver at address.
func (w *world) receiverOf(address string) int {
	host, _, _ := net.SplitHostPort(address)
	for i, h := range w.sc.hosts() {
		if h == host {
			return i
		}
	}
	panic("sim: dial to an unknown receiver " + address)
}

// outages resets, at the start of each of its receivers' outages, every
// connection to that receiver (a receiver killed, a host gone), until stop
// is closed.
func (w *world) outages(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	type start struct {
		at   time.Duration
		recv int
	}
	var starts []start
	for i, b := range w.sc.Behaviours {
		for _, o := range b.Outages {
			if o.From > 0 {
				starts = append(starts, start{o.From, i})
			}
		}
	}
	slices.SortFunc(starts, func(a, b start) int { return int(a.at - b.at) })
	for _, st := range starts {
		t := time.NewTimer(time.Until(w.start.Add(st.at)))
		select {
		case <-stop:
			t.Stop()
			return
		case <-t.C:
		}
		w.mu.Lock()
		links := append([]*link(nil), w.links...)
		w.mu.Unlock()
		killed := false
		for _, l := range links {
			if l.recv != st.recv {
				continue
			}
			l.mu.Lock()
			if !l.reset {
				l.doReset()
				killed = true
			}
			l.mu.Unlock()
		}
		if killed {
			w.event("receiver killed with connections open")
		}
	}
}

// msg is one message of a range, as the formatter makes it.
type msg struct {
	id        int
	dropped   bool
	truncated bool
	bytes     int64
}

// rangeData is a range's logs and what delivering it must report.
type rangeData struct {
	groups []*sls.LogGroup
	pull   int
	msgs   []msg // in the range's order
	want   delivery.Counters
}

// build makes the logs of every range and what the formatter does with
// each (the real encoder with the run's settings).
func (w *world) build(f format.Options) []*rangeData {
	enc := format.NewEncoder(f)
	var out []*rangeData
	id := 0
	for _, rg := range w.sc.Ranges {
		d := &rangeData{pull: rg.PullCount}
		for _, sizes := range rg.Groups {
			g := &sls.LogGroup{Topic: proto.String("sim"), Source: proto.String("10.0.0.1")}
			for _, size := range sizes {
				g.Logs = append(g.Logs, &sls.Log{Time: proto.Uint32(1_800_000_000), Contents: []*sls.LogContent{
					{Key: proto.String("simid"), Value: proto.String(strconv.Itoa(id))},
					{Key: proto.String("fill"), Value: proto.String(filler(size))},
				}})
				id++
			}
			grp := enc.NewGroup(g, "")
			for i, l := range g.Logs {
				b, res := enc.Append(nil, grp, i, l)
				m := msg{id: id - len(g.Logs) + i, dropped: res == format.Dropped, truncated: res == format.Truncated, bytes: int64(len(b))}
				if m.dropped {
					m.bytes = 0
					d.want.Dropped++
				} else {
					if simID(b) != m.id {
						w.violation("message %d formatted without its simid: %q", m.id, b)
					}
					d.want.Logs++
					d.want.Bytes += m.bytes
					if m.truncated {
						d.want.Truncated++
					}
				}
				d.msgs = append(d.msgs, m)
			}
			d.groups = append(d.groups, g)
		}
		d.want.LogGroups = int64(len(d.groups))
		out = append(out, d)
	}
	return out
}

// fill is the text the messages' fill field is cut from.
var fill = func() string {
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return string(b)
}()

func filler(n int) string { return fill[:min(n, len(fill))] }

// source is a range's batches, PullCount groups each, as ship.Source.
type source struct {
	d     *rangeData
	pos   int
	delay time.Duration
}

func cursorOf(i int) string { return "c" + strconv.Itoa(i) }

func (s *source) Next(ctx context.Context) (*logstore.Batch, error) {
	if s.pos >= len(s.d.groups) {
		return nil, logstore.ErrDone
	}
	if s.delay > 0 {
		t := time.NewTimer(s.delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	end := min(s.pos+s.d.pull, len(s.d.groups))
	b := &logstore.Batch{Cursor: cursorOf(s.pos), NextCursor: cursorOf(end), Groups: s.d.groups[s.pos:end]}
	s.pos = end
	return b, nil
}

func (s *source) Seek(cursor string) {
	n, err := strconv.Atoi(cursor[1:])
	if err != nil {
		panic("sim: seek to " + cursor)
	}
	s.pos = n
}

// config is the shipper's configuration for the schedule.
func (w *world) config() (config.Config, error) {
	sc := w.sc
	env := map[string]string{
		"SYSLOG_HOST": strings.Join(sc.hosts(), ","), "SYSLOG_PORT": "514", "SYSLOG_PROTOCOL": sc.Protocol,
		"SYSLOG_MAX_RETRIES":      strconv.Itoa(sc.MaxRetries),
		"SYSLOG_RETRY_BACKOFF":    sc.Backoff.String(),
		"SYSLOG_WRITE_TIMEOUT":    sc.WriteTimeout.String(),
		"SYSLOG_DIAL_TIMEOUT":     sc.DialTimeout.String(),
		"SYSLOG_IDLE_TIMEOUT":     sc.IdleTimeout.String(),
		"SYSLOG_MAX_MESSAGE_SIZE": strconv.Itoa(sc.MaxMessageSize),
		"SYSLOG_OVERSIZE":         map[bool]string{true: "drop", false: "truncate"}[sc.Drop],
	}
	if sc.Receivers > 1 {
		env["SYSLOG_BALANCE"] = sc.Balance
		env["SYSLOG_FAILBACK_PROBES"] = strconv.Itoa(sc.FailbackProbes)
		env["SYSLOG_PROBE_INTERVAL"] = sc.ProbeInterval.String()
	}
	switch sc.Protocol {
	case "tcp":
		env["SYSLOG_FRAMING"] = "octet-counting"
	case "relp-tls":
		env["SYSLOG_TLS_CA"] = string(caPEM())
		env["SYSLOG_RELP_WINDOW"] = strconv.Itoa(sc.Window)
	default:
		env["SYSLOG_RELP_WINDOW"] = strconv.Itoa(sc.Window)
	}
	return config.Load(func(k string) string { return env[k] }, config.UseTrigger)
}

// run ships the schedule's ranges, like the SLS trigger invoking the
// function back to back and retrying failed ranges, then stops every
// connection. It runs inside a synctest bubble.
func (w *world) run() ([]*rangeData, error) {
	cfg, err := w.config()
	if err != nil {
		return nil, fmt.Errorf("sim: configuration: %w", err)
	}
	s := ship.New(cfg, slog.New(slog.DiscardHandler), ship.WithDial(w.dial))
	ranges := w.build(cfg.Format)
	w.start = time.Now()
	stopOutages, outagesDone := make(chan struct{}), make(chan struct{})
	go w.outages(stopOutages, outagesDone)
	for ri, d := range ranges {
		time.Sleep(w.sc.Ranges[ri].Gap)
		src := &source{d: d, delay: w.sc.PullDelay}
		for try := 0; try <= w.sc.TriggerRetries; try++ {
			w.mu.Lock()
			w.attempts = append(w.attempts, attempt{rng: ri, try: try})
			idx := len(w.attempts) - 1
			if w.sc.Receivers > 1 {
				w.attempts[idx].health = s.Receivers().Status()
			}
			w.mu.Unlock()
			w.attempt.Store(int64(idx))
			src.pos = 0
			ctx, cancel := context.WithTimeout(context.Background(), w.sc.InvocationTimeout)
			sess := s.NewSession()
			c, unconfirmed, err := s.Deliver(ctx, src, sess, cursorOf(len(d.groups)))
			cancel()
			w.mu.Lock()
			w.attempts[idx].counters, w.attempts[idx].unconfirmed, w.attempts[idx].err = c, unconfirmed, err
			w.attempts[idx].usage = sess.Route().Usage()
			if try > 0 {
				w.events["range retried"]++
			}
			if errors.Is(err, context.DeadlineExceeded) {
				w.events["deadline expired mid-range"]++
			}
			if k := transport.KindOf(err); k != "" {
				w.events["failed: "+string(k)]++
			}
			w.mu.Unlock()
			if err == nil {
				break
			}
			time.Sleep(w.sc.RetryDelay)
		}
	}
	w.attempt.Store(-1)
	close(stopOutages)
	<-outagesDone
	s.Close()
	// The receivers read and answer what reached them, then every link is
	// reset so that every goroutine ends.
	time.Sleep(10 * time.Second)
	w.mu.Lock()
	links := append([]*link(nil), w.links...)
	w.mu.Unlock()
	for _, l := range links {
		l.mu.Lock()
		l.doReset()
		l.mu.Unlock()
	}
	w.wg.Wait()
	return ranges, nil
}
