package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"sls2siem/internal/config"
	"sls2siem/internal/ship"
)

// shipCmd ships one SLS trigger event by hand, as the function would.
type shipCmd struct {
	env     *Env
	event   string
	timeout time.Duration
}

func (c *shipCmd) Name() string { return "ship" }
func (c *shipCmd) Summary() string {
	return "ship the range of one SLS trigger event (-event FILE, - for stdin)"
}

func (c *shipCmd) flags() *flag.FlagSet {
	fs := newFlags("ship")
	fs.StringVar(&c.event, "event", "", "`FILE` holding the SLS trigger event (- for stdin); required")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Minute, "deadline `D` of the invocation")
	return fs
}

func (c *shipCmd) Usage() string {
	return `Usage: sls2siem ship -event FILE [-timeout D]

Ships the cursor range of one SLS trigger event as an invocation of the function
would, with the AccessKey pair of ALIBABA_CLOUD_ACCESS_KEY_ID and
ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN), and prints its JSON
summary on stdout (also when it fails: what was delivered, whether the range was
dead-lettered). Log lines go to stderr.
` + flagDefaults(c.flags()) + "\n" + exitTable
}

func (c *shipCmd) Run(ctx context.Context, args []string) error {
	if err := parseFlags(c.flags(), args); err != nil {
		return err
	}
	if c.event == "" {
		return usagef("-event is required: the file holding the SLS trigger event, or - for stdin")
	}
	if c.timeout <= 0 {
		return badValue("-timeout is %s: want a positive duration", c.timeout)
	}
	cfg, err := config.Load(c.env.Getenv, config.UseShip)
	if err != nil {
		return err
	}
	event, err := c.readEvent()
	if err != nil {
		return withCode(ExitUsage, err)
	}
	cfg.BatchMemory = c.env.BatchMemory
	log := c.env.newLogger(cfg)
	logWarnings(log, "ship", cfg)
	shipper := ship.New(cfg, log)
	defer shipper.Close()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	sum, err := shipper.Ship(ctx, ship.Invocation{RequestID: "local", Event: event, Credentials: cfg.Credentials})
	if werr := writeJSON(c.env.Stdout, sum); werr != nil {
		return errors.Join(err, werr)
	}
	if err != nil {
		return reported(exitCode(ctx, err), err) // the invocation's log line says it
	}
	return nil
}

// readEvent reads the event from its file or stdin, at most 1 MiB (an FC
// event's bound).
func (c *shipCmd) readEvent() ([]byte, error) {
	var r io.Reader = c.env.Stdin
	if c.event != "-" {
		f, err := os.Open(c.event)
		if err != nil {
			return nil, fmt.Errorf("read the event: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxEvent+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("read the event: %w", err)
	case len(b) > maxEvent:
		return nil, fmt.Errorf("the event is larger than %d bytes", maxEvent)
	}
	return b, nil
}

// maxEvent bounds an event, as the custom runtime does.
const maxEvent = 1 << 20

// writeJSON writes v as one line of JSON.
func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
