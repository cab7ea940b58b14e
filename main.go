// Command sls2siem is a Function Compute function that ships the logs of one
// SLS shard's cursor range, handed to it by an SLS trigger, to a SIEM's
// syslog receiver; and the commands that run the same pipeline by hand.
//
// The data flows one way: trigger event (internal/trigger) → log reader
// (internal/logstore) → formatter (internal/format) → syslog sender
// (internal/transport), driven per invocation by internal/ship and served
// under FC's go1 or custom runtime by internal/fcruntime. The commands
// (serve, ship, consume, status, redrive, backfill, check, version) are in
// internal/cli; this file only hands them the process.
package main

import (
	"context"
	"os"

	"sls2siem/internal/cli"
	"sls2siem/internal/fcruntime"
)

// version and commit are set at build time with -ldflags
// "-X main.version=... -X main.commit=..." (the Makefile does): builds made
// with -buildvcs=false carry no commit of their own.
var (
	version = "dev"
	commit  = ""
)

func main() {
	fcruntime.LimitMemory() // under FC: a soft heap limit from the function's memory size
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.OSEnv(version, commit)))
}
