package cli

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestGarbageNeverActs: command lines with an unknown flag, a flag given
// twice, an argument where flags are taken, a flag after an argument, an
// empty or bad value, arbitrary bytes: each is a usage error (exit 2) that
// reaches neither SLS nor the receiver, and never a panic.
func TestGarbageNeverActs(t *testing.T) {
	w := newWorld(t)
	w.env["SHIP_DEADLETTER_LOGSTORE"] = dlStore
	good := map[string][]string{
		"ship":     {"-event", "-", "-timeout", "1m"},
		"status":   {"-group", "siem", "-json", "-max-lag", "1h"},
		"redrive":  {"-since", "1h", "-group", "g", "-timeout", "1m"},
		"backfill": {"-from", "-1h", "-to", "now", "-chunk", "2", "-parallel", "1", "-progress", "none"},
		"check":    {"-mode", "trigger", "-strict", "-json"},
		"consume":  {},
		"serve":    {},
		"version":  {},
	}
	garbage := []func(r *rand.Rand, args []string) []string{
		func(r *rand.Rand, a []string) []string { return insert(r, a, "-"+junk(r)) },                        // unknown flag
		func(r *rand.Rand, a []string) []string { return append(a, junk(r)) },                               // a positional
		func(r *rand.Rand, a []string) []string { return append([]string{junk(r)}, a...) },                  // a flag after a positional
		func(r *rand.Rand, a []string) []string { return insert(r, a, "--"+junk(r)+"=") },                   // = form of an unknown flag
		func(r *rand.Rand, a []string) []string { return insert(r, a, string([]byte{0xff, 0, '-', 0x1b})) }, // bytes
		func(r *rand.Rand, a []string) []string { // a flag given twice, one with the = form
			if len(a) < 2 || !strings.HasPrefix(a[0], "-") {
				return append(a, "--", "x")
			}
			return append(a, a[0]+"="+a[1])
		},
	}
	r := rand.New(rand.NewPCG(17, 4))
	for i := range 200 {
		cmd := []string{"ship", "status", "redrive", "backfill", "check", "consume", "serve", "version"}[r.IntN(8)]
		args := garbage[r.IntN(len(garbage))](r, append([]string(nil), good[cmd]...))
		before := w.emu.Requests("")
		o := w.run(append([]string{cmd}, args...), "", nil)
		if o.code != ExitUsage {
			t.Fatalf("case %d: sls2siem %s %q: exit %d, want 2\n%s%s", i, cmd, args, o.code, o.stdout, o.stderr)
		}
		if n := w.emu.Requests(""); n != before {
			t.Fatalf("case %d: sls2siem %s %q: %d SLS requests for a usage error", i, cmd, args, n-before)
		}
		if o.stdout != "" || !strings.HasPrefix(o.stderr, "sls2siem "+cmd+": ") {
			t.Fatalf("case %d: sls2siem %s %q: stdout %q, stderr %q", i, cmd, args, o.stdout, o.stderr)
		}
	}
	if n := w.rcv.Count(); n != 0 {
		t.Fatalf("the receiver got %d messages from usage errors", n)
	}
}

// insert puts s at a random place of a, not inside a flag and its value.
func insert(r *rand.Rand, a []string, s string) []string {
	var at []int
	for i := 0; i <= len(a); i++ {
		if i == 0 || i == len(a) || strings.HasPrefix(a[i], "-") {
			at = append(at, i)
		}
	}
	i := at[r.IntN(len(at))]
	return append(append(append([]string(nil), a[:i]...), s), a[i:]...)
}

func junk(r *rand.Rand) string {
	const letters = "abcxyz-_=.:/ é"
	b := make([]rune, 1+r.IntN(8))
	for i := range b {
		b[i] = []rune(letters)[r.IntN(len([]rune(letters)))]
	}
	return "q" + string(b)
}
