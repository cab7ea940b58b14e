package metrics

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// connLimit keeps at most max connections open on a listener. When a new
// connection would exceed it, the oldest one that is not serving a request
// (an idle keep-alive connection, or one that has not sent a byte yet) is
// closed to make room; when every connection is serving a request, the new
// one is closed instead. A flood of held connections therefore neither
// exhausts the daemon's file descriptors nor keeps /healthz from being
// answered: a probe that sends its request at once is served.
type connLimit struct {
	net.Listener
	max int

	mu    sync.Mutex
	conns map[net.Conn]*connState
	// evicted counts the connections closed to make room.
	evicted int
}

type connState struct {
	active bool // serving a request
	since  time.Time
}

func newConnLimit(ln net.Listener, max int) *connLimit {
	return &connLimit{Listener: ln, max: max, conns: map[net.Conn]*connState{}}
}

// Accept accepts a connection and makes room for it.
func (l *connLimit) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.admit(c) {
			return c, nil
		}
		c.Close()
	}
}

// admit registers c, closing the oldest connection not serving a request
// when the limit is reached; it reports false when all are serving one.
func (l *connLimit) admit(c net.Conn) bool {
	l.mu.Lock()
	var victim net.Conn
	if len(l.conns) >= l.max {
		var oldest time.Time
		for vc, st := range l.conns {
			if !st.active && (victim == nil || st.since.Before(oldest)) {
				victim, oldest = vc, st.since
			}
		}
		if victim == nil {
			l.mu.Unlock()
			return false
		}
		delete(l.conns, victim)
		l.evicted++
	}
	l.conns[c] = &connState{since: time.Now()}
	l.mu.Unlock()
	if victim != nil {
		victim.Close()
	}
	return true
}

// track follows the server's view of each connection (http.Server's
// ConnState hook).
func (l *connLimit) track(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st, ok := l.conns[c]
	switch {
	case s == http.StateClosed || s == http.StateHijacked:
		delete(l.conns, c)
	case !ok:
		// Closed to make room while the server still held it.
	case s == http.StateActive:
		st.active = true
	case s == http.StateIdle:
		st.active, st.since = false, time.Now()
	}
}

// open counts the connections held now.
func (l *connLimit) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}
