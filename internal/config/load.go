package config

import (
	"errors"
	"fmt"
	"strings"

	"sls2siem/internal/field"
	"sls2siem/internal/secret"
)

// Error is one configuration problem. Its message names the variable,
// shows the value (quoted and cut, never a secret) and says what is
// accepted.
type Error struct {
	Var     string // the variable at fault
	Missing bool   // it is required and not set
	Msg     string
}

func (e *Error) Error() string { return e.Msg }

// Errors are every problem of a configuration.
type Errors []*Error

func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, p := range e {
		lines[i] = p.Msg
	}
	return "invalid configuration: " + strings.Join(lines, "\n")
}

// loader reads the variables of one use through getenv, collecting every
// problem and the warnings of settings that are valid but weaken security.
type loader struct {
	getenv func(string) string
	use    Use
	errs   Errors
	warns  []string
}

// decl returns the declaration of name, which the loader's use must read.
func (l *loader) decl(name string) Var {
	v, ok := byName[name]
	if !ok || v.Uses&l.use == 0 {
		panic(fmt.Sprintf("config: %s is read for %s but not declared for it", name, l.use))
	}
	return v
}

// raw is the variable's value, spaces around it removed.
func (l *loader) raw(name string) string {
	l.decl(name)
	return strings.TrimSpace(l.getenv(name))
}

// get parses the variable: its value and true when it is set and valid;
// the default (nil when there is none) and false otherwise.
func (l *loader) get(name string) (any, bool) {
	d := l.decl(name)
	raw := l.raw(name)
	if raw != "" {
		v, err := d.parse(raw)
		if err == nil {
			return v, true
		}
		l.invalid(d, raw, err)
	}
	if d.Default == "" {
		return nil, false
	}
	v, err := d.parse(d.Default)
	if err != nil {
		panic(fmt.Sprintf("config: the default of %s does not parse: %v", name, err))
	}
	return v, false
}

// set reports whether the variable is set.
func (l *loader) set(name string) bool { return l.raw(name) != "" }

// invalid records that raw is not a valid value of d.
func (l *loader) invalid(d Var, raw string, err error) {
	msg := err.Error()
	if n, ok := err.(interface{ forVar(string) string }); ok {
		msg = n.forVar(d.Name)
	}
	l.errs = append(l.errs, &Error{Var: d.Name, Msg: fmt.Sprintf("%s is %s: %s", d.Name, quote(d, raw), msg)})
}

// quote shows a value in a message: never a secret's.
func quote(d Var, v string) string {
	if d.Secret {
		return fmt.Sprintf("<%d bytes, not shown>", len(v))
	}
	return secret.Quote(v)
}

// fail records a problem of name; the message follows the name.
func (l *loader) fail(name, format string, args ...any) {
	l.errs = append(l.errs, &Error{Var: name, Msg: name + " " + fmt.Sprintf(format, args...)})
}

// missing records that a required variable is not set.
func (l *loader) missing(name, what string) {
	l.errs = append(l.errs, &Error{Var: name, Missing: true, Msg: fmt.Sprintf("%s is not set: give %s", name, what)})
}

// required reads a variable the use requires (as declared), or records
// that it is missing.
func (l *loader) required(name, what string) (any, bool) {
	d := l.decl(name)
	if d.Required&l.use != 0 && !l.set(name) {
		l.missing(name, what)
		return nil, false
	}
	return l.get(name)
}

func (l *loader) warn(name, format string, args ...any) {
	l.warns = append(l.warns, name+" "+fmt.Sprintf(format, args...))
}

// validated records the problems a Validate method found (field.Error
// values), said with the variables names gives the fields.
func (l *loader) validated(err error, names map[string]string) {
	errs, ok := field.All(err)
	if !ok {
		l.errs = append(l.errs, &Error{Msg: err.Error()})
		return
	}
	name := func(f string) string {
		if n, ok := names[f]; ok {
			return n
		}
		return f
	}
	for _, e := range errs {
		l.errs = append(l.errs, &Error{Var: name(e.Field), Msg: e.Render(name)})
	}
}

// typed values of get; the zero value when there is none.

func (l *loader) str(name string) string {
	v, _ := l.get(name)
	s, _ := v.(string)
	return s
}

func (l *loader) strs(name string) []string {
	v, _ := l.get(name)
	s, _ := v.([]string)
	return s
}

func (l *loader) boolean(name string) bool {
	v, _ := l.get(name)
	b, _ := v.(bool)
	return b
}

func (l *loader) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	return l.errs
}

// Problems returns the problems in err (an error of Load), or nil.
func Problems(err error) Errors {
	var errs Errors
	if errors.As(err, &errs) {
		return errs
	}
	return nil
}
