package config

import (
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

var everyUse = []Use{UseTrigger, UseTimer, UseShip, UseConsume, UseStatus, UseRedrive, UseRedriveFC, UseBackfill}

// TestDeclarationsAreComplete: every declaration has a use, a doc line, a
// parser its default passes, and requires nothing it does not read.
func TestDeclarationsAreComplete(t *testing.T) {
	for _, v := range Vars {
		switch {
		case v.Uses == 0 || v.Doc == "" || v.parse == nil:
			t.Errorf("%s: uses %v, doc %q, parser %v", v.Name, v.Uses, v.Doc, v.parse != nil)
		case v.Required&^v.Uses != 0:
			t.Errorf("%s is required by %s, which do not read it", v.Name, v.Required&^v.Uses)
		case v.Default != "" && v.Shown != "":
			t.Errorf("%s has a default and says another", v.Name)
		}
		if v.Default != "" {
			if _, err := v.parse(v.Default); err != nil {
				t.Errorf("the default of %s, %q, does not parse: %v", v.Name, v.Default, err)
			}
		}
	}
}

// TestUsesReadWhatTheyDeclare: Load for a use reads exactly the variables
// declared for it (Function Compute's own excepted: the command layer and
// the runtime read them), whatever the protocol.
func TestUsesReadWhatTheyDeclare(t *testing.T) {
	for _, u := range everyUse {
		read := map[string]bool{}
		for _, proto := range []string{"", "tls", "relp-tls", "udp"} {
			Load(func(k string) string {
				read[k] = true
				if k == VarSyslogProtocol {
					return proto
				}
				return ""
			}, u)
		}
		var got, want []string
		for k := range read {
			got = append(got, k)
		}
		for _, n := range Names(u) {
			if v, _ := Lookup(n); !v.ByFC {
				want = append(want, n)
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s reads %v\nbut declares %v", u, got, want)
		}
	}
}

// TestConfigurationPageDocumentsTheDeclarations: docs/configuration.md's
// table has one row per variable, in the order of Vars, with the declared
// default; the variables FC sets are named in its prose instead.
func TestConfigurationPageDocumentsTheDeclarations(t *testing.T) {
	page, err := os.ReadFile(configurationPage)
	if err != nil {
		t.Fatal(err)
	}
	// The table of variables, without the generated one below it.
	readme, _, _ := strings.Cut(string(page), "\n## Which command reads what\n")
	rows := map[string]string{}
	var order []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Z0-9_]+)` \\| ([^|]*(?:\\\\\\|[^|]*)*)\\|").FindAllStringSubmatch(readme, -1) {
		rows[m[1]] = strings.TrimSpace(m[2])
		order = append(order, m[1])
	}
	var declared []string
	for _, v := range Vars {
		if !v.ByFC {
			declared = append(declared, v.Name)
		}
	}
	if !slices.Equal(order, declared) {
		t.Errorf("docs/configuration.md's table lists\n%v\nVars declares, in this order,\n%v", order, declared)
	}
	for _, v := range Vars {
		cell, ok := rows[v.Name]
		switch {
		case v.ByFC:
			if ok || !strings.Contains(readme, "`"+v.Name+"`") {
				t.Errorf("docs/configuration.md: %s, set by FC, should be named in prose, not in the table", v.Name)
			}
			continue
		case !ok:
			t.Errorf("docs/configuration.md's table has no row for %s", v.Name)
			continue
		}
		want := v.Shown
		if v.Default != "" {
			want = "`" + v.Default + "`"
		}
		if cell != want {
			t.Errorf("docs/configuration.md: the default of %s is %q, declared %q", v.Name, cell, want)
		}
		delete(rows, v.Name)
	}
	for name := range rows {
		if strings.HasPrefix(name, "SYSLOG_") || strings.HasPrefix(name, "SLS_") || strings.HasPrefix(name, "SHIP_") {
			t.Errorf("docs/configuration.md's table has a row for %s, which is not declared", name)
		}
	}
}

// TestNearest: a misspelt variable is matched to the declared one.
func TestNearest(t *testing.T) {
	for in, want := range map[string]string{
		"SYSLOG_PROTOCOLL": "SYSLOG_PROTOCOL", "SYSLOG_HSOT": "SYSLOG_HOST", "SLS_ENDPOINTS": "SLS_ENDPOINT",
		"SHIP_DEADLETTER": "SHIP_DEADLETTER_LOGSTORE", "SYSLOG_TLS_CERTFILE": "SYSLOG_TLS_CERT_FILE",
	} {
		if got, ok := Nearest(in); !ok || got != want {
			t.Errorf("Nearest(%s) = %s, %v; want %s", in, got, ok, want)
		}
	}
	if got, ok := Nearest("SYSLOG_COMPLETELY_UNRELATED_THING"); ok {
		t.Errorf("Nearest of an unrelated name = %s", got)
	}
}
