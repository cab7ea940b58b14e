package cli

import (
	"context"
	"fmt"
)

// versionCmd prints the version, the commit and the Go version.
type versionCmd struct{ env *Env }

func (c *versionCmd) Name() string    { return "version" }
func (c *versionCmd) Summary() string { return "print the version, the commit and the Go version" }
func (c *versionCmd) Usage() string {
	return "Usage: sls2siem version (or sls2siem --version)\n\nPrints the version, the commit it was built from and the Go version.\n\n" + exitTable
}

func (c *versionCmd) Run(ctx context.Context, args []string) error {
	if err := parseFlags(newFlags("version"), args); err != nil {
		return err
	}
	b := c.env.Build
	commit := b.Commit
	switch {
	case commit == "":
		commit = "unknown"
	case b.Modified:
		commit += " (modified)"
	}
	goVersion := b.GoVersion
	if goVersion == "" {
		goVersion = "unknown"
	}
	fmt.Fprintf(c.env.Stdout, "sls2siem %s\ncommit %s\n%s\n", b.Version, commit, goVersion)
	return nil
}

// helpCmd prints the usage of the tool or of a command.
type helpCmd struct {
	env  *Env
	cmds []Command
}

func (c *helpCmd) Name() string    { return "help" }
func (c *helpCmd) Summary() string { return "describe the tool, or a command (help <command>)" }
func (c *helpCmd) Usage() string   { return toolUsage(c.cmds) }

func (c *helpCmd) Run(ctx context.Context, args []string) error {
	switch {
	case len(args) == 0:
		fmt.Fprint(c.env.Stdout, toolUsage(c.cmds))
		return nil
	case len(args) > 1:
		return usagef("help takes one command, not %d arguments", len(args))
	}
	for _, cmd := range c.cmds {
		if cmd.Name() == args[0] {
			fmt.Fprint(c.env.Stdout, cmd.Usage())
			return nil
		}
	}
	return usagef("unknown command %q", args[0])
}
