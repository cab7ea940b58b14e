package cli

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestCheckSession runs the session docs/commands.md's `sls2siem check`
// section shows and compares what it prints: the docs are a spec.
func TestCheckSession(t *testing.T) {
	readme, err := os.ReadFile("../../docs/commands.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(readme), "\n## `sls2siem check`\n")
	_, block, ok2 := strings.Cut(sec, "\n```\n")
	block, _, ok3 := strings.Cut(block, "\n```\n")
	if !ok || !ok2 || !ok3 {
		t.Fatal("docs/commands.md has no session in its `sls2siem check` section")
	}
	code, ran := -1, 0
	var want []string
	flush := func(got string) {
		if g := strings.TrimSpace(got); g != strings.TrimSpace(strings.Join(want, "\n")) {
			t.Errorf("docs/commands.md shows:\n%s\nsls2siem prints:\n%s", strings.Join(want, "\n"), g)
		}
	}
	var got string
	for _, line := range strings.Split(block, "\n") {
		cmd, isCmd := strings.CutPrefix(line, "$ ")
		switch {
		case !isCmd:
			want = append(want, line)
			continue
		case ran > 0:
			flush(got)
		}
		want = nil
		if cmd == "echo $?" {
			got = strconv.Itoa(code)
			ran++
			continue
		}
		env := map[string]string{}
		fields := strings.Fields(cmd)
		for len(fields) > 0 && strings.Contains(fields[0], "=") {
			k, v, _ := strings.Cut(fields[0], "=")
			env[k] = v
			fields = fields[1:]
		}
		if len(fields) == 0 || fields[0] != "sls2siem" {
			t.Fatalf("docs/commands.md session line %q does not run sls2siem", line)
		}
		var out bytes.Buffer
		code = Main(t.Context(), fields[1:], Env{Getenv: func(k string) string { return env[k] },
			Environ: func() []string {
				var kv []string
				for k, v := range env {
					kv = append(kv, k+"="+v)
				}
				return kv
			}, Stdout: &out, Stderr: &out})
		got = out.String()
		ran++
	}
	flush(got)
	if ran < 2 {
		t.Fatalf("the session ran %d commands", ran)
	}
}
