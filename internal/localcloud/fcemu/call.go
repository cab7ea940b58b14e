package fcemu

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Result is the outcome of one invocation the function answered (or that
// timed out).
type Result struct {
	RequestID string
	Payload   []byte         // the function's response body
	Err       *FunctionError // the function's error, nil on success
	Duration  time.Duration  // from delivery to the answer
	// StatusCode is the HTTP status a custom runtime answered with (0 for
	// go1 and timeouts). FC documents 200 for success and 404 for failure
	// (Event handlers, https://www.alibabacloud.com/help/en/fc/user-guide/event-handlers-1).
	StatusCode int
}

// FunctionError is an error reported by the function itself (or a timeout).
type FunctionError struct {
	Type, Message string
}

func (e *FunctionError) Error() string {
	if e.Type == "" {
		return e.Message
	}
	return e.Type + ": " + e.Message
}

// TypeFunctionTimeout is the [FunctionError] Type of an invocation that got
// no answer within [Config.Timeout].
const TypeFunctionTimeout = "FunctionTimeout"

// Infrastructure errors returned by [Instance.Invoke].
var (
	// ErrProcessExited: the function process exited (or was killed) while
	// the invocation was in flight. The error text names the exit status.
	ErrProcessExited = errors.New("function process exited")
	// ErrStopped: the instance was stopped.
	ErrStopped = errors.New("fcemu: instance stopped")
)

// funcType is the x-fc-function-type of a call.
type funcType int

const (
	typeHandler     funcType = 0
	typeInitializer funcType = 1
	typePreStop     funcType = 2
	typePreFreeze   funcType = 3
)

func (t funcType) String() string {
	switch t {
	case typeInitializer:
		return "initializer"
	case typePreStop:
		return "pre-stop"
	case typePreFreeze:
		return "pre-freeze"
	default:
		return "invocation"
	}
}

// call is one request to the function: an invocation or a lifecycle hook.
type call struct {
	id      string
	typ     funcType
	body    []byte
	header  http.Header // x-fc-* headers, without the deadline
	timeout time.Duration
	// deadlineHeader: deliver adds x-fc-function-deadline.
	deadlineHeader bool

	delivered chan struct{} // closed when the function gets the call
	answered  chan struct{} // closed when the function answers
	abandon   chan struct{} // closed when the caller gives up before delivery

	once     sync.Once // guards delivered and the fields below
	deadline time.Time
	sentAt   time.Time

	answerOnce sync.Once // guards answered and the fields below
	payload    []byte
	ferr       *FunctionError
	infraErr   error // the call could not be completed (transport failure)
	status     int   // custom runtime: the answer's HTTP status
	doneAt     time.Time
}

func newCall(typ funcType, body []byte, header http.Header, timeout time.Duration, deadlineHeader bool) *call {
	return &call{
		id:             newRequestID(),
		typ:            typ,
		body:           body,
		header:         header,
		timeout:        timeout,
		deadlineHeader: deadlineHeader,
		delivered:      make(chan struct{}),
		answered:       make(chan struct{}),
		abandon:        make(chan struct{}),
	}
}

// deliver marks the call as handed to the function and returns the headers to
// send with it, with the request id and (if the terms send it) the deadline.
func (c *call) deliver() http.Header {
	c.once.Do(func() {
		c.sentAt = time.Now()
		c.deadline = c.sentAt.Add(c.timeout)
		close(c.delivered)
	})
	h := c.header.Clone()
	h.Set("x-fc-request-id", c.id)
	if c.deadlineHeader {
		h.Set("x-fc-function-deadline", strconv.FormatInt(c.deadline.UnixMilli(), 10))
	}
	return h
}

// answer records the function's answer, or the transport failure infraErr.
// Only the first answer counts; it reports whether this one did.
func (c *call) answer(payload []byte, ferr *FunctionError, infraErr error) bool {
	return c.answerHTTP(0, payload, ferr, infraErr)
}

// answerHTTP is answer with the HTTP status of a custom runtime's answer.
func (c *call) answerHTTP(status int, payload []byte, ferr *FunctionError, infraErr error) bool {
	ok := false
	c.answerOnce.Do(func() {
		c.status, c.payload, c.ferr, c.infraErr, c.doneAt = status, payload, ferr, infraErr, time.Now()
		close(c.answered)
		ok = true
	})
	return ok
}

// result builds the Result of an answered call.
func (c *call) result() *Result {
	return &Result{RequestID: c.id, Payload: c.payload, Err: c.ferr, Duration: c.doneAt.Sub(c.sentAt), StatusCode: c.status}
}

// newRequestID returns a random UUID-shaped (version 4) request id.
func newRequestID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("fcemu: crypto/rand: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	s := hex.EncodeToString(b[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}
