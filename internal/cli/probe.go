package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"sls2siem/internal/config"
	"sls2siem/internal/relp"
	"sls2siem/internal/slsapi"
	"sls2siem/internal/transport"
)

// probeTimeout bounds each probe.
const probeTimeout = 15 * time.Second

// probes connects to each receiver as shipping would (all at once), and
// lists the shards of the source logstore when it is named.
func (c *checkCmd) probes(ctx context.Context, loaded map[config.Use]config.Config) []finding {
	var out []finding
	for _, m := range modes {
		if cfg, ok := loaded[m.use]; ok && m.use&config.UseShipping != 0 {
			found := make([]finding, len(cfg.Syslog.Receivers))
			var wg sync.WaitGroup
			for i, r := range cfg.Syslog.Receivers {
				wg.Go(func() { found[i] = probeReceiver(ctx, r) })
			}
			wg.Wait()
			out = append(out, found...)
			break
		}
	}
	if c.env.Getenv(config.VarSLSEndpoint) != "" && c.env.Getenv(config.VarSLSProject) != "" && c.env.Getenv(config.VarSLSLogstore) != "" {
		out = append(out, c.probeSLS(ctx))
	}
	if len(out) == 0 {
		out = append(out, finding{Level: "warning", Message: "nothing to probe: no configuration that ships logs or names an SLS logstore is complete"})
	}
	return out
}

// probeReceiver dials the receiver with the transport's own Dial: TCP
// connect, TLS handshake with verification and the client certificate,
// RELP open; then closes the connection without sending a message.
func probeReceiver(ctx context.Context, t transport.Config) finding {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	what := fmt.Sprintf("syslog receiver %s over %s", t.Address, t.Network)
	f := finding{Probe: "receiver"}
	if t.Network == transport.NetworkUDP {
		f.Level, f.Message = "warning", what+": UDP has no connection to try: nothing tells whether the receiver listens"
		return f
	}
	conn, err := transport.Dial(ctx, &t)
	if err != nil {
		f.Level, f.Message = "error", fmt.Sprintf("%v%s", err, receiverHint(err))
		return f
	}
	conn.Close()
	done := "connected"
	switch t.Network {
	case transport.NetworkTLS:
		done = "connected, TLS handshake verified"
	case transport.NetworkRELP:
		done = "connected, RELP session opened"
	case transport.NetworkRELPTLS:
		done = "connected, TLS handshake verified, RELP session opened"
	}
	f.Level, f.Message = "ok", what+": "+done
	return f
}

// receiverHint says what to do about a failure to connect (TLS failures
// say it themselves).
func receiverHint(err error) string {
	var op *net.OpError
	var re *relp.Error
	switch {
	case errors.As(err, &re) && re.Code != 0:
		return "; check the receiver's RELP input (imrelp) and its logs"
	case errors.As(err, &re):
		return "; is the port a RELP input? (SYSLOG_PROTOCOL=relp speaks RELP, not plain syslog)"
	case errors.As(err, &op) && op.Op == "dial":
		return fmt.Sprintf("; is the receiver up and listening there? check %s and %s", config.VarSyslogHost, config.VarSyslogPort)
	}
	return ""
}

// probeSLS lists the shards of SLS_PROJECT/SLS_LOGSTORE at SLS_ENDPOINT
// with the ALIBABA_CLOUD_* AccessKey pair.
func (c *checkCmd) probeSLS(ctx context.Context) finding {
	f := finding{Probe: "sls"}
	cfg, err := config.Load(c.env.Getenv, config.UseStatus)
	if err != nil {
		f.Level, f.Message = "error", "SLS: "+problemList(config.Problems(err))
		return f
	}
	client, err := slsapi.New(cfg.SLS.Endpoint, cfg.Credentials, slsapi.NewTransport(cfg.Endpoints).WithSigning(cfg.Signing))
	if err != nil {
		f.Level, f.Message = "error", "SLS: "+err.Error()
		return f
	}
	shards, err := client.Shards(ctx, cfg.SLS.Project, cfg.SLS.Logstore)
	if err != nil {
		f.Level, f.Message = "error", fmt.Sprintf("SLS: %v%s", err, slsHint(err))
		return f
	}
	f.Level = "ok"
	f.Message = fmt.Sprintf("SLS endpoint %s: project %s logstore %s has %s", cfg.SLS.Endpoint, cfg.SLS.Project, cfg.SLS.Logstore, count(int64(len(shards)), "shard"))
	return f
}

// slsHint says what to do about an SLS failure.
func slsHint(err error) string {
	var ce *slsapi.CodeError
	var ue *slsapi.UnreachableError
	switch {
	case errors.As(err, &ue):
		return fmt.Sprintf("; check %s and the network path to it", config.VarSLSEndpoint)
	case !errors.As(err, &ce):
		return ""
	case ce.Code == "ProjectNotExist":
		return fmt.Sprintf("; check %s (and that %s is the project's region)", config.VarSLSProject, config.VarSLSEndpoint)
	case ce.Code == "LogStoreNotExist":
		return fmt.Sprintf("; check %s", config.VarSLSLogstore)
	case ce.Code == "Unauthorized", ce.Code == "SignatureNotMatch", ce.Code == "InvalidAccessKeyId":
		return fmt.Sprintf("; check %s and %s, and that the RAM user may log:ListShards", config.VarAccessKeyID, config.VarAccessKeySecret)
	}
	return ""
}
