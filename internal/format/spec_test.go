package format_test

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"
	"github.com/leodido/go-syslog/v4/rfc3164"
	"github.com/leodido/go-syslog/v4/rfc5424"

	"sls2siem/internal/config"
	"sls2siem/internal/format"
)

// The spec is docs/messages.md: every ```example block in it is run here,
// through the real configuration loader and the encoder, so that page and
// code cannot drift. The page's "How to read the examples" section
// describes the syntax this file parses.

const specPage = "../../docs/messages.md"

// specExample is one example of the page.
type specExample struct {
	line    int               // of the opening fence
	section string            // the ### heading it is under
	env     map[string]string // settings
	group   []field           // nil: the default group
	log     []field
	expect  map[string]string // message, msg, sd, result, error
}

type field struct{ k, v string }

// Defaults of every example (the page states them).
var (
	specEnv = map[string]string{
		"SYSLOG_HOST": "siem.example.com", "SYSLOG_HOSTNAME": "host", "SYSLOG_TAG": "sls2siem",
	}
	specGroup = []field{{"__topic__", "audit"}, {"__source__", "10.0.0.1"}}
)

const (
	specTime     = 1795478400 // 2026-11-24T00:00:00Z
	specCursor   = "MTYwMDAwMDAwMDAwMDAwMDAwMA=="
	specProject  = "sls2siem-demo"
	specLogstore = "audit"
)

func TestSpecExamples(t *testing.T) {
	exs := readSpecExamples(t)
	if len(exs) < 40 {
		t.Fatalf("%s has %d examples: the rules have more", specPage, len(exs))
	}
	for _, ex := range exs {
		t.Run(fmt.Sprintf("line%d", ex.line), func(t *testing.T) { runSpecExample(t, ex) })
	}
}

// TestSpecSectionsHaveExamples: every rule (a ### section) shows one.
func TestSpecSectionsHaveExamples(t *testing.T) {
	text := readSpec(t)
	count := map[string]int{}
	var order []string
	section := ""
	for _, l := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(l, "## "):
			section = ""
		case strings.HasPrefix(l, "### "):
			section = l
			order = append(order, l)
		case strings.HasPrefix(l, "```example") && section != "":
			count[section]++
		}
	}
	if len(order) < 15 {
		t.Fatalf("%s has %d rule sections", specPage, len(order))
	}
	for _, s := range order {
		if count[s] == 0 {
			t.Errorf("%s: %q has no example", specPage, s)
		}
	}
}

func readSpec(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(specPage)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var settingLine = regexp.MustCompile(`^([A-Z][A-Z0-9_]*)=(.*)$`)

func readSpecExamples(t *testing.T) []specExample {
	t.Helper()
	var out []specExample
	var cur *specExample
	section := ""
	for i, l := range strings.Split(readSpec(t), "\n") {
		n := i + 1
		switch {
		case cur == nil && strings.HasPrefix(l, "#"):
			section = l
		case cur == nil && l == "```example":
			cur = &specExample{line: n, section: section, env: map[string]string{}, expect: map[string]string{}}
		case cur == nil:
		case l == "```":
			if cur.log == nil && cur.expect["error"] == "" {
				t.Fatalf("%s:%d: an example needs a log: line", specPage, cur.line)
			}
			if len(cur.expect) == 0 {
				t.Fatalf("%s:%d: an example needs an expected message:, msg:, sd: or error: line", specPage, cur.line)
			}
			out = append(out, *cur)
			cur = nil
		default:
			if err := cur.parseLine(l); err != nil {
				t.Fatalf("%s:%d: %v", specPage, n, err)
			}
		}
	}
	if cur != nil {
		t.Fatalf("%s:%d: example not closed", specPage, cur.line)
	}
	return out
}

func (ex *specExample) parseLine(l string) error {
	if m := settingLine.FindStringSubmatch(l); m != nil {
		v, err := specText(m[2])
		ex.env[m[1]] = v
		return err
	}
	key, rest, ok := strings.Cut(l, ":")
	if !ok {
		return fmt.Errorf("not NAME=value or key: …: %q", l)
	}
	rest = strings.TrimPrefix(rest, " ")
	switch key {
	case "group", "log":
		fs, err := specFields(rest)
		if err != nil {
			return err
		}
		if fs == nil {
			fs = []field{} // an empty group: not the default one
		}
		if key == "group" {
			ex.group = fs
		} else {
			ex.log = fs
		}
	case "message", "msg", "sd", "error", "result":
		if _, dup := ex.expect[key]; dup {
			return fmt.Errorf("%s: twice", key)
		}
		v, err := specText(rest)
		if err != nil {
			return err
		}
		ex.expect[key] = v
	default:
		return fmt.Errorf("unknown line %q", key)
	}
	return nil
}

// specText reads an expected text or a setting: literal, or when it starts
// with '"' terms joined by +, each a Go string optionally repeated (*N).
func specText(s string) (string, error) {
	if !strings.HasPrefix(s, `"`) {
		return s, nil
	}
	var b strings.Builder
	for {
		v, rest, err := specTerm(s)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
		rest = strings.TrimLeft(rest, " ")
		if rest == "" {
			return b.String(), nil
		}
		if !strings.HasPrefix(rest, "+") {
			return "", fmt.Errorf("want + between terms at %q", rest)
		}
		s = strings.TrimLeft(rest[1:], " ")
	}
}

// specTerm reads "go string" or "go string"*N from the start of s.
func specTerm(s string) (v, rest string, err error) {
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", "", fmt.Errorf("bad quoted string at %q: %v", s, err)
	}
	v, _ = strconv.Unquote(q)
	rest = s[len(q):]
	if strings.HasPrefix(rest, "*") {
		j := 1
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		n, err := strconv.Atoi(rest[1:j])
		if err != nil {
			return "", "", fmt.Errorf("bad repeat at %q", rest)
		}
		v, rest = strings.Repeat(v, n), rest[j:]
	}
	return v, rest, nil
}

// specFields reads key=value pairs separated by spaces; a key or a value
// is bare (no space, no quote; a bare key ends at its first '=') or terms
// joined by + without spaces, each a Go string optionally repeated (*N).
func specFields(s string) ([]field, error) {
	var out []field
	for s = strings.TrimLeft(s, " "); s != ""; s = strings.TrimLeft(s, " ") {
		var k string
		if strings.HasPrefix(s, `"`) {
			var kb strings.Builder
			for {
				t, rest, err := specTerm(s)
				if err != nil {
					return nil, err
				}
				kb.WriteString(t)
				s = rest
				if !strings.HasPrefix(s, "+") {
					break
				}
				s = s[1:]
			}
			k = kb.String()
			if !strings.HasPrefix(s, "=") {
				return nil, fmt.Errorf("want = after key %q", k)
			}
			s = s[1:]
		} else {
			i := strings.IndexAny(s, "= ")
			if i < 0 || s[i] != '=' {
				return nil, fmt.Errorf("want key=value at %q", s)
			}
			k, s = s[:i], s[i+1:]
		}
		var v strings.Builder
		for {
			if !strings.HasPrefix(s, `"`) {
				i := strings.IndexByte(s, ' ')
				if i < 0 {
					i = len(s)
				}
				if strings.ContainsRune(s[:i], '"') {
					return nil, fmt.Errorf("a bare value holds a quote: %q", s[:i])
				}
				v.WriteString(s[:i])
				s = s[i:]
				break
			}
			t, rest, err := specTerm(s)
			if err != nil {
				return nil, err
			}
			v.WriteString(t)
			s = rest
			if !strings.HasPrefix(s, "+") {
				break
			}
			s = s[1:]
		}
		if s != "" && s[0] != ' ' {
			return nil, fmt.Errorf("want a space after the value of %q at %q", k, s)
		}
		out = append(out, field{k, v.String()})
	}
	return out, nil
}

func runSpecExample(t *testing.T, ex specExample) {
	env := map[string]string{}
	for k, v := range specEnv {
		env[k] = v
	}
	for k, v := range ex.env {
		env[k] = v
	}
	c, err := config.Load(func(k string) string { return env[k] }, config.UseTrigger)
	if want, ok := ex.expect["error"]; ok {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s:%d: configuration error %v, want one containing %q", specPage, ex.line, err, want)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s:%d: %v", specPage, ex.line, err)
	}
	g, l := ex.logGroup()
	enc := format.NewEncoder(c.Format)
	enc.SetOrigin(specProject, specLogstore, 0)
	out, res := enc.Append(nil, enc.NewGroup(g, specCursor), 0, l)
	got := string(out)
	wantRes := map[string]format.Result{"": format.Written, "written": format.Written, "truncated": format.Truncated, "dropped": format.Dropped}
	if r, ok := wantRes[ex.expect["result"]]; !ok || r != res {
		t.Errorf("%s:%d: result %d, want %q\n%q", specPage, ex.line, res, ex.expect["result"], got)
	}
	if res == format.Dropped {
		return
	}
	bsd := c.Format.Syntax == format.SyntaxRFC3164
	checkSpecParses(t, ex, out, bsd)
	if want, ok := ex.expect["message"]; ok && got != want {
		t.Errorf("%s:%d: message\n got %q\nwant %q", specPage, ex.line, got, want)
	}
	msg, sd := specSplit(got, bsd)
	if want, ok := ex.expect["msg"]; ok && msg != want {
		t.Errorf("%s:%d: MSG\n got %q\nwant %q\nin %q", specPage, ex.line, msg, want, got)
	}
	if want, ok := ex.expect["sd"]; ok && sd != want {
		t.Errorf("%s:%d: STRUCTURED-DATA\n got %q\nwant %q\nin %q", specPage, ex.line, sd, want, got)
	}
}

// logGroup builds the example's log group and log: __time__ and
// __time_ns_part__ in log: set the log's time, the rest are its contents;
// group: holds __topic__, __source__ and __tag__:KEY fields.
func (ex specExample) logGroup() (*sls.LogGroup, *sls.Log) {
	g := &sls.LogGroup{}
	gf := ex.group
	if gf == nil {
		gf = specGroup
	}
	for _, f := range gf {
		switch {
		case f.k == "__topic__":
			g.Topic = proto.String(f.v)
		case f.k == "__source__":
			g.Source = proto.String(f.v)
		case strings.HasPrefix(f.k, "__tag__:"):
			g.LogTags = append(g.LogTags, &sls.LogTag{Key: proto.String(strings.TrimPrefix(f.k, "__tag__:")), Value: proto.String(f.v)})
		}
	}
	l := &sls.Log{Time: proto.Uint32(specTime)}
	for _, f := range ex.log {
		switch f.k {
		case "__time__", "__time_ns_part__":
			n, err := strconv.ParseUint(f.v, 10, 32)
			if err != nil {
				panic(fmt.Sprintf("%s:%d: %s=%s", specPage, ex.line, f.k, f.v))
			}
			if f.k == "__time__" {
				l.Time = proto.Uint32(uint32(n))
			} else {
				l.TimeNs = proto.Uint32(uint32(n))
			}
		default:
			l.Contents = append(l.Contents, &sls.LogContent{Key: proto.String(f.k), Value: proto.String(f.v)})
		}
	}
	return g, l
}

// checkSpecParses: every example message parses with go-syslog's strict
// parser of its syntax.
func checkSpecParses(t *testing.T, ex specExample, out []byte, bsd bool) {
	t.Helper()
	var err error
	if bsd {
		_, err = rfc3164.NewParser(rfc3164.WithYear(rfc3164.Year{YYYY: 2026}), rfc3164.WithLocaleTimezone(time.UTC)).Parse(out)
	} else {
		_, err = rfc5424.NewParser(rfc5424.WithCompliantMsg()).Parse(out)
	}
	if err != nil {
		t.Errorf("%s:%d: go-syslog rejects %q: %v", specPage, ex.line, out, err)
	}
}

// specSplit returns the MSG and (RFC 5424) the STRUCTURED-DATA of a
// message, read from its text.
func specSplit(m string, bsd bool) (msg, sd string) {
	if bsd {
		// <PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG; TAG and PID hold no ':'.
		rest := m[strings.IndexByte(m, '>')+1+len("Mmm dd hh:mm:ss "):]
		rest = rest[strings.IndexByte(rest, ' ')+1:]
		_, msg, _ = strings.Cut(rest, ": ")
		return msg, ""
	}
	s := m
	for range 6 { // PRI VERSION, TIMESTAMP, HOSTNAME, APP-NAME, PROCID, MSGID
		s = s[strings.IndexByte(s, ' ')+1:]
	}
	i := 0
	for i < len(s) && s[i] == '[' {
		for i++; i < len(s) && s[i] != ']'; i++ {
			if s[i] == '"' { // a value: \" \\ \] escaped
				for i++; i < len(s) && s[i] != '"'; i++ {
					if s[i] == '\\' {
						i++
					}
				}
			}
		}
		i++
	}
	if i == 0 {
		i = 1 // "-"
	}
	sd, msg = s[:i], strings.TrimPrefix(s[i:], " ")
	return msg, sd
}
