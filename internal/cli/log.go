package cli

import (
	"io"
	"log/slog"

	"sls2siem/internal/config"
)

// newLogger returns the logger of a command run by hand: LOG_LEVEL, and
// LOG_FORMAT (text on a terminal, else JSON) on stderr.
func (e *Env) newLogger(cfg config.Config) *slog.Logger {
	json := cfg.LogFormat == "json" || cfg.LogFormat == "" && !e.terminal(e.Stderr)
	return newLogger(e.Stderr, cfg.LogLevel, json)
}

// fcLogger returns the logger under FC: JSON lines, always (FC stores
// each line in its log logstore).
func (e *Env) fcLogger(cfg config.Config) *slog.Logger {
	return newLogger(e.Stderr, cfg.LogLevel, true)
}

func newLogger(w io.Writer, level string, json bool) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: l}
	if json {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// logWarnings logs the settings that weaken security, in every mode.
func logWarnings(log *slog.Logger, cmd string, cfg config.Config) {
	for _, w := range cfg.Warnings {
		log.Warn(cmd + ": " + w)
	}
}
