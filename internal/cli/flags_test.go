package cli

import (
	"flag"
	"regexp"
	"testing"
)

// argName is what a flag's argument name must look like in -h: a
// placeholder such as FILE, D or HOST:PORT. Go's flag package takes the
// first `backquoted` text of a usage string as the name, so a backquoted
// command in a usage ("`sls2siem redrive`") would print as one; without
// backquotes it prints the value's type ("string", "duration").
var argName = regexp.MustCompile(`^[A-Z][A-Z0-9]*([:._-][A-Z0-9]+)*$`)

// checkFlagNames fails for every non-boolean flag of fs whose -h argument
// name is not a placeholder.
func checkFlagNames(t *testing.T, fs *flag.FlagSet) {
	t.Helper()
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		name, _ := flag.UnquoteUsage(f)
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			if name != "" {
				t.Errorf("%s -%s: a boolean flag shows the argument %q", fs.Name(), f.Name, name)
			}
			return
		}
		if !argName.MatchString(name) {
			t.Errorf("%s -%s prints as \"-%s %s\": backquote the placeholder of its usage (FILE, D, N…) and nothing else", fs.Name(), f.Name, f.Name, name)
		}
	})
	if n == 0 {
		t.Errorf("%s has no flags", fs.Name())
	}
}

// TestFlagHelpNamesArguments: every flag of every command prints with a
// placeholder argument in -h.
func TestFlagHelpNamesArguments(t *testing.T) {
	for _, fs := range []*flag.FlagSet{
		(&shipCmd{}).flags(), (&statusCmd{}).flags(), (&redriveCmd{}).flags(),
		(&backfillCmd{}).flags(), (&checkCmd{}).flags(),
	} {
		checkFlagNames(t, fs)
	}
}
