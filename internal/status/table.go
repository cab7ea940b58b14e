package status

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"
)

// WriteTable writes the report as a table for a person: one line per
// shard, times in UTC to the second, the lag rounded to the second.
func (r Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "consumer group %s of project %s logstore %s at %s\n\n", Cell(r.Group), Cell(r.Project), Cell(r.Logstore), r.Time.Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	receivers := len(r.Daemons) > 0 // the RECEIVER column, when daemons were asked
	header := "SHARD\tSTATUS\tCHECKPOINT\tCHECKPOINT RECEIVED\tEND CURSOR\tEND RECEIVED\tBEHIND\tLAG\tCONSUMER\tSAVED"
	if receivers {
		header = strings.Replace(header, "CONSUMER", "CONSUMER\tRECEIVER", 1)
	}
	fmt.Fprintln(tw, header)
	for _, s := range r.Shards {
		cp, cpTime, lag, behind, saved := "(none)", "-", "-", "-", "-"
		if s.Checkpoint != "" {
			cp = s.Checkpoint
		}
		if s.CheckpointTime != nil {
			cpTime = s.CheckpointTime.Format(time.RFC3339)
		}
		if s.LagSeconds != nil {
			lag = (time.Duration(*s.LagSeconds) * time.Second).String()
		}
		if s.BehindLogGroups != nil {
			behind = strconv.FormatInt(*s.BehindLogGroups, 10) + " groups"
		}
		if s.CheckpointSaved != nil {
			saved = s.CheckpointSaved.Format(time.RFC3339)
		}
		consumer := Cell(s.Consumer)
		if consumer == "" {
			consumer = "-"
		}
		if receivers {
			recv := s.Receiver
			if recv == "" {
				recv = "-"
			}
			consumer += "\t" + Cell(recv)
		}
		// Every cell comes from SLS or a daemon (a consumer's name is
		// whatever the consumer said): escaped, so that no byte can move
		// the terminal's cursor, colour it or forge a row.
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Shard, Cell(s.Status), Cell(cp), cpTime,
			Cell(s.EndCursor), s.EndTime.Format(time.RFC3339), behind, lag, consumer, saved)
	}
	return tw.Flush()
}

// Cell renders a value for a table on a terminal: every character that is
// not printable (control characters, C1, escape sequences, bidirectional
// and other format characters, line separators, invalid UTF-8) is written
// as a Go escape (\x1b, \u202e, \xff), and a backslash as \\, so that the
// output is one line of visible text that says exactly what the value is.
func Cell(v string) string {
	clean := true
	for _, r := range v {
		if r == '\\' || r == utf8.RuneError || !unicode.IsPrint(r) {
			clean = false
			break
		}
	}
	if clean {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); {
		r, size := utf8.DecodeRuneInString(v[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, "\\x%02x", v[i])
		case r == '\\':
			b.WriteString(`\\`)
		case unicode.IsPrint(r):
			b.WriteString(v[i : i+size])
		default:
			q := strconv.QuoteRune(r) // '\x1b', '\u202e', '\t'
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}
