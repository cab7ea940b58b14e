package deploy

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// section returns the text of a page from the heading line to the next
// heading of the same or a higher level.
func section(t *testing.T, readme, heading string) string {
	t.Helper()
	i := strings.Index(readme, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("the page has no %q section", heading)
	}
	rest := readme[i+len(heading)+2:]
	level := strings.Repeat("#", strings.Index(heading, " "))
	for _, h := range []string{"\n" + level + " ", "\n" + level[:len(level)-1] + " "} {
		if len(h) > 2 {
			if j := strings.Index(rest, h); j >= 0 {
				rest = rest[:j]
			}
		}
	}
	return rest
}

// goSources returns the text of every non-test Go file of the repository:
// the product, the emulators (which speak the services' error codes) and
// the scripts.
func goSources(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(repo, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".") && path != repo) {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			b.Write(src)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestTroubleshootingMatchesTheCode fails when docs/operating.md's
// Troubleshooting table quotes error text that no Go source produces any
// more: each backquoted fragment of the first column of "When running" must
// be in the code.
func TestTroubleshootingMatchesTheCode(t *testing.T) {
	t.Parallel()
	running := section(t, section(t, readDoc(t, "operating.md"), "## Troubleshooting"), "### When running")
	src := goSources(t)
	code := regexp.MustCompile("`([^`]+)`")
	rows := 0
	for _, line := range strings.Split(running, "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| Error contains") {
			continue
		}
		rows++
		first := strings.SplitN(line[2:], " | ", 2)[0]
		frags := code.FindAllStringSubmatch(first, -1)
		if len(frags) == 0 {
			t.Errorf("troubleshooting row %q quotes no error text", first)
		}
		for _, m := range frags {
			if !strings.Contains(src, m[1]) {
				t.Errorf("troubleshooting row quotes %q, which no Go source contains any more", m[1])
			}
		}
	}
	if rows < 20 {
		t.Errorf("the When running table has %d rows, want the errors users meet", rows)
	}
}

// TestDeployPage checks that docs/deploy.md covers what an operator needs
// and that its go1 snippet names the binary of the zip.
func TestDeployPage(t *testing.T) {
	t.Parallel()
	deploy := readDoc(t, "deploy.md")
	for _, h := range []string{"## Prerequisites", "## Steps", "## Checking that the SIEM receives",
		"## Reading the function's logs", "## The go1 runtime", "## Layers: the SIEM's CA and a client certificate", "## RAM"} {
		if !strings.Contains(deploy, "\n"+h+"\n") {
			t.Errorf("docs/deploy.md has no %q", h)
		}
	}
	for _, s := range []string{"s deploy", "make deploy", "make preview", "s sls2siem logs --tail", "make layer", "deploy/example.env"} {
		if !strings.Contains(deploy, s) {
			t.Errorf("docs/deploy.md does not mention %s", s)
		}
	}
	go1 := section(t, deploy, "## The go1 runtime")
	if entry := packaged(t).Entry; !strings.Contains(go1, "runtime: go1") || !strings.Contains(go1, "handler: "+entry) {
		t.Errorf("docs/deploy.md's go1 snippet must set runtime: go1 and handler: %s", entry)
	}
}
