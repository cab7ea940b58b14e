package localcloud

import (
	"slices"
	"strings"
	"time"

	"sls2siem/internal/localcloud/fcemu"
)

// Lifecycle is the instanceLifecycleConfig s.yaml gives every function: a
// pre-stop hook, which closes the pooled syslog connections, and no
// initializer (internal/deploy checks that s.yaml says the same).
var Lifecycle = fcemu.Lifecycle{PreStop: &fcemu.Hook{Handler: "pre-stop", Timeout: 10 * time.Second}}

// defaultTimeout is the FC emulator's default function timeout.
const defaultTimeout = 60 * time.Second

// Deployed returns cfg as s.yaml deploys a function: with its lifecycle
// hooks (Lifecycle, unless cfg configures its own) and its timeout also in
// its environment as SHIP_FUNCTION_TIMEOUT (unless cfg.Env sets it), as
// s.yaml passes it: FC 3.0's custom runtime sends the function no deadline.
// A timeout under a second (FC's are whole seconds) is left out of the
// environment.
func Deployed(cfg fcemu.Config) fcemu.Config {
	if cfg.Lifecycle.Initializer == nil && cfg.Lifecycle.PreStop == nil {
		cfg.Lifecycle = Lifecycle
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	const v = "SHIP_FUNCTION_TIMEOUT"
	set := slices.ContainsFunc(cfg.Env, func(kv string) bool { return strings.HasPrefix(kv, v+"=") })
	if !set && cfg.Timeout >= time.Second {
		cfg.Env = append(slices.Clone(cfg.Env), v+"="+cfg.Timeout.String())
	}
	return cfg
}
