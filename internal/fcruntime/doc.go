// Package fcruntime connects a Handler to Function Compute under either of
// its two contracts: the go1 runtime's invocation API (through
// fc-runtime-go-sdk) and the FC 3.0 custom runtime's HTTP server
// (POST /invoke, /initialize, /pre-freeze, /pre-stop).
package fcruntime

import (
	"context"
	"time"

	"sls2siem/internal/secret"
)

// Request is one invocation.
type Request struct {
	ID          string
	Payload     []byte
	Credentials secret.Credentials // the invocation's STS credentials; they print redacted
	Deadline    time.Time          // zero when FC gave none
}

// Handler is the function.
type Handler interface {
	// Invoke handles one event and returns the JSON answer.
	Invoke(ctx context.Context, req Request) ([]byte, error)
	// PreStop runs before FC stops the instance.
	PreStop(ctx context.Context)
}
