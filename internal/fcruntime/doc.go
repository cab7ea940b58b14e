// Package fcruntime connects a Handler to Function Compute under either of
// its two contracts: the go1 runtime's invocation API (through
// fc-runtime-go-sdk) and the FC 3.0 custom runtime's HTTP server
// (POST /invoke, /initialize, /pre-freeze, /pre-stop).
package fcruntime

import (
	"context"
	"time"
)

// Credentials are the STS credentials FC hands each invocation. They print
// redacted, so that they cannot leak into a log line by accident.
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

// String redacts the secret and the token.
func (c Credentials) String() string {
	return "Credentials{AccessKeyID:" + c.AccessKeyID + " AccessKeySecret:<redacted> SecurityToken:<redacted>}"
}

// GoString redacts like String.
func (c Credentials) GoString() string { return c.String() }

// Request is one invocation.
type Request struct {
	ID          string
	Payload     []byte
	Credentials Credentials
	Deadline    time.Time // zero when FC gave none
}

// Handler is the function.
type Handler interface {
	// Invoke handles one event and returns the JSON answer.
	Invoke(ctx context.Context, req Request) ([]byte, error)
	// PreStop runs before FC stops the instance.
	PreStop(ctx context.Context)
}
