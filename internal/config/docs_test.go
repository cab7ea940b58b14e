package config

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the table of docs/configuration.md that the declarations generate")

// configurationPage is the page that documents the variables.
const configurationPage = "../../docs/configuration.md"

// The markers around the generated table of docs/configuration.md.
const (
	readsBegin = "<!-- Generated from internal/config/decls.go by `go test ./internal/config -run TestWhichCommandReadsWhat -update`: edit the declarations, not this table. -->\n"
	readsEnd   = "<!-- End of the generated table. -->\n"
)

// readsColumns are the columns of the table: the FC functions, then the
// commands run by hand.
var readsColumns = []struct {
	u    Use
	head string
}{
	{UseTrigger, "trigger function"}, {UseTimer, "consumer-group function"}, {UseRedriveFC, "redrive function"},
	{UseShip, "`ship`"}, {UseConsume, "`consume`"}, {UseStatus, "`status`"}, {UseRedrive, "`redrive`"}, {UseBackfill, "`backfill`"},
}

// whichReadsWhat renders the table of who reads and who requires each
// variable: one row per set of variables with the same uses, in the order
// of Vars. A row that holds every remaining variable of a prefix (at least
// five) names them as `PREFIX*`.
func whichReadsWhat() string {
	type key struct{ uses, required Use }
	var rows []key
	names := map[key][]string{}
	for _, v := range Vars {
		k := key{v.Uses, v.Required}
		if _, ok := names[k]; !ok {
			rows = append(rows, k)
		}
		names[k] = append(names[k], v.Name)
	}
	listed := map[string]bool{}
	var b strings.Builder
	b.WriteString("| Variables |")
	for _, c := range readsColumns {
		b.WriteString(" " + c.head + " |")
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(readsColumns)) + "\n")
	for _, k := range rows {
		b.WriteString("| " + nameList(names[k], listed) + " |")
		for _, c := range readsColumns {
			switch {
			case k.required&c.u != 0:
				b.WriteString(" required |")
			case k.uses&c.u != 0:
				b.WriteString(" read |")
			default:
				b.WriteString(" |")
			}
		}
		b.WriteString("\n")
		for _, n := range names[k] {
			listed[n] = true
		}
	}
	return b.String()
}

// nameList writes the names of one row; listed are the names of the rows
// above.
func nameList(row []string, listed map[string]bool) string {
	var out []string
	done := map[string]bool{}
	for _, n := range row {
		if done[n] {
			continue
		}
		prefix := n[:strings.IndexByte(n, '_')+1]
		var rest, before int
		for _, v := range Vars {
			if strings.HasPrefix(v.Name, prefix) {
				if listed[v.Name] {
					before++
				} else {
					rest++
				}
			}
		}
		var inRow []string
		for _, m := range row {
			if strings.HasPrefix(m, prefix) {
				inRow = append(inRow, m)
			}
		}
		if len(inRow) == rest && rest >= 5 {
			what := "every"
			if before > 0 {
				what = "the other"
			}
			out = append(out, fmt.Sprintf("%s `%s*` (%d)", what, prefix, rest))
			for _, m := range inRow {
				done[m] = true
			}
			continue
		}
		out = append(out, "`"+n+"`")
		done[n] = true
	}
	return strings.Join(out, ", ")
}

// TestWhichCommandReadsWhat: the table of docs/configuration.md that says
// which function and command reads and requires each variable is the one
// the declarations generate (-update writes it).
func TestWhichCommandReadsWhat(t *testing.T) {
	b, err := os.ReadFile(configurationPage)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	before, rest, ok1 := strings.Cut(page, readsBegin)
	table, after, ok2 := strings.Cut(rest, readsEnd)
	if !ok1 || !ok2 {
		t.Fatalf("docs/configuration.md has no generated table between\n%s and\n%s", readsBegin, readsEnd)
	}
	want := whichReadsWhat()
	if table == want {
		return
	}
	if *update {
		if err := os.WriteFile(configurationPage, []byte(before+readsBegin+want+readsEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("docs/configuration.md's table of who reads what is not the declarations' (go test ./internal/config -run TestWhichCommandReadsWhat -update rewrites it):\n%s\nwant:\n%s", table, want)
}
