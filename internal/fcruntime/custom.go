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

// EnvServerPort is the port the FC 3.0 custom runtime expects the server on.
const EnvServerPort = "FC_SERVER_PORT"

// DefaultServerPort is FC's default customRuntimeConfig.port.
const DefaultServerPort = 9000

// Request headers of the custom runtime contract.
const (
	hdrRequestID       = "x-fc-request-id"
	hdrAccessKeyID     = "x-fc-access-key-id"
	hdrAccessKeySecret = "x-fc-access-key-secret"
	hdrSecurityToken   = "x-fc-security-token"
	hdrDeadline        = "x-fc-function-deadline" // epoch milliseconds
	hdrTimeout         = "x-fc-function-timeout"  // seconds
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
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	// noDeadline bounds an invocation that came without a deadline.
	noDeadline = 24 * time.Hour
)

// ServerAddr returns the listen address for the custom runtime: all
// interfaces (FC requires 0.0.0.0), port from FC_SERVER_PORT (read through
// getenv) or 9000.
func ServerAddr(getenv func(string) string) (string, error) {
	port := DefaultServerPort
	if v := getenv(EnvServerPort); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			return "", fmt.Errorf("%s is %q: want a port number from 1 to 65535", EnvServerPort, v)
		}
		port = p
	}
	return net.JoinHostPort("0.0.0.0", strconv.Itoa(port)), nil
}

// NewServeMux returns the custom runtime's HTTP routes for h.
func NewServeMux(h Handler, log *slog.Logger) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /invoke", func(w http.ResponseWriter, r *http.Request) {
		serveInvoke(w, r, h, log)
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
func Serve(ctx context.Context, addr string, h Handler, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("custom runtime: listen on %s: %w", addr, err)
	}
	srv := newServer(h, log)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	log.Info("custom runtime listening", "addr", ln.Addr().String())
	select {
	case err := <-done:
		return fmt.Errorf("custom runtime: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	h.PreStop(shutdownCtx)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("custom runtime: shutdown: %w", err)
	}
	return nil
}

// newServer is the custom runtime's HTTP server.
func newServer(h Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           NewServeMux(h, log),
		ReadTimeout:       readTimeout,
		ReadHeaderTimeout: readHeaderTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

func serveInvoke(w http.ResponseWriter, r *http.Request, h Handler, log *slog.Logger) {
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
		Deadline: requestDeadline(r.Header, time.Now()),
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

// requestDeadline reads the invocation deadline: x-fc-function-deadline
// (epoch ms) if present, else now + x-fc-function-timeout.
func requestDeadline(h http.Header, now time.Time) time.Time {
	if ms, err := strconv.ParseInt(h.Get(hdrDeadline), 10, 64); err == nil && ms > 0 {
		return time.UnixMilli(ms)
	}
	if s, err := strconv.Atoi(h.Get(hdrTimeout)); err == nil && s > 0 {
		return now.Add(time.Duration(s) * time.Second)
	}
	return time.Time{}
}

// ErrorBody is the JSON error answer, shaped like the go1 runtime's.
type ErrorBody struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

func writeError(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(hdrStatus, "404")
	w.WriteHeader(http.StatusInternalServerError)
	_ = json.NewEncoder(w).Encode(ErrorBody{Message: err.Error(), Type: "HandledInvocationError"})
}
