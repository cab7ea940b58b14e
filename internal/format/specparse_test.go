package format

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Parsers written from the CEF and LEEF specifications, independent of the
// encoder, so that the tests check the encoder against the formats rather
// than against itself.

type cefEvent struct {
	Version, Vendor, Product, DevVersion, SignatureID, Name, Severity string
	Ext                                                               []Field
}

// parseCEF parses "CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|ext"
// (ArcSight CEF rules): header fields escape '|' and '\' and hold no line
// break; the extension is space-separated key=value pairs with
// alphanumeric keys, values escape '\', '=' (an unescaped '=' is an error),
// CR and LF, and hold no raw line break. A key appears once. Other
// escapes in values are kept as written, as ArcSight does.
func parseCEF(s string) (cefEvent, error) {
	var ev cefEvent
	if !strings.HasPrefix(s, "CEF:") {
		return ev, errors.New("no CEF: prefix")
	}
	var hdr [7]string
	var b strings.Builder
	i, field := 0, 0
	for field < 7 {
		if i >= len(s) {
			return ev, fmt.Errorf("header ends after %d fields", field)
		}
		switch c := s[i]; c {
		case '\\':
			if i+1 >= len(s) || (s[i+1] != '|' && s[i+1] != '\\') {
				return ev, fmt.Errorf("bad escape in header at %d", i)
			}
			b.WriteByte(s[i+1])
			i += 2
		case '|':
			hdr[field] = b.String()
			b.Reset()
			field++
			i++
		case '\n', '\r':
			return ev, fmt.Errorf("line break in header at %d", i)
		default:
			b.WriteByte(c)
			i++
		}
	}
	ev.Version, ev.Vendor, ev.Product, ev.DevVersion, ev.SignatureID, ev.Name, ev.Severity =
		hdr[0], hdr[1], hdr[2], hdr[3], hdr[4], hdr[5], hdr[6]
	if ev.Version != "CEF:0" {
		return ev, fmt.Errorf("version %q", ev.Version)
	}
	if !validCEFSeverity(ev.Severity) {
		return ev, fmt.Errorf("severity %q", ev.Severity)
	}
	ext := s[i:]
	seen := map[string]bool{}
	for pos := 0; pos < len(ext); {
		j := pos
		for j < len(ext) && isAlnum(ext[j]) {
			j++
		}
		if j == pos || j >= len(ext) || ext[j] != '=' {
			return ev, fmt.Errorf("extension: no key=… at %d: %q", pos, ext[pos:])
		}
		key := ext[pos:j]
		if seen[key] {
			return ev, fmt.Errorf("extension: key %q repeated", key)
		}
		seen[key] = true
		b.Reset()
		k := j + 1
		pos = len(ext)
	value:
		for k < len(ext) {
			c := ext[k]
			switch {
			case c == '\\':
				if k+1 >= len(ext) {
					return ev, fmt.Errorf("extension: value of %s ends with a lone backslash", key)
				}
				switch ext[k+1] {
				case '\\', '=':
					b.WriteByte(ext[k+1])
				case 'n':
					b.WriteByte('\n')
				case 'r':
					b.WriteByte('\r')
				default:
					b.WriteString(ext[k : k+2])
				}
				k += 2
			case c == '=':
				return ev, fmt.Errorf("extension: unescaped '=' in the value of %s", key)
			case c == '\n' || c == '\r':
				return ev, fmt.Errorf("extension: raw line break in the value of %s", key)
			case c == ' ' && startsCEFKey(ext[k+1:]):
				pos = k + 1
				break value
			default:
				b.WriteByte(c)
				k++
			}
		}
		ev.Ext = append(ev.Ext, Field{key, b.String()})
	}
	return ev, nil
}

func startsCEFKey(s string) bool {
	j := 0
	for j < len(s) && isAlnum(s[j]) {
		j++
	}
	return j > 0 && j < len(s) && s[j] == '='
}

func validCEFSeverity(s string) bool {
	switch s {
	case "Unknown", "Low", "Medium", "High", "Very-High":
		return true
	}
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= 10
}

type leefEvent struct {
	Version, Vendor, Product, DevVersion, EventID string
	Delim                                         byte
	Attrs                                         []Field
}

// parseLEEF parses "LEEF:1.0|Vendor|Product|Version|EventID|attrs" (attrs
// separated by tab) and "LEEF:2.0|Vendor|Product|Version|EventID|Delim|attrs"
// (Delim one character or its hex code x5E / 0x5E) as IBM describes them:
// header fields hold no '|', attributes are key=value with a non-empty key
// without spaces, a key appears once, and the event is one line.
func parseLEEF(s string) (leefEvent, error) {
	var ev leefEvent
	if strings.ContainsAny(s, "\r\n") {
		return ev, errors.New("line break in the event")
	}
	n := 5
	switch {
	case strings.HasPrefix(s, "LEEF:1.0|"):
	case strings.HasPrefix(s, "LEEF:2.0|"):
		n = 6
	default:
		return ev, errors.New("no LEEF:1.0| or LEEF:2.0| prefix")
	}
	parts := strings.SplitN(s, "|", n+1)
	if len(parts) != n+1 {
		return ev, fmt.Errorf("header has %d fields, want %d", len(parts)-1, n)
	}
	ev.Version, ev.Vendor, ev.Product, ev.DevVersion, ev.EventID = parts[0], parts[1], parts[2], parts[3], parts[4]
	ev.Delim = '\t'
	if n == 6 {
		d := parts[5]
		switch {
		case len(d) == 1:
			ev.Delim = d[0]
		case strings.HasPrefix(d, "0x") || strings.HasPrefix(d, "x"):
			v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(d, "0"), "x"), 16, 8)
			if err != nil {
				return ev, fmt.Errorf("delimiter %q", d)
			}
			ev.Delim = byte(v)
		default:
			return ev, fmt.Errorf("delimiter %q", d)
		}
	}
	attrs := parts[n]
	if attrs == "" {
		return ev, nil
	}
	seen := map[string]bool{}
	for _, a := range strings.Split(attrs, string(ev.Delim)) {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return ev, fmt.Errorf("attribute %q is not key=value", a)
		}
		if seen[k] {
			return ev, fmt.Errorf("attribute key %q repeated", k)
		}
		seen[k] = true
		ev.Attrs = append(ev.Attrs, Field{k, v})
	}
	return ev, nil
}
