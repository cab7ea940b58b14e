// Package field is the error of a configuration struct's Validate method
// (format.Options, transport.Config): it names the field at fault and the
// other fields the problem involves, so that a caller that fills the
// struct from its own names (internal/config, from environment variables)
// can say the problem in those names.
package field

import (
	"errors"
	"fmt"
	"regexp"
)

// Error is a problem with the field Field. Text describes it; "{Name}" in
// Text refers to another field.
type Error struct {
	Field string
	Text  string
}

// Errorf returns an *Error of field; the format's "{Name}" refer to other
// fields.
func Errorf(field, format string, args ...any) *Error {
	return &Error{Field: field, Text: fmt.Sprintf(format, args...)}
}

var ref = regexp.MustCompile(`\{([A-Za-z][A-Za-z0-9]*)\}`)

// Error says the problem with the struct's own field names.
func (e *Error) Error() string { return e.Render(func(f string) string { return f }) }

// Render says the problem with the names name gives the fields.
func (e *Error) Render(name func(field string) string) string {
	return name(e.Field) + " " + ref.ReplaceAllStringFunc(e.Text, func(m string) string {
		return name(m[1 : len(m)-1])
	})
}

// All returns the *Errors in err (a single one, or a join of them, as a
// Validate method returns); ok is false when err holds anything else.
func All(err error) (errs []*Error, ok bool) {
	if err == nil {
		return nil, true
	}
	var fe *Error
	if errors.As(err, &fe) && fe == err {
		return []*Error{fe}, true
	}
	j, isJoin := err.(interface{ Unwrap() []error })
	if !isJoin {
		return nil, false
	}
	for _, e := range j.Unwrap() {
		sub, ok := All(e)
		if !ok {
			return nil, false
		}
		errs = append(errs, sub...)
	}
	return errs, true
}
