package cli

import (
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"sls2siem/internal/fcruntime"
)

// Env is what the commands read and write: the process's environment,
// streams and signals, or a test's.
type Env struct {
	Getenv  func(string) string
	Environ func() []string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	// Signals delivers SIGINT and SIGTERM (nil: none).
	Signals <-chan os.Signal
	// IsTerminal reports whether w is a terminal (nil: never).
	IsTerminal func(w io.Writer) bool
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Argv0 is how the tool was invoked (the resume command of backfill
	// repeats it when it holds a path); "" for sls2siem.
	Argv0 string
	// Build is the version of the binary.
	Build Build
	// BatchMemory is the memory budget of pulled batches (0: default).
	BatchMemory int64
}

// Build identifies the binary.
type Build struct {
	Version   string // set by the Makefile (-X main.version)
	Commit    string // set by the Makefile (-X main.commit), else the VCS stamp
	Modified  bool   // built from a modified work tree
	GoVersion string
}

// OSEnv is the process's Env; version and commit are the Makefile's -X
// main.version and main.commit.
func OSEnv(version, commit string) Env {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	return Env{
		Getenv: os.Getenv, Environ: os.Environ,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Signals: sigs, IsTerminal: isTerminal, Now: time.Now,
		Argv0: os.Args[0], Build: ReadBuild(version, commit), BatchMemory: fcruntime.BatchMemory(),
	}
}

// ReadBuild reads the commit and the Go version from the binary's build
// information; commit, when not empty, is the one the build was given
// (the binary then carries no VCS stamp of its own, or the same).
func ReadBuild(version, commit string) Build {
	b := Build{Version: version, Commit: commit}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.GoVersion = info.GoVersion
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			if b.Commit == "" {
				b.Commit = s.Value
			}
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (e *Env) terminal(w io.Writer) bool { return e.IsTerminal != nil && e.IsTerminal(w) }

func (e *Env) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

func (e *Env) environ() []string {
	if e.Environ == nil {
		return nil
	}
	return e.Environ()
}

// argv0 is the tool's name for a command line to run again: the path it
// was run by, when it holds one.
func (e *Env) argv0() string {
	if strings.ContainsRune(e.Argv0, '/') {
		return e.Argv0
	}
	return "sls2siem"
}
