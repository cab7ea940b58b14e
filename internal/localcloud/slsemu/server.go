package slsemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxBodySize bounds request bodies and their uncompressed size.
const maxBodySize = 64 << 20

// Credential is an AccessKey pair the emulator accepts. If SecurityToken is
// empty it is a long-term AccessKey; otherwise it is an STS credential and
// every request signed with it must carry the same x-acs-security-token.
type Credential struct {
	AccessKeyID, AccessKeySecret, SecurityToken string
}

// Server is an in-memory SLS data plane. It is safe for concurrent use.
// Create it with [New].
type Server struct {
	mu       sync.RWMutex
	projects map[string]*project
	creds    map[string]Credential
	region   string // V4 scope region required; "" accepts any
	httpSrv  *http.Server
	logger   *slog.Logger

	faultMu sync.Mutex
	faults  []*Fault
	nFaults atomic.Int32 // len(faults), read without faultMu

	statMu   sync.Mutex
	requests map[string]int

	started int64 // unix seconds, prefix of request IDs
	seq     atomic.Uint64
}

// New returns an empty server with no credentials and no projects.
func New() *Server {
	return &Server{
		projects: make(map[string]*project),
		creds:    make(map[string]Credential),
		requests: make(map[string]int),
		logger:   slog.New(slog.DiscardHandler),
		started:  time.Now().Unix(),
	}
}

// AddCredential registers c, replacing any credential with the same
// AccessKeyID.
func (s *Server) AddCredential(c Credential) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creds[c.AccessKeyID] = c
}

// SetRegion makes V4-signed requests valid only with region in their
// credential scope, as the service checks the scope against its own region.
// By default ("") any region is accepted: the emulator has no region.
func (s *Server) SetRegion(region string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.region = region
}

// Region returns the region set by [Server.SetRegion].
func (s *Server) Region() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.region
}

// SetLogger makes the server log each request at debug level to l.
// Secrets and security tokens are never logged.
func (s *Server) SetLogger(l *slog.Logger) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logger = l
}

// Start listens on addr (e.g. "127.0.0.1:0") and serves in the background.
// It returns the endpoint, "http://HOST:PORT".
func (s *Server) Start(addr string) (endpoint string, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("start sls emulator: %w", err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	s.mu.Lock()
	if s.httpSrv != nil {
		s.mu.Unlock()
		ln.Close()
		return "", errors.New("start sls emulator: already started")
	}
	s.httpSrv = srv
	logger := s.logger
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("sls emulator stopped serving", "err", err)
		}
	}()
	return "http://" + ln.Addr().String(), nil
}

// Close stops the listener started by [Server.Start] and closes its
// connections. The stored data stays readable through the Go API, and the
// server may be started again.
func (s *Server) Close() error {
	s.mu.Lock()
	srv := s.httpSrv
	s.httpSrv = nil
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	if err := srv.Close(); err != nil {
		return fmt.Errorf("close sls emulator: %w", err)
	}
	return nil
}

// request is one API call being served.
type request struct {
	w        http.ResponseWriter
	r        *http.Request
	id       string // x-log-requestid
	project  string
	logstore string
	shard    string // shard path segment, "" if none
	query    url.Values
	body     []byte
}

// ServeHTTP serves one SLS API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rq := &request{
		w:       w,
		r:       r,
		id:      fmt.Sprintf("%08X%016X", uint32(s.started), s.seq.Add(1)),
		project: projectFromHost(r.Host),
		query:   r.URL.Query(),
	}
	w.Header().Set("x-log-requestid", rq.id)
	rt := route(rq)
	s.count(rt.op)

	e := s.serveRecovering(rq, rt)
	status := http.StatusOK
	code := ""
	if e != nil {
		writeError(w, e)
		status, code = e.status, e.code
	}
	s.mu.RLock()
	logger := s.logger
	s.mu.RUnlock()
	logger.LogAttrs(r.Context(), slog.LevelDebug, "sls request",
		slog.String("op", rt.op), slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.String("project", rq.project), slog.Int("status", status), slog.String("code", code),
		slog.String("request_id", rq.id), slog.Duration("elapsed", time.Since(start)))
}

// serveRecovering is serve, with a handler's panic answered as the
// service answers an internal failure (500 InternalServerError, JSON)
// instead of a dropped connection.
func (s *Server) serveRecovering(rq *request, rt routeMatch) (e *apiError) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			e = errorf(500, codeInternalServerError, "%s failed: %v", rt.op, v)
		}
	}()
	return s.serve(rq, rt)
}

// serve authenticates rq, applies injected faults and runs the handler.
func (s *Server) serve(rq *request, rt routeMatch) *apiError {
	if rq.r.Body != nil && rq.r.Method != http.MethodGet && rq.r.Method != http.MethodHead {
		body, err := io.ReadAll(http.MaxBytesReader(rq.w, rq.r.Body, maxBodySize))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return errorf(413, codePostBodyTooLarge, "Body size exceeds the limit of %d bytes.", maxBodySize)
			}
			return errorf(400, codePostBodyInvalid, "Cannot read the request body.")
		}
		rq.body = body
	}
	if e := s.authenticate(rq.r, rq.body); e != nil {
		return e
	}
	if e := s.applyFault(rq.r.Context(), rt.op, rq.project, rq.logstore); e != nil {
		return e
	}
	return rt.handle(s, rq)
}

// projectFromHost returns the first label of the Host header, which the SDK
// sets to "<project>.<endpoint>".
func projectFromHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	name, _, _ := strings.Cut(host, ".")
	return name
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
