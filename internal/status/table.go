package status

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"text/tabwriter"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"

	"sls2siem/internal/secret"
)

// NewClient returns an SDK client for endpoint signing with creds, whose
// requests go through rt (the SLS transport that enforces
// SLS_ALLOWED_ENDPOINTS).
func NewClient(endpoint string, creds secret.Credentials, rt http.RoundTripper) *sls.Client {
	const timeout = 30 * time.Second
	client := &sls.Client{
		Endpoint:       endpoint,
		UserAgent:      "sls2siem",
		RequestTimeOut: timeout,
		RetryTimeOut:   timeout,
		HTTPClient:     &http.Client{Transport: rt, Timeout: timeout},
	}
	return client.WithCredentialsProvider(sls.NewStaticCredentialsProvider(creds.AccessKeyID, creds.AccessKeySecret, creds.SecurityToken))
}

// WriteTable writes the report as a table for a person: one line per
// shard, times in UTC to the second, the lag rounded to the second.
func (r Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "consumer group %s of project %s logstore %s at %s\n\n", r.Group, r.Project, r.Logstore, r.Time.Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SHARD\tSTATUS\tCHECKPOINT\tCHECKPOINT RECEIVED\tEND CURSOR\tEND RECEIVED\tBEHIND\tLAG\tCONSUMER\tSAVED")
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
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Shard, s.Status, cp, cpTime,
			s.EndCursor, s.EndTime.Format(time.RFC3339), behind, lag, consumer, saved)
	}
	return tw.Flush()
}
