package fcemu

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// Contract selects how the emulator talks to the function process.
type Contract string

// The supported FC runtime contracts.
const (
	ContractGo1    Contract = "go1"    // fc-runtime-go-sdk runtime API (FC_RUNTIME_API)
	ContractCustom Contract = "custom" // FC 3.0 custom runtime HTTP server (FC_CUSTOM_LISTEN_PORT)
)

// Credentials are the STS credentials FC hands the function on each
// invocation (from the function's role).
type Credentials struct {
	AccessKeyID, AccessKeySecret, SecurityToken string
}

// Config describes one function instance.
type Config struct {
	Binary string   // path of the built function binary
	Args   []string // arguments after the binary name

	Contract Contract

	// Env is extra environment for the function, as "KEY=value" entries.
	Env []string

	// Timeout is the function timeout (FC timeout). Default 60s.
	Timeout time.Duration

	// InstanceConcurrency is how many invocations may run at once. Default 1.
	InstanceConcurrency int

	// Credentials are sent in the x-fc-access-key-id, x-fc-access-key-secret
	// and x-fc-security-token headers of every invocation.
	Credentials Credentials

	FunctionName string // default "fn"
	MemoryMB     int    // default 128
	Region       string // default "cn-hangzhou"
	AccountID    string // default "1234567890"

	// Output receives the function's stdout and stderr (default os.Stderr).
	// Writes are serialised; none happen after Stop returns.
	Output io.Writer

	// Port is the custom runtime port; 0 picks a free one on each start.
	Port int

	// ReadyTimeout bounds how long a start waits for the function to be
	// ready (custom: the port accepts; go1: the first runtime API call).
	// Default 120s, like FC.
	ReadyTimeout time.Duration

	// Terms selects where the emulator holds the function to FC 3.0's
	// documented contract (the zero value) or is kinder (terms.go).
	Terms Terms

	// Lifecycle is the function's instanceLifecycleConfig as s.yaml
	// configures it. It matters only with Terms.Hooks = HooksConfigured,
	// the default.
	Lifecycle Lifecycle
}

const (
	defaultTimeout      = 60 * time.Second
	defaultReadyTimeout = 120 * time.Second
	stopGrace           = 5 * time.Second
)

// withDefaults validates cfg and fills in defaults.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Binary == "" {
		return cfg, errors.New("fcemu: Config.Binary is empty")
	}
	switch cfg.Contract {
	case ContractGo1, ContractCustom:
	case "":
		return cfg, errors.New("fcemu: Config.Contract is empty")
	default:
		return cfg, fmt.Errorf("fcemu: unknown contract %q", cfg.Contract)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.InstanceConcurrency <= 0 {
		cfg.InstanceConcurrency = 1
	}
	if cfg.FunctionName == "" {
		cfg.FunctionName = "fn"
	}
	if cfg.MemoryMB <= 0 {
		cfg.MemoryMB = 128
	}
	if cfg.Region == "" {
		cfg.Region = "cn-hangzhou"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "1234567890"
	}
	if cfg.Output == nil {
		cfg.Output = os.Stderr
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = defaultReadyTimeout
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return cfg, fmt.Errorf("fcemu: invalid port %d", cfg.Port)
	}
	if err := cfg.Terms.validate(); err != nil {
		return cfg, err
	}
	if !cfg.Terms.KindEnv {
		if err := CheckEnv(cfg.Env); err != nil {
			return cfg, err
		}
	}
	for _, h := range []*Hook{cfg.Lifecycle.Initializer, cfg.Lifecycle.PreStop} {
		if h != nil && h.Timeout < 0 {
			return cfg, fmt.Errorf("fcemu: negative lifecycle hook timeout %v", h.Timeout)
		}
	}
	if cfg.Terms.Freeze.Hold < 0 {
		return cfg, fmt.Errorf("fcemu: negative freeze hold %v", cfg.Terms.Freeze.Hold)
	}
	return cfg, nil
}

// timeoutSeconds is the timeout as FC's integer x-fc-function-timeout.
func (cfg Config) timeoutSeconds() int {
	s := int((cfg.Timeout + time.Second - 1) / time.Second)
	return max(s, 1)
}

// timeoutMessage is FC's message for a call timed out after d.
func timeoutMessage(d time.Duration) string {
	return "Function timed out after " + strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " seconds"
}
