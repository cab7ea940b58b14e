package fcruntime

import (
	"context"
	"sync"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"sls2siem/internal/secret"
)

// EnvRuntimeAPI is set by FC's go1 runtime; its presence selects that
// contract.
const EnvRuntimeAPI = "FC_RUNTIME_API"

// ServeGo1 serves h through the go1 runtime API until ctx ends (FC stops
// an instance with SIGTERM); then it lets the invocations in flight finish
// (for up to shutdownTimeout, as the custom runtime's server does), runs
// h.PreStop and returns. timeout is the function's timeout as configured
// (0: unknown): an invocation's deadline is at most its arrival plus
// timeout (Deadline).
func ServeGo1(ctx context.Context, h Handler, timeout time.Duration) {
	var inflight inFlight
	fc.RegisterInitializerFunction(func(ctx context.Context) {})
	fc.RegisterPreFreezeFunction(func(ctx context.Context) {})
	fc.RegisterPreStopFunction(func(ctx context.Context) { h.PreStop(ctx) })
	go fc.Start(func(ctx context.Context, payload []byte) (rawJSON, error) {
		inflight.add()
		defer inflight.done()
		arrived := time.Now()
		req := Request{Payload: payload}
		if fctx, ok := fccontext.FromContext(ctx); ok {
			req.ID = fctx.RequestID
			req.Credentials = secret.Credentials{
				AccessKeyID:     fctx.Credentials.AccessKeyId,
				AccessKeySecret: fctx.Credentials.AccessKeySecret,
				SecurityToken:   fctx.Credentials.SecurityToken,
			}
		}
		sdkDeadline, _ := ctx.Deadline() // fc-runtime-go-sdk's, from x-fc-function-deadline
		req.Deadline = Deadline(sdkDeadline, arrived, timeout)
		if !req.Deadline.IsZero() {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, req.Deadline)
			defer cancel()
		}
		return h.Invoke(ctx, req)
	})
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	inflight.wait(stopCtx)
	h.PreStop(stopCtx)
}

// inFlight counts the invocations in flight.
type inFlight struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0
}

func (f *inFlight) add() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		f.idle = make(chan struct{})
	}
	f.n++
}

func (f *inFlight) done() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n--; f.n == 0 {
		close(f.idle)
	}
}

// wait returns once no invocation is in flight, or when ctx ends.
func (f *inFlight) wait(ctx context.Context) {
	f.mu.Lock()
	if f.n == 0 {
		f.mu.Unlock()
		return
	}
	idle := f.idle
	f.mu.Unlock()
	select {
	case <-idle:
	case <-ctx.Done():
	}
}

// rawJSON is returned to the SDK, which marshals it as it is.
type rawJSON []byte

// MarshalJSON returns r itself.
func (r rawJSON) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("null"), nil
	}
	return r, nil
}
