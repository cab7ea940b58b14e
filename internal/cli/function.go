package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"sls2siem/internal/config"
	"sls2siem/internal/consume"
	"sls2siem/internal/fcruntime"
	"sls2siem/internal/ship"
)

// function is the FC handler of the trigger and consumer-group functions:
// the Shipper, or the configuration error that every invocation reports
// (FC shows it) instead of a crash loop. Timer events run the
// consumer-group driver.
type function struct {
	shipper  *ship.Shipper
	consumer *consume.Invoker
	cfgErr   error
	log      *slog.Logger
	// timeout is the function's configured timeout (SHIP_FUNCTION_TIMEOUT).
	timeout time.Duration
}

// newFunction loads the configuration of the function (config.UseTrigger;
// config.UseTimer for timer events, whose problems only those fail with).
func newFunction(e *Env) *function {
	cfg, err := config.Load(e.Getenv, config.UseTrigger)
	cfg.BatchMemory = e.BatchMemory
	err = errors.Join(err, servesAs(cfg, config.FunctionShip, "serve"))
	log := e.fcLogger(cfg)
	if err != nil {
		log.Error("cold start: configuration rejected; every invocation will fail until it is fixed", "error", err.Error())
		return &function{cfgErr: err, log: log, timeout: cfg.FC.Timeout}
	}
	log.Info("cold start", "version", e.Build.Version, "config", cfg.LogValue())
	logWarnings(log, "cold start", cfg)
	shipper := ship.New(cfg, log)
	timer, timerErr := config.Load(e.Getenv, config.UseTimer)
	timer.BatchMemory = e.BatchMemory
	return &function{shipper: shipper, consumer: consume.NewInvoker(timer, timerErr, shipper, log), log: log, timeout: cfg.FC.Timeout}
}

// servesAs reports a function whose SHIP_FUNCTION says it is another one
// than the command serving it (cmd) is: s.yaml gives each function both.
func servesAs(cfg config.Config, want, cmd string) error {
	if cfg.FC.Function == "" || cfg.FC.Function == want {
		return nil
	}
	return fmt.Errorf("%s is %s, but this function runs sls2siem %s: make the command and %s agree (s.yaml sets both)",
		config.VarShipFunction, cfg.FC.Function, cmd, config.VarShipFunction)
}

func (f *function) Invoke(ctx context.Context, req fcruntime.Request) ([]byte, error) {
	if f.cfgErr != nil {
		return nil, f.cfgErr
	}
	if consume.IsTimerEvent(req.Payload) {
		return f.consumer.Invoke(ctx, req.ID, req.Payload, req.Credentials)
	}
	sum, err := f.shipper.Ship(ctx, ship.Invocation{RequestID: req.ID, Event: req.Payload, Credentials: req.Credentials})
	if err != nil {
		return nil, err
	}
	return json.Marshal(sum)
}

func (f *function) PreStop(ctx context.Context) {
	if f.shipper == nil {
		return
	}
	if err := f.shipper.Close(); err != nil {
		f.log.Warn("pre-stop: closing syslog connections", "error", err.Error())
	}
}

// served is a function handler ready to serve: its logger and its
// configured timeout (SHIP_FUNCTION_TIMEOUT, for fcruntime.Deadline).
type served struct {
	h       fcruntime.Handler
	log     *slog.Logger
	timeout time.Duration
}

// serveFunction serves the handler newHandler makes under the contract FC
// gives, until ctx ends: the go1 runtime API when FC_RUNTIME_API is set,
// else the custom runtime's HTTP server on FC_CUSTOM_LISTEN_PORT. A bad
// port is a usage error before anything is loaded.
func serveFunction(ctx context.Context, e *Env, newHandler func() served) error {
	if e.Getenv(config.VarFCRuntimeAPI) != "" {
		s := newHandler()
		fcruntime.ServeGo1(ctx, s.h, s.timeout)
		return nil
	}
	addr, err := fcruntime.ServerAddr(e.Getenv)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	s := newHandler()
	srv := fcruntime.Server{Handler: s.h, Log: s.log, Timeout: s.timeout}
	if err := srv.Serve(ctx, addr); err != nil {
		s.log.Error(err.Error())
		return reported(ExitFailure, err)
	}
	return nil
}
