package cli

import (
	"context"
	"encoding/json"
	"log/slog"

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
}

// newFunction loads the configuration of the function (config.UseTrigger;
// config.UseTimer for timer events, whose problems only those fail with).
func newFunction(e *Env) *function {
	cfg, err := config.Load(e.Getenv, config.UseTrigger)
	cfg.BatchMemory = e.BatchMemory
	log := e.fcLogger(cfg)
	if err != nil {
		log.Error("cold start: configuration rejected; every invocation will fail until it is fixed", "error", err.Error())
		return &function{cfgErr: err, log: log}
	}
	log.Info("cold start", "version", e.Build.Version, "config", cfg.LogValue())
	logWarnings(log, "cold start", cfg)
	shipper := ship.New(cfg, log)
	timer, timerErr := config.Load(e.Getenv, config.UseTimer)
	timer.BatchMemory = e.BatchMemory
	return &function{shipper: shipper, consumer: consume.NewInvoker(timer, timerErr, shipper, log), log: log}
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

// startGo1 serves the function under FC's go1 runtime; it does not return.
func startGo1(e *Env) error {
	fcruntime.StartGo1(newFunction(e))
	return nil
}
