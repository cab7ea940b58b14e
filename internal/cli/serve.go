package cli

import (
	"context"

	"sls2siem/internal/fcruntime"
)

// serveCmd is the FC 3.0 custom runtime server of the trigger and
// consumer-group functions.
type serveCmd struct{ env *Env }

func (c *serveCmd) Name() string { return "serve" }
func (c *serveCmd) Summary() string {
	return "the FC 3.0 custom runtime server of the function (FC_SERVER_PORT, default 9000)"
}

func (c *serveCmd) Usage() string {
	return `Usage: sls2siem serve

Serves the function under FC's custom runtime contract on 0.0.0.0:FC_SERVER_PORT (9000
by default) until SIGINT or SIGTERM: SLS trigger events ship their range, timer events
run the consumer group. A configuration error does not stop it: every invocation fails
with it (FC shows it). Log lines are JSON, on stderr.

` + exitTable
}

func (c *serveCmd) Run(ctx context.Context, args []string) error {
	if err := parseFlags(newFlags("serve"), args); err != nil {
		return err
	}
	addr, err := fcruntime.ServerAddr(c.env.Getenv)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	fn := newFunction(c.env)
	if err := fcruntime.Serve(ctx, addr, fn, fn.log); err != nil {
		fn.log.Error(err.Error())
		return reported(ExitFailure, err)
	}
	return nil
}
