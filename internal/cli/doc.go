// Package cli is sls2siem's command layer: one type per command (serve,
// ship, consume, status, redrive, backfill, check, version, help), each
// with its flags, its usage text and a Run method, all taking what they
// read and write from an Env (the environment, stdin, stdout, stderr, the
// signals) so that every command runs in-process in tests. Main parses
// the command line, handles signals, prints an error once and maps it to
// the exit status (exit.go holds the one table of them).
//
// Output discipline: a command's result (the JSON summaries of ship,
// redrive and backfill, status's report, check's findings) goes to stdout
// and nothing else does; log lines, warnings, progress and errors go to
// stderr. Usage asked for with -h, --help or help goes to stdout (exit 0);
// usage after a usage error goes to stderr (exit 2).
package cli
