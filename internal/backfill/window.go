package backfill

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"sls2siem/internal/secret"
	"sls2siem/internal/slsapi"
)

// Window is a receive-time window [From, To) in unix seconds.
type Window struct{ From, To int64 }

// accepted says what a window bound may be.
const accepted = "want now, a time ago (-2h, -7d), a date (2024-05-06), RFC 3339 (2024-05-06T07:08:09Z) or unix seconds"

// maxSeconds is the largest unix time in seconds taken as such: 10^11 s
// is the year 5138, while 10^11 ms is 1973, so a larger number is almost
// certainly milliseconds.
const maxSeconds = 1e11

// ParseWindow reads the bounds of a window, as given to -from and -to, at
// now, and refuses a window that cannot hold data: an end not after the
// start, a start in the future, a number that looks like milliseconds.
// Each error names the flag.
func ParseWindow(from, to string, now time.Time) (Window, error) {
	var w Window
	var errs []error
	var err error
	if w.From, err = parseBound(from, now); err != nil {
		errs = append(errs, fmt.Errorf("-from %w", err))
	}
	if w.To, err = parseBound(to, now); err != nil {
		errs = append(errs, fmt.Errorf("-to %w", err))
	}
	if len(errs) > 0 {
		return w, errors.Join(errs...)
	}
	switch {
	case w.From >= w.To:
		return w, fmt.Errorf("-from %s is not before -to %s: the window [from, to) is empty", unixUTC(w.From), unixUTC(w.To))
	case w.From > now.Unix():
		return w, fmt.Errorf("-from %s is in the future (now is %s): nothing was received in the window yet", unixUTC(w.From), unixUTC(now.Unix()))
	}
	return w, nil
}

// parseBound reads one bound: now, -DURATION (a time ago: s, m, h or d,
// e.g. -90m, -2h, -7d), a date (midnight UTC), RFC 3339 (a fractional
// second is rounded up: receive times are whole seconds) or unix seconds.
func parseBound(s string, now time.Time) (int64, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return 0, errors.New("is empty: " + accepted)
	case strings.EqualFold(s, "now"):
		return now.Unix(), nil
	case strings.HasPrefix(s, "-"):
		d, err := parseAgo(s[1:])
		if err != nil {
			return 0, fmt.Errorf("is %s: %s", secret.Quote(s), accepted)
		}
		return now.Add(-d).Unix(), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n >= maxSeconds {
			return 0, fmt.Errorf("is %d, which looks like milliseconds (as seconds it is after the year 5000): want unix seconds, e.g. %d (%s)",
				n, n/1000, unixUTC(n/1000))
		}
		return n, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Unix(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("is %s: %s", secret.Quote(s), accepted)
	}
	n := t.Unix()
	if t.Nanosecond() > 0 {
		n++
	}
	if n < 0 {
		return 0, fmt.Errorf("is %s, before 1970", secret.Quote(s))
	}
	return n, nil
}

// parseAgo reads a positive duration: a Go duration (90m, 2h, 1h30m) or
// whole days (7d).
func parseAgo(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 100000 {
			return 0, errors.New("not a number of days")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errors.New("not a duration")
	}
	return d, nil
}

func unixUTC(n int64) string { return time.Unix(n, 0).UTC().Format(time.RFC3339) }

// checkRetention refuses a window that ends before the oldest data the
// shards hold (the logstore's TTL moves it forward), and warns when it
// starts before it.
func checkRetention(ctx context.Context, o Options, shards []int) error {
	oldest, ok, err := oldestData(ctx, o, shards)
	if err != nil {
		return err
	}
	if !ok {
		return badInput("the window [%s, %s) holds no data: logstore %s holds none%s",
			unixUTC(o.From), unixUTC(o.To), o.Logstore, keeps(ctx, o))
	}
	if o.To > oldest {
		if ttl := ttlDays(ctx, o); o.From < oldest && ttl > 0 {
			o.Log.Warn("backfill: the window starts before the oldest data the logstore keeps (its TTL): what was received before is gone",
				"oldest", unixUTC(oldest), "ttlDays", ttl)
		}
		return nil
	}
	return badInput("the window [%s, %s) holds no data: the oldest data logstore %s holds was received at %s, %s before now%s",
		unixUTC(o.From), unixUTC(o.To), o.Logstore, unixUTC(oldest), age(now(o).Sub(time.Unix(oldest, 0))), keeps(ctx, o))
}

// keeps says how long the logstore keeps data, when it does not keep it
// forever.
func keeps(ctx context.Context, o Options) string {
	if ttl := ttlDays(ctx, o); ttl > 0 {
		return fmt.Sprintf(" (it keeps data for %d %s: its TTL)", ttl, plural(ttl, "day", "days"))
	}
	return ""
}

// oldestData is the receive time of the oldest log group the shards
// hold; ok is false when they are all empty.
func oldestData(ctx context.Context, o Options, shards []int) (oldest int64, ok bool, err error) {
	for _, s := range shards {
		begin, err := o.Client.GetCursor(ctx, o.Project, o.Logstore, s, "begin")
		if err != nil {
			return 0, false, err
		}
		end, err := o.Client.GetCursor(ctx, o.Project, o.Logstore, s, "end")
		if err != nil {
			return 0, false, err
		}
		if begin == end {
			continue // empty
		}
		at, err := o.Client.GetCursorTime(ctx, o.Project, o.Logstore, s, begin)
		if err != nil {
			return 0, false, err
		}
		if !ok || at.Unix() < oldest {
			oldest, ok = at.Unix(), true
		}
	}
	return oldest, ok, nil
}

// ttlDays is the logstore's TTL in days, 0 when it keeps its data or the
// TTL cannot be read (log:GetLogStore denied: it only explains).
func ttlDays(ctx context.Context, o Options) int {
	info, err := o.Client.Logstore(ctx, o.Project, o.Logstore)
	if err != nil || info.TTL >= slsapi.Forever {
		return 0
	}
	return info.TTL
}

func now(o Options) time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

// age says a duration in days, hours or minutes.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d/time.Hour))
	}
	return d.Round(time.Minute).String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
