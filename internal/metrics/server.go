package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"sls2siem/internal/receivers"
)

// Handler serves /metrics (the Prometheus text format, or what the
// scraper negotiates), /healthz and /readyz.
func (m *Metrics) Handler(log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	}))
	mux.HandleFunc("GET /healthz", m.healthz)
	mux.HandleFunc("GET /readyz", m.readyz)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "sls2siem consume: /metrics (Prometheus), /healthz (no shard stuck), /readyz (holding the consumer-group heartbeat)\n")
	})
	return mux
}

// Health is the answer of /healthz.
type Health struct {
	Status string `json:"status"` // ok or stuck
	// Consumer is this consumer's name in the group.
	Consumer string        `json:"consumer"`
	Shards   []ShardHealth `json:"shards"`
}

// ShardHealth is one held shard in /healthz.
type ShardHealth struct {
	Shard int  `json:"shard"`
	Stuck bool `json:"stuck"`
	// Waiting: data is known to wait after the delivered logs.
	Waiting bool `json:"waiting"`
	// SinceProgressSeconds is the time since the shard last delivered a
	// batch or was seen with nothing to deliver.
	SinceProgressSeconds float64 `json:"sinceProgressSeconds"`
	// LastFailure is the kind of the last failed delivery since then.
	LastFailure string `json:"lastFailure,omitempty"`
	// Receiver is the syslog receiver (host:port) the shard's batches
	// go to: that of its last delivery attempt.
	Receiver string `json:"receiver,omitempty"`
}

// Readiness is the answer of /readyz.
type Readiness struct {
	Status string `json:"status"` // ready or not ready
	Reason string `json:"reason,omitempty"`
	Shards []int  `json:"shards"` // held at the last heartbeat
	// Receivers are the syslog receivers' health.
	Receivers []receivers.Status `json:"receivers,omitempty"`
}

// Health reports whether a shard is stuck: it delivered nothing for
// StuckAfter while data waits.
func (m *Metrics) Health() Health {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	h := Health{Status: "ok", Consumer: m.opts.Consumer, Shards: []ShardHealth{}}
	for id, st := range m.shards {
		sh := ShardHealth{Shard: id, Stuck: m.stuck(st, now), Waiting: st.waiting,
			SinceProgressSeconds: now.Sub(st.progress).Seconds(), LastFailure: st.lastFailure, Receiver: st.receiver}
		if sh.Stuck {
			h.Status = "stuck"
		}
		h.Shards = append(h.Shards, sh)
	}
	slices.SortFunc(h.Shards, func(a, b ShardHealth) int { return a.Shard - b.Shard })
	return h
}

// Readiness reports whether the consumer holds its heartbeat.
func (m *Metrics) Readiness() Readiness {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	ok, why := m.ready(now)
	r := Readiness{Status: "ready", Reason: why, Shards: append([]int{}, m.held...)}
	if m.opts.Receivers != nil {
		r.Receivers = m.opts.Receivers()
	}
	if !ok {
		r.Status, r.Shards = "not ready", []int{}
	}
	return r
}

func (m *Metrics) healthz(w http.ResponseWriter, r *http.Request) {
	h := m.Health()
	code := http.StatusOK
	if h.Status != "ok" {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, h)
}

func (m *Metrics) readyz(w http.ResponseWriter, r *http.Request) {
	rd := m.Readiness()
	code := http.StatusOK
	if rd.Status != "ready" {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, rd)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// Server serves a Handler on a TCP address.
type Server struct {
	srv   *http.Server
	ln    net.Listener
	limit *connLimit
	done  chan struct{}
}

// ServeOptions harden the server.
type ServeOptions struct {
	// MaxConns bounds the connections held at once (0: DefaultMaxConns):
	// a new one closes the oldest that is not serving a request.
	MaxConns int
	// AllowedHosts, when set, are the only names a request's Host header
	// may give (its port aside): any other is answered 421, so that a
	// page of another site (DNS rebinding) cannot read the metrics.
	AllowedHosts []string
}

// DefaultMaxConns is the connection cap of a server whose options say
// none: plenty for a few scrapers and probes.
const DefaultMaxConns = 64

// Timeouts of the server: short, so that held connections cost little.
const (
	readHeaderTimeout = 2 * time.Second
	readTimeout       = 5 * time.Second
	writeTimeout      = 10 * time.Second
	idleTimeout       = 15 * time.Second
)

// Listen binds addr (host:port) now, so that an address in use or
// malformed fails here, and serves h on it in the background.
func Listen(addr string, h http.Handler, log *slog.Logger, opts ServeOptions) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	if len(opts.AllowedHosts) > 0 {
		h = checkHost(opts.AllowedHosts, h)
	}
	limit := newConnLimit(ln, opts.MaxConns)
	s := &Server{
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: readHeaderTimeout,
			ReadTimeout:       readTimeout,
			WriteTimeout:      writeTimeout,
			IdleTimeout:       idleTimeout,
			MaxHeaderBytes:    8 << 10,
			ConnState:         limit.track,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		ln:    ln,
		limit: limit,
		done:  make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(limit); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "address", s.Addr(), "error", err.Error())
		}
	}()
	return s, nil
}

// checkHost answers 421 Misdirected Request to a request whose Host is not
// one of allowed (compared without the port, in any case).
func checkHost(allowed []string, h http.Handler) http.Handler {
	set := map[string]bool{}
	for _, a := range allowed {
		set[strings.ToLower(strings.Trim(a, "[]"))] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if hh, _, err := net.SplitHostPort(host); err == nil {
			host = hh
		}
		if !set[strings.ToLower(strings.Trim(host, "[]"))] {
			http.Error(w, "misdirected request: the Host header does not name this server (SHIP_METRICS_ALLOWED_HOSTS)", http.StatusMisdirectedRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// OpenConns counts the connections the server holds now.
func (s *Server) OpenConns() int { return s.limit.open() }

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server, letting requests in progress finish until ctx
// ends.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}
