package config

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEListsEveryVariable fails when the code reads a variable the
// README's configuration table does not list.
func TestREADMEListsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Z0-9_]+)` \\|").FindAllStringSubmatch(string(readme), -1) {
		rows[m[1]] = true
	}
	for _, v := range Vars {
		if !rows[v] {
			t.Errorf("README.md's configuration table has no row for %s", v)
		}
	}
	// And every variable named in the code of this package is in Vars.
	src, err := os.ReadFile("vars.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`= "([A-Z0-9_]+)"`).FindAllStringSubmatch(string(src), -1) {
		if !strings.Contains(strings.Join(Vars, " "), m[1]) {
			t.Errorf("%s is declared but missing from Vars", m[1])
		}
	}
}
