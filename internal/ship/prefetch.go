package ship

import (
	"context"

	"sls2siem/internal/logstore"
)

// prefetcher pulls batches ahead: while one batch is formatted and
// written, the next is already being pulled and decoded. The hand-off is
// unbuffered, so at most two batches are in memory at once (one being
// written, the next one pulled), whatever the range size.
type prefetcher struct {
	out    chan pulled
	cancel context.CancelFunc
	done   chan struct{}
}

type pulled struct {
	batch *logstore.Batch
	err   error
}

// startPrefetch reads r in a goroutine until the range ends, an error
// occurs or stop is called. r must not be used by anyone else meanwhile.
func startPrefetch(ctx context.Context, r Source) *prefetcher {
	ctx, cancel := context.WithCancel(ctx)
	p := &prefetcher{out: make(chan pulled), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for {
			b, err := r.Next(ctx)
			select {
			case p.out <- pulled{b, err}:
			case <-ctx.Done():
				if b != nil {
					b.Release()
				}
				return
			}
			if err != nil { // including logstore.ErrDone
				return
			}
		}
	}()
	return p
}

// next returns the next batch, or the error that ended the range.
func (p *prefetcher) next(ctx context.Context) (*logstore.Batch, error) {
	select {
	case r := <-p.out:
		return r.batch, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// stop ends the goroutine and waits for it; afterwards the Reader may be
// used (for example, to Seek) again.
func (p *prefetcher) stop() {
	p.cancel()
	<-p.done
	select {
	case r := <-p.out:
		if r.batch != nil {
			r.batch.Release()
		}
	default:
	}
}
