package docs

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// repo is the repository root, relative to this package.
const repo = "../.."

// markdownFiles returns the Markdown files of the repository (git's view
// when there is one, so that installed node modules are left out), as
// paths relative to the root.
func markdownFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	if out, err := exec.Command("git", "-C", repo, "ls-files", "-co", "--exclude-standard", "*.md").Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if _, err := os.Stat(filepath.Join(repo, f)); err == nil {
				files = append(files, f)
			}
		}
		return files
	}
	err := filepath.WalkDir(repo, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".") && path != repo) {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, ".md") {
			rel, _ := filepath.Rel(repo, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// inFence tracks fenced code blocks line by line: it reports whether line
// opens, closes or lies inside one; *fence is the open fence ("" outside).
// A fence closes on a line of at least as many of its characters.
func inFence(fence *string, line string) bool {
	trimmed := strings.TrimLeft(line, " ")
	if *fence != "" {
		if strings.HasPrefix(trimmed, *fence) && strings.Trim(trimmed, (*fence)[:1]+" ") == "" {
			*fence = ""
		}
		return true
	}
	for _, c := range []string{"`", "~"} {
		if n := len(trimmed) - len(strings.TrimLeft(trimmed, c)); n >= 3 {
			*fence = strings.Repeat(c, n)
			return true
		}
	}
	return false
}

// prose returns the lines of a Markdown page outside fenced code blocks,
// with inline code spans blanked out (links are not links there).
func prose(page string) []string {
	var out []string
	fence := ""
	code := regexp.MustCompile("`+[^`]*`+")
	for _, line := range strings.Split(page, "\n") {
		if inFence(&fence, line) {
			out = append(out, "")
			continue
		}
		out = append(out, code.ReplaceAllStringFunc(line, func(s string) string { return strings.Repeat(" ", len(s)) }))
	}
	return out
}

// anchors returns the anchors GitHub gives a page's headings: lower case,
// punctuation but hyphens and underscores dropped, spaces made hyphens, a
// repeated one suffixed -1, -2, ….
func anchors(page string) map[string]bool {
	got := map[string]bool{}
	seen := map[string]int{}
	fence := ""
	for _, line := range strings.Split(page, "\n") {
		if inFence(&fence, line) {
			continue
		}
		h := strings.TrimLeft(line, "#")
		if len(h) == len(line) || len(line)-len(h) > 6 || !strings.HasPrefix(h, " ") {
			continue
		}
		a := slug(strings.TrimSpace(h))
		if n := seen[a]; n > 0 {
			got[a+"-"+strconv.Itoa(n)] = true
		} else {
			got[a] = true
		}
		seen[a]++
	}
	return got
}

// slug is GitHub's anchor of a heading's text.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// link is an inline Markdown link or image: [text](target "title").
var link = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)

// TestRelativeLinksResolve: every relative link of every Markdown page
// names a file or directory of the repository and, with #anchor, a heading
// of that page.
func TestRelativeLinksResolve(t *testing.T) {
	files := markdownFiles(t)
	if len(files) < 5 {
		t.Fatalf("found %d Markdown files: %v", len(files), files)
	}
	pages := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(repo, f))
		if err != nil {
			t.Fatal(err)
		}
		pages[f] = string(b)
	}
	checked := 0
	for _, f := range files {
		for n, line := range prose(pages[f]) {
			for _, m := range link.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				checked++
				path, anchor, _ := strings.Cut(target, "#")
				dest := f
				if path != "" {
					dest = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(f), path)))
					if _, err := os.Stat(filepath.Join(repo, dest)); err != nil {
						t.Errorf("%s:%d: link %s: %s does not exist", f, n+1, target, dest)
						continue
					}
				}
				if anchor == "" {
					continue
				}
				page, ok := pages[dest]
				if !ok {
					t.Errorf("%s:%d: link %s: #%s into %s, which is not a Markdown page", f, n+1, target, anchor, dest)
					continue
				}
				if !anchors(page)[anchor] {
					t.Errorf("%s:%d: link %s: %s has no heading whose anchor is #%s", f, n+1, target, dest, anchor)
				}
			}
		}
	}
	if checked < 50 {
		t.Errorf("checked %d relative links: the link pattern misses them", checked)
	}
}

// TestREADMEIsTheFrontPage: README stays short (300 lines at most) and its
// table of contents lists every page of docs/.
func TestREADMEIsTheFrontPage(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	if n := strings.Count(readme, "\n"); n > 300 {
		t.Errorf("README.md has %d lines: the front page holds at most 300, the rest belongs in docs/", n)
	}
	_, toc, ok := strings.Cut(readme, "\n## Documentation\n")
	if !ok {
		t.Fatal("README.md has no Documentation section (the table of contents of docs/)")
	}
	pages, err := filepath.Glob(filepath.Join(repo, "docs", "*.md"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("docs/ has no pages: %v", err)
	}
	for _, p := range pages {
		if !strings.Contains(toc, "](docs/"+filepath.Base(p)+")") {
			t.Errorf("README.md's Documentation section does not link docs/%s", filepath.Base(p))
		}
	}
}

// TestArchitectureNamesEveryPackage: docs/architecture.md names every
// package of internal/ (a directory with Go files), so that a contributor
// finds each one there.
func TestArchitectureNamesEveryPackage(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repo, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	dirs, err := os.ReadDir(filepath.Join(repo, "internal"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		if goFiles, _ := filepath.Glob(filepath.Join(repo, "internal", d.Name(), "*.go")); len(goFiles) == 0 {
			continue
		}
		n++
		if !strings.Contains(page, "internal/"+d.Name()) {
			t.Errorf("docs/architecture.md does not name internal/%s", d.Name())
		}
	}
	if n < 10 {
		t.Errorf("found %d packages under internal/", n)
	}
}
