package backfill

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// Bars is the live terminal display: one bar per shard and one for the
// total (github.com/vbauerster/mpb), each with its logs, bytes, logs/s,
// percent of the window and ETA.
type Bars struct {
	W io.Writer

	mu     sync.Mutex
	p      *mpb.Progress
	bars   map[int]*mpb.Bar
	total  *mpb.Bar
	shards map[int]Progress
	order  []int
	start  time.Time
}

// Start implements Reporter.
func (b *Bars) Start(shards []Progress) {
	// The decorators take b.mu while mpb renders: never call mpb with it held.
	b.mu.Lock()
	b.start = time.Now()
	b.p = mpb.New(mpb.WithOutput(b.W), mpb.WithAutoRefresh(), mpb.WithWidth(32), mpb.WithRefreshRate(150*time.Millisecond))
	b.bars, b.shards = map[int]*mpb.Bar{}, map[int]Progress{}
	for _, sp := range shards {
		b.shards[sp.Shard] = sp
		b.order = append(b.order, sp.Shard)
	}
	b.mu.Unlock()
	bars := map[int]*mpb.Bar{}
	for _, sp := range shards {
		bars[sp.Shard] = b.add(fmt.Sprintf("shard %d", sp.Shard), sp.Shard, sp)
	}
	total := b.add("total", -1, Sum(shards))
	b.mu.Lock()
	b.bars, b.total = bars, total
	b.mu.Unlock()
}

func (b *Bars) add(name string, shard int, sp Progress) *mpb.Bar {
	info := func(decor.Statistics) string {
		b.mu.Lock()
		defer b.mu.Unlock()
		p := b.get(shard)
		eta := "-"
		if d, ok := p.ETA(); ok {
			eta = d.String()
		}
		return fmt.Sprintf("%d logs  %s  %.0f logs/s  ETA %s", p.Logs, Bytes(p.Bytes), p.LogsPerSecond(), eta)
	}
	bar := b.p.AddBar(max(sp.Total, 1),
		mpb.PrependDecorators(decor.Name(name, decor.WCSyncSpaceR), decor.Percentage(decor.WCSyncSpace)),
		mpb.AppendDecorators(decor.Any(info, decor.WCSyncSpace)),
	)
	bar.SetCurrent(sp.Done)
	if sp.Total == 0 {
		bar.SetTotal(1, true)
	}
	return bar
}

// get returns shard's progress, or the total for -1 (b.mu held).
func (b *Bars) get(shard int) Progress {
	if shard >= 0 {
		p := b.shards[shard]
		if !p.Finished {
			p.Elapsed = time.Since(b.start)
		}
		return p
	}
	var ps []Progress
	for _, s := range b.order {
		ps = append(ps, b.shards[s])
	}
	t := Sum(ps)
	t.Elapsed = time.Since(b.start)
	return t
}

// Update implements Reporter.
func (b *Bars) Update(p Progress) {
	b.mu.Lock()
	b.shards[p.Shard] = p
	bar, total := b.bars[p.Shard], b.get(-1)
	b.mu.Unlock()
	bar.SetCurrent(p.Done)
	if p.Done >= p.Total && p.Total > 0 {
		bar.SetTotal(p.Total, true)
	}
	b.total.SetCurrent(total.Done)
}

// Finish implements Reporter: it completes the bars (or leaves those of
// unfinished shards where they stopped) and waits for the last render.
func (b *Bars) Finish(Result, error) {
	b.mu.Lock()
	bars, total := b.bars, b.total
	b.mu.Unlock()
	for _, bar := range append(mapValues(bars), total) {
		if !bar.Completed() {
			bar.Abort(false)
		}
	}
	b.p.Wait()
}

func mapValues(m map[int]*mpb.Bar) []*mpb.Bar {
	var out []*mpb.Bar
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
