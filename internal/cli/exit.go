package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"sls2siem/internal/config"
)

// The exit statuses of every command: the one table (docs/commands.md
// has the same).
const (
	// ExitOK: success.
	ExitOK = 0
	// ExitFailure: a runtime failure: something could not be done or
	// shipped; running again retries it.
	ExitFailure = 1
	// ExitUsage: a usage or configuration error; nothing was attempted.
	ExitUsage = 2
	// ExitLost: data the tool can no longer ship (expired ranges), or a
	// lag alert (status -max-lag).
	ExitLost = 3
	// ExitInterrupted: stopped by SIGINT or SIGTERM, with what was done
	// saved (128 + SIGINT, as a shell reports it).
	ExitInterrupted = 130
)

// UsageError is a bad command line: Main prints it and the command's usage
// on stderr (a hint to it when Short), and exits ExitUsage.
type UsageError struct {
	Msg   string
	Short bool // a bad value: the usage would hide the message
}

func (e *UsageError) Error() string { return e.Msg }

// usagef is a usage error: an unknown flag, a missing argument.
func usagef(format string, args ...any) error { return &UsageError{Msg: fmt.Sprintf(format, args...)} }

// badValue is a usage error of a flag's value.
func badValue(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...), Short: true}
}

// exitError is an error with its exit status. Reported errors were said
// already (a log line, a summary): Main does not print them again.
type exitError struct {
	code     int
	err      error
	reported bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withCode gives err the exit status code.
func withCode(code int, err error) error { return &exitError{code: code, err: err} }

// reported marks err as said already, with the exit status code.
func reported(code int, err error) error { return &exitError{code: code, err: err, reported: true} }

// errInterrupted is the cause of the contexts Main cancels on a signal.
var errInterrupted = errors.New("interrupted")

// exitCode maps a command's error to its exit status.
func exitCode(ctx context.Context, err error) int {
	var ee *exitError
	var ue *UsageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue), config.Problems(err) != nil:
		return ExitUsage
	case errors.Is(context.Cause(ctx), errInterrupted):
		return ExitInterrupted
	}
	return ExitFailure
}
