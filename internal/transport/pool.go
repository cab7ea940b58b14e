package transport

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Pool keeps connections to one receiver across invocations of a function
// instance. Get hands a connection to one invocation at a time; concurrent
// invocations get different connections.
type Pool struct {
	cfg   Config
	mu    sync.Mutex
	idle  []*Conn
	dials int64
}

// NewPool returns an empty pool for cfg.
func NewPool(cfg Config) *Pool { return &Pool{cfg: cfg} }

// Get returns a live idle connection, or dials a new one. Idle connections
// that expired or were closed by the receiver are discarded on the way.
func (p *Pool) Get(ctx context.Context) (*Conn, error) {
	for {
		p.mu.Lock()
		n := len(p.idle)
		if n == 0 {
			p.dials++
			p.mu.Unlock()
			return Dial(ctx, &p.cfg)
		}
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		if p.cfg.IdleTimeout > 0 && time.Since(c.lastUsed) > p.cfg.IdleTimeout || !c.alive() {
			c.Close()
			continue
		}
		return c, nil
	}
}

// Put returns a healthy connection (its last Flush succeeded) to the pool.
func (p *Pool) Put(c *Conn) {
	c.SetDeadline(time.Time{})
	p.mu.Lock()
	defer p.mu.Unlock()
	p.idle = append(p.idle, c)
}

// Close closes the idle connections cleanly (FC's pre-stop, the daemon's
// exit). The pool stays usable: a later Get dials anew, so an invocation
// that arrives after a stray pre-stop still works.
func (p *Pool) Close() error {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	var errs []error
	for _, c := range idle {
		errs = append(errs, c.closeGracefully())
	}
	return errors.Join(errs...)
}
