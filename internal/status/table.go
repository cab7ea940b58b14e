package status

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable writes the report as a table for a person: one line per
// shard, times in UTC to the second, the lag rounded to the second.
func (r Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "consumer group %s of project %s logstore %s at %s\n\n", r.Group, r.Project, r.Logstore, r.Time.Format(time.RFC3339))
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
		consumer := s.Consumer
		if consumer == "" {
			consumer = "-"
		}
		if receivers {
			recv := s.Receiver
			if recv == "" {
				recv = "-"
			}
			consumer += "\t" + recv
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Shard, s.Status, cp, cpTime,
			s.EndCursor, s.EndTime.Format(time.RFC3339), behind, lag, consumer, saved)
	}
	return tw.Flush()
}
