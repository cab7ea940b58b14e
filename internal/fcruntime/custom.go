package fcruntime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"sls2siem/internal/secret"
)

// The variables naming the custom runtime's port: FC 3.0 documents
// FC_CUSTOM_LISTEN_PORT ("the function's custom listening port",
// https://www.alibabacloud.com/help/en/functioncompute/fc/environment-variables);
// FC_SERVER_PORT, which FC 3.0 does not document (the emulator's kind
// terms set it; the function read only it before), when the first is
// absent.
const (
	EnvListenPort = "FC_CUSTOM_LISTEN_PORT"
	EnvServerPort = "FC_SERVER_PORT"
)

// DefaultServerPort is FC's default customRuntimeConfig.port.
const DefaultServerPort = 9000

// Request headers of the custom runtime contract, and the status header of
// its answer.
const (
	hdrRequestID       = "x-fc-request-id"
	hdrAccessKeyID     = "x-fc-access-key-id"
	hdrAccessKeySecret = "x-fc-access-key-secret"
	hdrSecurityToken   = "x-fc-security-token"
	hdrStatus          = "x-fc-status"
)

// maxEventSize bounds the request body: SLS trigger and timer events are
// well under a kilobyte, plus the trigger's functionParameter.
const maxEventSize = 1 << 20

// Bounds of the server, as a well-kept net/http server has them. An
// invocation's own answer may take until its deadline: serveInvoke moves
// the write deadline there.
const (
	readTimeout       = 30 * time.Second
	readHeaderTimeout = 10 * time.Second
	writeTimeout      = 30 * time.Second
	maxHeaderBytes    = 64 << 10
	// noDeadline bounds an invocation that came without a deadline.
	noDeadline = 24 * time.Hour
)

// shutdownTimeout bounds how long a stopping server lets the invocations
// in flight finish.
const shutdownTimeout = 30 * time.Second

// IdleTimeout is how long the server keeps an idle connection. FC keeps
// its connections to the server alive across invocations and across the
// freezes between them, and requires the server to keep idle connections
// 15 minutes or more; a server that closes one first fails the next
// invocation with "Process exited unexpectedly before completing request"
// (https://www.alibabacloud.com/help/doc-detail/209248.htm). Twice that:
// the server's timers run on as soon as FC thaws the instance, in the
// instant the next request arrives.
const IdleTimeout = 30 * time.Minute

// MinIdleTimeout is FC's minimum for IdleTimeout.
const MinIdleTimeout = 15 * time.Minute

// ServerAddr returns the listen address for the custom runtime: all
// interfaces (FC requires 0.0.0.0), port from FC_CUSTOM_LISTEN_PORT, else
// FC_SERVER_PORT (read through getenv), else 9000.
func ServerAddr(getenv func(string) string) (string, error) {
	port := DefaultServerPort
	for _, name := range []string{EnvListenPort, EnvServerPort} {
		v := getenv(name)
		if v == "" {
			continue
		}
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			return "", fmt.Errorf("%s is %q: want a port number from 1 to 65535", name, v)
		}
		port = p
		break
	}
	return net.JoinHostPort("0.0.0.0", strconv.Itoa(port)), nil
}

// Server is the custom runtime's HTTP server of a Handler.
type Server struct {
	Handler Handler
	Log     *slog.Logger
	// Timeout is the function's timeout as configured (0: unknown): an
	// invocation's deadline is at most its arrival plus Timeout (Deadline).
	Timeout time.Duration
}

// NewServeMux returns the custom runtime's HTTP routes.
func (s Server) NewServeMux() *http.ServeMux {
	h := s.Handler
	mux := http.NewServeMux()
	mux.HandleFunc("POST /invoke", func(w http.ResponseWriter, r *http.Request) {
		s.serveInvoke(w, r)
	})
	mux.HandleFunc("POST /initialize", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("GET /pre-freeze", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("GET /pre-stop", func(w http.ResponseWriter, r *http.Request) {
		h.PreStop(r.Context())
		w.WriteHeader(http.StatusOK)
	})
	return mux
}

// Serve runs the custom runtime server on addr until ctx is done, then
// shuts it down, letting invocations in flight finish.
func (s Server) Serve(ctx context.Context, addr string) error {
	h, log := s.Handler, s.Log
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("custom runtime: listen on %s: %w", addr, err)
	}
	srv := s.newServer()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	log.Info("custom runtime listening", "addr", ln.Addr().String())
	select {
	case err := <-done:
		return fmt.Errorf("custom runtime: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	h.PreStop(shutdownCtx)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("custom runtime: shutdown: %w", err)
	}
	return nil
}

// newServer is the net/http server of s.
func (s Server) newServer() *http.Server {
	return &http.Server{
		Handler:           s.NewServeMux(),
		ReadTimeout:       readTimeout,
		ReadHeaderTimeout: readHeaderTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn),
	}
}

func (s Server) serveInvoke(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	h, log := s.Handler, s.Log
	payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventSize))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		err = fmt.Errorf("the event is larger than %d bytes", maxEventSize)
	}
	if err != nil {
		writeError(w, fmt.Errorf("read the event: %w", err))
		return
	}
	req := Request{
		ID:      r.Header.Get(hdrRequestID),
		Payload: payload,
		Credentials: secret.Credentials{
			AccessKeyID:     r.Header.Get(hdrAccessKeyID),
			AccessKeySecret: r.Header.Get(hdrAccessKeySecret),
			SecurityToken:   r.Header.Get(hdrSecurityToken),
		},
		Deadline: Deadline(headerDeadline(r.Header, arrived), arrived, s.Timeout),
	}
	ctx := r.Context()
	answerBy := time.Now().Add(noDeadline)
	if !req.Deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, req.Deadline)
		defer cancel()
		answerBy = req.Deadline.Add(writeTimeout)
	}
	_ = http.NewResponseController(w).SetWriteDeadline(answerBy)
	out, err := invoke(ctx, h, req, log)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if _, err := w.Write(out); err != nil {
		log.Warn("custom runtime: write the answer", "requestId", req.ID, "error", err.Error())
	}
}

// invoke calls the handler and turns a panic into the invocation's error,
// as the go1 runtime does: the instance goes on serving.
func invoke(ctx context.Context, h Handler, req Request, log *slog.Logger) (out []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			log.Error("invocation panicked", "requestId", req.ID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			out, err = nil, fmt.Errorf("the invocation panicked: %v", v)
		}
	}()
	return h.Invoke(ctx, req)
}

// ErrorBody is the JSON error answer, shaped like the go1 runtime's.
type ErrorBody struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

// writeError answers a failed invocation as FC 3.0 documents it: status
// 404 and x-fc-status: 404 (Event handlers,
// https://www.alibabacloud.com/help/en/fc/user-guide/event-handlers-1),
// with the go1 runtime's {"errorMessage","errorType"} body.
func writeError(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(hdrStatus, strconv.Itoa(http.StatusNotFound))
	w.WriteHeader(http.StatusNotFound)
	_ = json.NewEncoder(w).Encode(ErrorBody{Message: err.Error(), Type: "HandledInvocationError"})
}
