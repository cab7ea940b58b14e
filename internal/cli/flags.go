package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// newFlags returns a command's flag set, silent: parseFlags says what is
// wrong.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses a command's arguments: -h, -help or --help anywhere
// (before "--") asks for the usage (flag.ErrHelp) whatever else is there;
// an unknown flag, a bad value, a flag given twice or an argument left over
// is a *UsageError.
func parseFlags(fs *flag.FlagSet, args []string) error {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" || a == "--h" {
			return flag.ErrHelp
		}
	}
	repeated := once(fs)
	if err := fs.Parse(args); err != nil {
		if *repeated != "" {
			return usagef("-%s is given twice: give it once", *repeated)
		}
		return &UsageError{Msg: flagError(err)}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q: %s takes flags only", fs.Arg(0), fs.Name())
	}
	return nil
}

// flagError rewords the flag package's errors.
func flagError(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return fmt.Sprintf("unknown flag %q", name)
	}
	return msg
}

// once makes every flag of fs refuse a second value; the name of a flag
// given twice is then in *repeated.
func once(fs *flag.FlagSet) (repeated *string) {
	repeated = new(string)
	fs.VisitAll(func(f *flag.Flag) {
		f.Value = &onceValue{Value: f.Value, name: f.Name, repeated: repeated}
	})
	return repeated
}

// onceValue is a flag that may be given once.
type onceValue struct {
	flag.Value
	name     string
	set      bool
	repeated *string
}

func (v *onceValue) Set(s string) error {
	if v.set {
		*v.repeated = v.name
		return fmt.Errorf("-%s is given twice", v.name)
	}
	v.set = true
	return v.Value.Set(s)
}

func (v *onceValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// flagDefaults renders the flags of fs as flag.PrintDefaults does.
func flagDefaults(fs *flag.FlagSet) string {
	var b bytes.Buffer
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	if b.Len() == 0 {
		return ""
	}
	return "\nFlags:\n" + b.String()
}

// isHelp reports whether err asks for the usage.
func isHelp(err error) bool { return errors.Is(err, flag.ErrHelp) }
