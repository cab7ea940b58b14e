package backfill

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"sls2siem/internal/slsapi"
)

// Reporter is told the progress of a backfill: Start once with every
// shard, Update after every chunk of a shard (from the shards'
// goroutines, concurrently), Finish once at the end. Lines and Bars
// implement it.
type Reporter interface {
	Start(shards []Progress)
	Update(p Progress)
	Finish(res Result, err error)
}

// Progress is one shard's progress.
type Progress struct {
	Shard int
	// Total is the number of log groups in the shard's window, Done how
	// many of them are behind the next cursor (this run and earlier ones).
	Total, Done int64
	// Logs and Bytes delivered so far, over every run of the state file.
	Logs, Bytes int64
	// RunDone, RunLogs and RunBytes count this run alone, over Elapsed:
	// the rates and the ETA.
	RunDone, RunLogs, RunBytes int64
	Elapsed                    time.Duration
	Finished                   bool
	Err                        string
}

// Fraction is the part of the window behind the next cursor, 0..1.
func (p Progress) Fraction() float64 {
	if p.Total <= 0 {
		return 1
	}
	return float64(p.Done) / float64(p.Total)
}

// LogsPerSecond is this run's rate.
func (p Progress) LogsPerSecond() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.RunLogs) / p.Elapsed.Seconds()
}

// ETA is the time left at this run's rate of log groups; ok is false
// before there is a rate.
func (p Progress) ETA() (d time.Duration, ok bool) {
	if p.Done >= p.Total {
		return 0, true
	}
	if p.RunDone <= 0 || p.Elapsed <= 0 {
		return 0, false
	}
	left := float64(p.Total-p.Done) * p.Elapsed.Seconds() / float64(p.RunDone)
	return time.Duration(left * float64(time.Second)).Round(time.Second), true
}

// Sum adds shards' progress into a total (Shard -1).
func Sum(ps []Progress) Progress {
	t := Progress{Shard: -1, Finished: true}
	for _, p := range ps {
		t.Total += p.Total
		t.Done += p.Done
		t.Logs += p.Logs
		t.Bytes += p.Bytes
		t.RunDone += p.RunDone
		t.RunLogs += p.RunLogs
		t.RunBytes += p.RunBytes
		t.Elapsed = max(t.Elapsed, p.Elapsed)
		t.Finished = t.Finished && p.Finished
	}
	return t
}

// Describe is the progress as text: "40.0% 1200/3000 log groups, 12000
// logs, 3.1 MB, 2400 logs/s, ETA 3s".
func (p Progress) Describe() string {
	eta := "ETA -"
	if d, ok := p.ETA(); ok {
		eta = "ETA " + d.String()
	}
	return fmt.Sprintf("%5.1f%% %d/%d log groups, %d logs, %s, %.0f logs/s, %s",
		100*p.Fraction(), p.Done, p.Total, p.Logs, Bytes(p.Bytes), p.LogsPerSecond(), eta)
}

// Bytes formats n bytes with a decimal unit.
func Bytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

// progress returns every shard's progress (runStart zero: nothing run).
func (st *State) progress(runStart *time.Time) []Progress {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]Progress, len(st.Shards))
	for i := range st.Shards {
		out[i] = st.progressLocked(i, runStart)
	}
	return out
}

func (st *State) progressOf(i int, runStart time.Time) Progress {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.progressLocked(i, &runStart)
}

func (st *State) progressLocked(i int, runStart *time.Time) Progress {
	sh := st.Shards[i]
	b, _ := slsapi.CursorNumber(sh.Begin)
	n, _ := slsapi.CursorNumber(sh.Next)
	r := st.run[i]
	p := Progress{Shard: sh.Shard, Total: sh.Total, Done: n - b, Logs: sh.Logs, Bytes: sh.Bytes,
		RunDone: r.groups, RunLogs: r.logs, RunBytes: r.bytes, Finished: sh.Done, Err: sh.Error}
	if runStart != nil {
		p.Elapsed = time.Since(*runStart)
	}
	return p
}

type nopReporter struct{}

func (nopReporter) Start([]Progress)     {}
func (nopReporter) Update(Progress)      {}
func (nopReporter) Finish(Result, error) {}

// Lines reports the progress as one line of text every Every (and a last
// one at the end): for logs and pipes, where a live display would be
// noise.
type Lines struct {
	W     io.Writer
	Every time.Duration

	mu     sync.Mutex
	shards map[int]Progress
	order  []int
	start  time.Time
	stop   chan struct{}
	done   chan struct{}
}

// Start implements Reporter.
func (l *Lines) Start(shards []Progress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.shards = map[int]Progress{}
	for _, p := range shards {
		l.shards[p.Shard] = p
		l.order = append(l.order, p.Shard)
	}
	l.start = time.Now()
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	every := l.Every
	if every <= 0 {
		every = 5 * time.Second
	}
	go func() {
		defer close(l.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				l.print()
			case <-l.stop:
				return
			}
		}
	}()
}

// Update implements Reporter.
func (l *Lines) Update(p Progress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.shards[p.Shard] = p
}

// Finish implements Reporter.
func (l *Lines) Finish(Result, error) {
	if l.stop == nil {
		return
	}
	close(l.stop)
	<-l.done
	l.print()
}

func (l *Lines) print() {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ps []Progress
	var parts []string
	for _, s := range l.order {
		p := l.shards[s]
		if p.Elapsed < time.Since(l.start) && !p.Finished {
			p.Elapsed = time.Since(l.start) // a rate that falls while a shard waits
		}
		ps = append(ps, p)
		parts = append(parts, fmt.Sprintf("shard %d %.1f%% %d logs", s, 100*p.Fraction(), p.Logs))
	}
	t := Sum(ps)
	t.Elapsed = time.Since(l.start)
	fmt.Fprintf(l.W, "backfill progress: %s; %s\n", t.Describe(), strings.Join(parts, ", "))
}
