package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestUsage: -h prints the usage and nothing else happens (flag.ErrHelp),
// every flag shows a placeholder argument (Go's flag package takes
// `backquoted` usage text as the argument's name), and docs/local-cloud.md
// shows exactly this usage.
func TestUsage(t *testing.T) {
	var out bytes.Buffer
	if _, err := parseFlags([]string{"-h"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v, want flag.ErrHelp", err)
	}
	usage := out.String()
	placeholder := regexp.MustCompile(`(?m)^  -([a-z-]+)(?: (\S+))?(\t|\n)`)
	flags := placeholder.FindAllStringSubmatch(usage, -1)
	if len(flags) < 10 {
		t.Fatalf("-h lists %d flags:\n%s", len(flags), usage)
	}
	for _, m := range flags {
		if m[2] != "" && !regexp.MustCompile(`^[A-Z][A-Z:]*$`).MatchString(m[2]) {
			t.Errorf("-%s prints its argument as %q: backquote a placeholder (FILE, D, N…) in its usage, nothing else", m[1], m[2])
		}
	}

	page, err := os.ReadFile("../../../../docs/local-cloud.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(page), "\n## localcloud's flags\n")
	_, block, ok2 := strings.Cut(sec, "\n```\n")
	block, _, ok3 := strings.Cut(block, "\n```\n")
	if !ok || !ok2 || !ok3 {
		t.Fatal("docs/local-cloud.md has no block under \"## localcloud's flags\"")
	}
	if block != strings.TrimSuffix(usage, "\n") {
		t.Errorf("docs/local-cloud.md shows:\n%s\nlocalcloud -h prints:\n%s", block, usage)
	}
}

// TestBadFlags: an unknown flag or an argument is a usage error.
func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-nope"}, {"serve"}} {
		var out bytes.Buffer
		if _, err := parseFlags(args, &out); err == nil || errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "Usage: localcloud") {
			t.Errorf("%v: %v, printed:\n%s", args, err, out.String())
		}
	}
}
