package consume

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// sdkLogger adapts the consumer library's go-kit logger (key-value pairs
// with a "level" and a "msg") to slog. The library reports every heartbeat
// at info level: its info and debug lines become debug lines here. Secrets
// are redacted from every value, should the library ever log one.
type sdkLogger struct {
	log     *slog.Logger
	secrets []string
}

func (l sdkLogger) Log(keyvals ...any) error {
	level, msg := slog.LevelDebug, "consumer library"
	attrs := make([]slog.Attr, 0, len(keyvals)/2)
	for i := 0; i+1 < len(keyvals); i += 2 {
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
