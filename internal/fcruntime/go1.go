package fcruntime

import (
	"context"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"sls2siem/internal/secret"
)

// EnvRuntimeAPI is set by FC's go1 runtime; its presence selects that
// contract.
const EnvRuntimeAPI = "FC_RUNTIME_API"

// StartGo1 serves h through the go1 runtime API. It does not return.
// timeout is the function's timeout as configured (0: unknown): an
// invocation's deadline is at most its arrival plus timeout (Deadline).
func StartGo1(h Handler, timeout time.Duration) {
	fc.RegisterInitializerFunction(func(ctx context.Context) {})
	fc.RegisterPreFreezeFunction(func(ctx context.Context) {})
	fc.RegisterPreStopFunction(func(ctx context.Context) { h.PreStop(ctx) })
	fc.Start(func(ctx context.Context, payload []byte) (rawJSON, error) {
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
