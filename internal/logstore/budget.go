package logstore

import (
	"context"
	"fmt"
	"sync"
)

// Budget is the memory the instance lets pulled batches take, shared by
// every invocation in flight: a pull reserves its answer's size before the
// SDK allocates it and the batch gives it back on Release, so that ten
// concurrent ranges cannot take ten times what one may. The Readers
// sharing it size their pulls to an equal share.
type Budget struct {
	total int64

	mu      sync.Mutex
	used    int64
	peak    int64
	readers int
	freed   chan struct{} // closed and replaced whenever memory is given back
}

// DefaultBudget is the budget of a process that states none.
const DefaultBudget = 256 << 20

// NewBudget returns a budget of total bytes (at least 1 MiB; 0 means
// DefaultBudget).
func NewBudget(total int64) *Budget {
	if total <= 0 {
		total = DefaultBudget
	}
	return &Budget{total: max(total, 1<<20), freed: make(chan struct{})}
}

// acquire reserves n bytes, waiting until they are free or ctx is done.
// More than the whole budget is refused at once.
func (b *Budget) acquire(ctx context.Context, n int64) error {
	if n > b.total {
		return fmt.Errorf("%d bytes are more than the whole memory budget of %d bytes", n, b.total)
	}
	for {
		b.mu.Lock()
		if b.used+n <= b.total {
			b.take(n)
			b.mu.Unlock()
			return nil
		}
		freed := b.freed
		b.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d bytes of the memory budget: %w", n, ctx.Err())
		}
	}
}

// force reserves n bytes without waiting: what a decoded batch really
// takes beyond its reservation. The next acquire waits for it.
func (b *Budget) force(n int64) {
	b.mu.Lock()
	b.take(n)
	b.mu.Unlock()
}

func (b *Budget) take(n int64) {
	b.used += n
	b.peak = max(b.peak, b.used)
}

// release gives n reserved bytes back.
func (b *Budget) release(n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}

// join counts a Reader in; leave counts it out.
func (b *Budget) join() {
	b.mu.Lock()
	b.readers++
	b.mu.Unlock()
}

func (b *Budget) leave() {
	b.mu.Lock()
	b.readers--
	b.mu.Unlock()
}

// share is what one Reader's pull should take: each Reader holds up to
// two batches (one written, one pulled ahead).
func (b *Budget) share() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total / int64(2*max(b.readers, 1))
}
