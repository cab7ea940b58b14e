// Package scrape reads what a Prometheus endpoint serves (the text
// exposition format 0.0.4): the local cloud prints the consumers' figures
// from it, and the tests assert on it. It reads samples only: comments,
// HELP and TYPE lines are skipped.
package scrape

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sample is one sample line.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Samples are the samples of one exposition, in order.
type Samples []Sample

// Get fetches url and parses the answer; it returns the text as well.
func Get(ctx context.Context, url string) (Samples, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, "", fmt.Errorf("scrape %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, string(body), fmt.Errorf("scrape %s: HTTP %d", url, resp.StatusCode)
	}
	s, err := Parse(string(body))
	return s, string(body), err
}

// Parse parses a text exposition.
func Parse(text string) (Samples, error) {
	var out Samples
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		s, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d %q: %w", n+1, line, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func parseLine(line string) (Sample, error) {
	s := Sample{Labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i <= 0 {
		return s, fmt.Errorf("no value")
	}
	s.Name, line = line[:i], line[i:]
	if line[0] == '{' {
		line = line[1:]
		for {
			line = strings.TrimLeft(line, " ,")
			if strings.HasPrefix(line, "}") {
				line = line[1:]
				break
			}
			eq := strings.IndexByte(line, '=')
			if eq <= 0 || len(line) < eq+2 || line[eq+1] != '"' {
				return s, fmt.Errorf("bad label")
			}
			name := strings.TrimSpace(line[:eq])
			value, rest, err := unquote(line[eq+2:])
			if err != nil {
				return s, err
			}
			s.Labels[name], line = value, rest
		}
	}
	fields := strings.Fields(line)
	if len(fields) == 0 || len(fields) > 2 {
		return s, fmt.Errorf("want a value and an optional timestamp")
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return s, fmt.Errorf("value: %w", err)
	}
	s.Value = v
	return s, nil
}

// unquote reads a label value up to its closing quote, with the format's
// escapes (\\, \", \n), and returns the rest of the line.
func unquote(s string) (string, string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:], nil
		case '\\':
			if i+1 == len(s) {
				return "", "", fmt.Errorf("unterminated escape")
			}
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			default:
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", fmt.Errorf("unterminated label value")
}

// matches reports whether the sample has name and the label pairs kv.
func (s Sample) matches(name string, kv []string) bool {
	if s.Name != name {
		return false
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if s.Labels[kv[i]] != kv[i+1] {
			return false
		}
	}
	return true
}

// Value returns the value of the one sample named name whose labels
// include the pairs kv (name, value, name, value…); ok is false when none
// or several match.
func (ss Samples) Value(name string, kv ...string) (v float64, ok bool) {
	n := 0
	for _, s := range ss {
		if s.matches(name, kv) {
			v, n = s.Value, n+1
		}
	}
	return v, n == 1
}

// Sum adds the values of the samples named name whose labels include kv.
func (ss Samples) Sum(name string, kv ...string) float64 {
	total := 0.0
	for _, s := range ss {
		if s.matches(name, kv) {
			total += s.Value
		}
	}
	return total
}

// Find returns the samples named name whose labels include kv.
func (ss Samples) Find(name string, kv ...string) Samples {
	var out Samples
	for _, s := range ss {
		if s.matches(name, kv) {
			out = append(out, s)
		}
	}
	return out
}
