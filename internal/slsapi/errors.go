package slsapi

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

// CodeError is an error answered by SLS: its error code (InvalidCursor,
// Unauthorized, ProjectNotExist, …), so that callers can tell them apart
// with errors.As, and what identifies the answer.
type CodeError struct {
	Code       string
	HTTPStatus int
	Message    string
	RequestID  string
}

func (e *CodeError) Error() string {
	s := fmt.Sprintf("SLS error %s (HTTP %d)", e.Code, e.HTTPStatus)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RequestID != "" {
		s += " (request id " + e.RequestID + ")"
	}
	return s
}

// IsCode reports whether err is an SLS error with the code.
func IsCode(err error, code string) bool {
	var ce *CodeError
	return errors.As(err, &ce) && ce.Code == code
}

// UnreachableError is an endpoint that could not be connected to (a name
// that does not resolve, a refused or timed-out connection, a failed TLS
// handshake).
type UnreachableError struct {
	Endpoint string
	Err      error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("SLS endpoint %s unreachable: %v", e.Endpoint, NetCause(e.Err))
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// describe turns the error of an SDK call made with call into one that
// says what was done, the SLS error code or the network cause, and never
// the credentials.
func describe(ctx context.Context, what, endpoint string, call *Call, err error) error {
	if r := call.Refused(); r != nil {
		return fmt.Errorf("%s: %w", what, r)
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		if cause := context.Cause(ctx); cause != ctx.Err() {
			return fmt.Errorf("%s: stopped before %s answered (%v): %w", what, endpoint, cause, ctx.Err())
		}
		return fmt.Errorf("%s: stopped before %s answered: %w", what, endpoint, ctx.Err())
	}
	if ctx.Err() != nil {
		cause := ""
		if ne := call.NetErr(); ne != nil && !errors.Is(ne, context.Canceled) && !errors.Is(ne, context.DeadlineExceeded) {
			cause = fmt.Sprintf(" (last network error from %s: %v)", endpoint, NetCause(ne))
		}
		return fmt.Errorf("%s: no answer from %s in time%s: %w", what, endpoint, cause, ctx.Err())
	}
	if ne := call.NetErr(); ne != nil {
		return fmt.Errorf("%s: SLS endpoint %s: %v", what, endpoint, NetCause(ne))
	}
	return Describe(what, err)
}

// Describe names the SLS error code of a failed SDK call, the HTTP status
// and the request id (wrapping a *CodeError), and never the credentials.
func Describe(what string, err error) error {
	var slsErr *sls.Error
	var badResp *sls.BadResponseError
	switch {
	case errors.As(err, &slsErr):
		if slsErr.HTTPCode <= 0 {
			return clientError(what, slsErr.Message)
		}
		return fmt.Errorf("%s: %w", what, &CodeError{Code: slsErr.Code, HTTPStatus: int(slsErr.HTTPCode),
			Message: slsErr.Message, RequestID: slsErr.RequestID})
	case errors.As(err, &badResp):
		return fmt.Errorf("%s: unexpected answer (HTTP %d): not an SLS endpoint?", what, badResp.HTTPCode)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// clientError describes the SDK's ClientError: an answer it could not
// read (its message is then the answer, dumped as JSON), or its own
// failure.
func clientError(what, msg string) error {
	var bad sls.BadResponseError
	if json.Unmarshal([]byte(msg), &bad) == nil && bad.HTTPCode != 0 {
		ct := http.Header(bad.RespHeader).Get("Content-Type")
		return fmt.Errorf("%s: unexpected answer (HTTP %d, %s): not an SLS endpoint?", what, bad.HTTPCode, cmp.Or(ct, "no content type"))
	}
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return fmt.Errorf("%s: %s", what, msg)
}

// NetCause strips the request URL (long, and of no help) from a network
// error, and the dialer's wording around the cause.
func NetCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var de *dialError
	if errors.As(err, &de) {
		err = de.err
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return fmt.Errorf("cannot resolve %s: %s", dns.Name, dns.Err)
	}
	return err
}
