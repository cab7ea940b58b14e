package cli

import (
	"context"
	"os"
)

// hardKey holds, in the context of a command, the context that only a
// second signal cancels.
type hardKey struct{}

// withSignals returns the context of a command: cancelled (cause
// errInterrupted) by the first SIGINT or SIGTERM of sigs; the context
// hardContext returns is cancelled by the second. stop releases them.
func withSignals(parent context.Context, sigs <-chan os.Signal) (ctx context.Context, stop func()) {
	hard, cancelHard := context.WithCancelCause(parent)
	soft, cancelSoft := context.WithCancelCause(hard)
	done := make(chan struct{})
	go func() {
		for n := 0; n < 2; n++ {
			select {
			case <-sigs:
			case <-done:
				return
			}
			if n == 0 {
				cancelSoft(errInterrupted)
			} else {
				cancelHard(errInterrupted)
			}
		}
	}()
	return context.WithValue(soft, hardKey{}, hard), func() {
		close(done)
		cancelSoft(nil)
		cancelHard(nil)
	}
}

// hardContext is the context of ctx that only a second signal cancels (ctx
// itself without one).
func hardContext(ctx context.Context) context.Context {
	if h, ok := ctx.Value(hardKey{}).(context.Context); ok {
		return h
	}
	return ctx
}
