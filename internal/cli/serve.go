package cli

import (
	"context"
)

// serveCmd serves the trigger and consumer-group functions under FC.
type serveCmd struct{ env *Env }

func (c *serveCmd) Name() string { return "serve" }
func (c *serveCmd) Summary() string {
	return "serve the function under FC: the custom runtime server (FC_CUSTOM_LISTEN_PORT, default 9000) or go1"
}

func (c *serveCmd) Usage() string {
	return `Usage: sls2siem serve

Serves the trigger and consumer-group function until SIGINT or SIGTERM: under FC's
custom runtime contract on 0.0.0.0:FC_CUSTOM_LISTEN_PORT (FC_SERVER_PORT when it is
unset; 9000 by default), under the go1 runtime API when FC_RUNTIME_API is set. SLS
trigger events ship their range, timer events run the consumer group. An invocation's
deadline is the earliest of FC's deadline headers, when a request carries them, and its
arrival plus SHIP_FUNCTION_TIMEOUT. A configuration error does not stop it: every
invocation fails with it (FC shows it). Log lines are JSON, on stderr.

` + exitTable
}

func (c *serveCmd) Run(ctx context.Context, args []string) error {
	if err := parseFlags(newFlags("serve"), args); err != nil {
		return err
	}
	return serveFunction(ctx, c.env, func() served {
		fn := newFunction(c.env)
		return served{h: fn, log: fn.log, timeout: fn.timeout}
	})
}
