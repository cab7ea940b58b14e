package scrape

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// ErrNoPromtool is returned by Lint when promtool is not installed
// (Debian's package prometheus provides it; make test-deps installs it).
var ErrNoPromtool = errors.New("promtool not installed: run `make test-deps` (Debian package prometheus)")

// Lint runs `promtool check metrics` over an exposition: the format and
// Prometheus's naming conventions. It returns promtool's output and an
// error when promtool found a problem.
func Lint(ctx context.Context, text string) (string, error) {
	path, err := exec.LookPath("promtool")
	if err != nil {
		return "", ErrNoPromtool
	}
	cmd := exec.CommandContext(ctx, path, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("promtool check metrics: %w: %s", err, out.String())
	}
	return out.String(), nil
}
