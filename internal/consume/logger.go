package consume

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// sdkLogger adapts the consumer library's go-kit logger (key-value pairs
// with a "level" and a "msg") to slog. The library reports every heartbeat
// at info level: its info and debug lines become debug lines here, and so
// do its lines about an error of the processor, which logged it already
// (an error is said once). Secrets are redacted from every value, should
// the library ever log one.
type sdkLogger struct {
	log     *slog.Logger
	secrets []string
}

func (l sdkLogger) Log(keyvals ...any) error {
	level, msg := slog.LevelDebug, "consumer library"
	attrs := make([]slog.Attr, 0, len(keyvals)/2)
	said := false
	for i := 0; i+1 < len(keyvals); i += 2 {
		var pe *processError
		if err, ok := keyvals[i+1].(error); ok && errors.As(err, &pe) {
			said = true
		}
		k, v := fmt.Sprint(keyvals[i]), l.redact(fmt.Sprint(keyvals[i+1]))
		switch k {
		case "level":
			switch v {
			case "warn":
				level = slog.LevelWarn
			case "error":
				level = slog.LevelError
			}
		case "msg":
			msg = "consumer library: " + v
		case "time", "caller":
		default:
			attrs = append(attrs, slog.String(k, v))
		}
	}
	if said {
		level = slog.LevelDebug
	}
	l.log.LogAttrs(context.Background(), level, msg, attrs...)
	return nil
}

func (l sdkLogger) redact(s string) string {
	for _, secret := range l.secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "<redacted>")
		}
	}
	return s
}
