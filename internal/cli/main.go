package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"sls2siem/internal/config"
	"sls2siem/internal/slsapi"
)

// Command is one sls2siem command.
type Command interface {
	Name() string
	// Summary says in one line what it does, for the tool's usage.
	Summary() string
	// Usage is its usage text: synopsis, what it does, flags, exit
	// statuses.
	Usage() string
	// Run runs it with its arguments (the command name excluded).
	Run(ctx context.Context, args []string) error
}

// commands are every command, in the order the usage lists them.
func commands(env *Env) []Command {
	cmds := []Command{
		&serveCmd{env: env}, &shipCmd{env: env}, &consumeCmd{env: env}, &statusCmd{env: env},
		&redriveCmd{env: env}, &backfillCmd{env: env}, &checkCmd{env: env}, &versionCmd{env: env},
	}
	return append(cmds, &helpCmd{env: env, cmds: cmds})
}

// Main runs the command line args (without the program name) and returns
// the exit status. Without a command, under Function Compute it serves the
// function SHIP_FUNCTION names (go1 when FC_RUNTIME_API is set, else the
// custom runtime).
func Main(ctx context.Context, args []string, env Env) int {
	ctx, stop := withSignals(ctx, env.Signals)
	defer stop()
	cmds := commands(&env)
	if len(args) == 0 {
		return env.runtime(ctx, cmds)
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		name = "help"
	case "-v", "-version", "--version":
		name = "version"
	}
	for _, c := range cmds {
		if c.Name() == name {
			return env.finish(ctx, c, c.Run(ctx, args[1:]))
		}
	}
	what := "command"
	if strings.HasPrefix(name, "-") {
		what = "flag"
	}
	fmt.Fprintf(env.Stderr, "sls2siem: unknown %s %q\n\n%s", what, name, toolUsage(cmds))
	return ExitUsage
}

// runtime is sls2siem without a command: under FC (the go1 runtime starts
// the handler without arguments) the function SHIP_FUNCTION names, as
// serve or redrive -serve; elsewhere a usage error.
func (e *Env) runtime(ctx context.Context, cmds []Command) int {
	underFC := false
	for _, v := range []string{config.VarFCRuntimeAPI, config.VarFCListenPort, config.VarFCServerPort, config.VarFCFunctionName} {
		underFC = underFC || e.Getenv(v) != ""
	}
	if !underFC {
		fmt.Fprintf(e.Stderr, "sls2siem: no command given\n\n%s", toolUsage(cmds))
		return ExitUsage
	}
	name, args := "serve", []string(nil)
	fn, err := config.FunctionOf(e.Getenv)
	if fn == config.FunctionRedrive {
		name, args = "redrive", []string{"-serve"}
	}
	for _, c := range cmds {
		if c.Name() == name {
			if err != nil {
				return e.finish(ctx, c, err)
			}
			return e.finish(ctx, c, c.Run(ctx, args))
		}
	}
	panic("cli: no " + name + " command")
}

// finish prints what err says, once, where it belongs, and returns the
// exit status.
func (e *Env) finish(ctx context.Context, c Command, err error) int {
	code := exitCode(ctx, err)
	var ue *UsageError
	var ee *exitError
	switch {
	case err == nil:
	case isHelp(err):
		fmt.Fprint(e.Stdout, c.Usage())
	case errors.As(err, &ue) && ue.Short:
		fmt.Fprintf(e.Stderr, "sls2siem %s: %s\n(sls2siem %s -h describes the flags)\n", c.Name(), ue.Msg, c.Name())
	case errors.As(err, &ue):
		fmt.Fprintf(e.Stderr, "sls2siem %s: %s\n\n%s", c.Name(), ue.Msg, c.Usage())
	case config.Problems(err) != nil:
		fmt.Fprintf(e.Stderr, "sls2siem %s: %s", c.Name(), problemList(config.Problems(err)))
	case errors.As(err, &ee) && ee.reported:
	default:
		fmt.Fprintf(e.Stderr, "sls2siem %s: %v%s\n", c.Name(), err, hint(err))
	}
	return code
}

// hint says what to do about an error, when the error cannot.
func hint(err error) string {
	var ue *slsapi.UnreachableError
	if errors.As(err, &ue) {
		return fmt.Sprintf(" (check %s and the network path to it)", config.VarSLSEndpoint)
	}
	return ""
}

// problemList says the problems of a configuration, one a line.
func problemList(errs config.Errors) string {
	if len(errs) == 1 {
		return "invalid configuration: " + errs[0].Msg + "\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid configuration: %d problems:\n", len(errs))
	for _, p := range errs {
		fmt.Fprintf(&b, "  %s\n", p.Msg)
	}
	return b.String()
}

// toolUsage is the usage of the whole tool.
func toolUsage(cmds []Command) string {
	var b strings.Builder
	b.WriteString(`sls2siem ships Alibaba Cloud SLS logs to a SIEM over syslog, as a Function Compute
function or by hand.

Usage:
  sls2siem <command> [flags]

Commands:
`)
	for _, c := range cmds {
		fmt.Fprintf(&b, "  %-9s %s\n", c.Name(), c.Summary())
	}
	b.WriteString(`
Without a command, under Function Compute: the function SHIP_FUNCTION names (ship: as
serve; redrive: as redrive -serve), under the go1 runtime when FC_RUNTIME_API is set,
else the custom runtime. "sls2siem <command> -h" describes a command.
The configuration comes from environment variables (docs/configuration.md);
"sls2siem check" validates them.

` + exitTable)
	return b.String()
}

// exitTable says the exit statuses, as every usage text ends.
const exitTable = `Exit status: 0 success; 1 a runtime failure (running again retries it); 2 usage or
configuration error (nothing was attempted); 3 data that can no longer be shipped (expired
ranges) or a lag alert (status -max-lag); 130 interrupted by SIGINT or SIGTERM, what was
done saved.
`
