package e2e

import (
	"context"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"sls2siem/internal/localcloud/fcemu"
	"sls2siem/internal/localcloud/slsemu"
	"sls2siem/internal/localcloud/slstrigger"
)

func relpEnv(port int, extra ...string) []string {
	return append([]string{"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + strconv.Itoa(port), "SYSLOG_PROTOCOL=relp",
		"SYSLOG_MAX_RETRIES=6", "SYSLOG_RETRY_BACKOFF=100ms", "SYSLOG_WRITE_TIMEOUT=2s", "SYSLOG_MAX_MESSAGE_SIZE=65536"}, extra...)
}

// TestRELPShipsEveryLog: the sample through real imrelp, plain and over
// TLS with a client certificate (authMode name): every log once, every
// message strictly valid.
func TestRELPShipsEveryLog(t *testing.T) {
	requireImrelp(t)
	rs := startRsyslog(t)
	for name, env := range map[string][]string{
		"relp": relpEnv(rs.Ports().RELP),
		"relp-tls": {"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + strconv.Itoa(rs.Ports().RELPTLS), "SYSLOG_PROTOCOL=relp-tls",
			"SYSLOG_TLS_CA_FILE=" + rs.PKI.CAFile, "SYSLOG_TLS_CERT_FILE=" + rs.PKI.ClientCertFile, "SYSLOG_TLS_KEY_FILE=" + rs.PKI.ClientKey},
	} {
		t.Run(name, func(t *testing.T) {
			c := newCloud(t)
			before := len(rs.Messages(t))
			fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{Timeout: 30 * time.Second, Env: append(env, "SLS_PULL_COUNT=5")})
			rep := trTrigger(t, c, fn, 0)
			if rep.RangesFailed != 0 {
				t.Fatalf("ranges failed: %+v", rep.Failed)
			}
			got := rs.WaitForCount(t, before+3000, 30*time.Second)[before:]
			run := trCount(t, c, got)
			if run.missing != 0 || run.duplicated != 0 {
				t.Fatalf("over %s: %s", name, run)
			}
			trCheckFrames(t, got)
		})
	}
}

// relpFault runs the sample through the trigger with a fault injected
// once a third of it has arrived, and counts every log.
type relpFault struct {
	name   string
	env    func(rs *rsyslogd, p *faultProxy) []string
	inject func(t *testing.T, rs *rsyslogd, p *faultProxy, failed <-chan struct{})
}

// TestRELPFaultsLoseNothing: over RELP, each harsh fault ends with every
// log delivered (0 lost) and no range given up; duplicates only among
// what was unacknowledged.
func TestRELPFaultsLoseNothing(t *testing.T) {
	requireImrelp(t)
	faults := []relpFault{
		{"receiver SIGSTOP then SIGKILL and restarted", nil, func(t *testing.T, rs *rsyslogd, p *faultProxy, failed <-chan struct{}) {
			rs.cmd.Process.Signal(syscall.SIGSTOP)
			<-failed // the frozen receiver answered nothing: an invocation failed
			rs.kill()
			rs.start(t)
		}},
		{"receiver restarted", nil, func(t *testing.T, rs *rsyslogd, p *faultProxy, failed <-chan struct{}) {
			rs.Restart(t)
		}},
		{"middlebox ACKs and discards until the sender reconnects", nil, func(t *testing.T, rs *rsyslogd, p *faultProxy, failed <-chan struct{}) {
			p.discardFirst.Store(p.conns.Load() + 1)
			p.discard.Store(true)
		}},
		{"connection reset every 256 KiB", nil, func(t *testing.T, rs *rsyslogd, p *faultProxy, failed <-chan struct{}) {
			p.resetAt.Store(256 << 10)
		}},
	}
	for _, proto := range []string{"relp", "relp-tls"} {
		for _, f := range faults {
			t.Run(proto+"/"+f.name, func(t *testing.T) {
				testRELPFault(t, proto, f)
			})
		}
	}
}

// testRELPFault runs one fault over proto (relp, or relp-tls with a client
// certificate: the proxy carries the TLS stream as it is).
func testRELPFault(t *testing.T, proto string, f relpFault) {
	rs := startRsyslog(t)
	port := rs.Ports().RELP
	var tlsEnv []string
	if proto == "relp-tls" {
		port = rs.Ports().RELPTLS
		tlsEnv = []string{"SYSLOG_PROTOCOL=relp-tls", "SYSLOG_TLS_CA_FILE=" + rs.PKI.CAFile, "SYSLOG_TLS_SERVER_NAME=127.0.0.1",
			"SYSLOG_TLS_CERT_FILE=" + rs.PKI.ClientCertFile, "SYSLOG_TLS_KEY_FILE=" + rs.PKI.ClientKey}
	}
	p := newFaultProxy(t, loopback(port))
	c := newCloud(t)
	// Slow the pulls down so the fault lands in the middle of a range.
	c.emu.InjectFault(slsemu.Fault{Op: slsemu.OpPullLogs, Delay: 15 * time.Millisecond, Times: -1})
	fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{
		Timeout: 60 * time.Second, InstanceConcurrency: 2, Env: append(relpEnv(p.port(), "SLS_PULL_COUNT=2"), tlsEnv...),
	})
	failed := make(chan struct{})
	var once sync.Once
	inv := invokerFunc(func(ctx context.Context, event []byte) (*fcemu.Result, error) {
		res, err := fn.Invoke(ctx, event)
		if err == nil && res.Err != nil {
			once.Do(func() { close(failed) })
		}
		return res, err
	})
	done := make(chan slstrigger.Report, 1)
	go func() { done <- trTrigger(t, c, inv, 5) }()
	rs.WaitForCount(t, 1000, 60*time.Second)
	f.inject(t, rs, p, failed)
	rep := <-done
	if rep.RangesFailed != 0 {
		t.Fatalf("ranges given up: %+v", rep.Failed)
	}
	run := trCount(t, c, rs.WaitForCount(t, 3000, 60*time.Second))
	run.resent = trResent(t, rep)
	t.Logf("%s, %s: %s; %d invocations for %d ranges; %s", proto, f.name, run, len(rep.Attempts), rep.RangesOK, p)
	if run.missing != 0 {
		t.Fatalf("%d logs lost", run.missing)
	}
	if len(rep.Attempts) == rep.RangesOK && run.resent == 0 && trReconnects(t, rep) == 0 {
		t.Fatal("the fault did not land in the middle of a range: nothing was resent or retried, so this run proves nothing")
	}
}

func TestRELPReceiverDownPastTheRetries(t *testing.T) {
	requireImrelp(t)
	c := newCloud(t)
	port := closedPort(t)
	fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{
		Timeout: 30 * time.Second, Env: relpEnv(port, "SYSLOG_MAX_RETRIES=1", "SYSLOG_RETRY_BACKOFF=10ms"),
	})
	begin, end := c.shardRange(t, 0)
	res, err := fn.Invoke(context.Background(), c.event(0, begin, end))
	if err != nil {
		t.Fatal(err)
	}
	if res.Err == nil {
		t.Fatalf("invocation succeeded with no receiver: %s", res.Payload)
	}
}

// TestTCPResetEveryNKiBCompletes: over plain TCP, a connection reset
// every 256 KiB no longer makes the range restart from the top forever:
// batches confirmed by the receiver's TCP stack are not sent again, so
// the range completes.
func TestTCPResetEveryNKiBCompletes(t *testing.T) {
	rs := startRsyslog(t)
	p := newFaultProxy(t, loopback(rs.Ports().TCP))
	p.resetAt.Store(256 << 10)
	c := newCloud(t)
	fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{
		Timeout: 60 * time.Second, Env: trEnv(p.port(), "SLS_PULL_COUNT=2"),
	})
	rep := trTrigger(t, c, fn, 3)
	if rep.RangesFailed != 0 {
		t.Fatalf("ranges given up: %+v", rep.Failed)
	}
	run := trCount(t, c, rs.Messages(t))
	t.Logf("TCP, reset every 256 KiB: %s; %s", run, p)
	if p.resets.Load() == 0 {
		t.Fatal("no connection was reset: the test proves nothing")
	}
	if run.missing > 0 {
		t.Logf("%d logs lost: bytes the receiver's kernel acknowledged before the reset were never read (plain TCP's limit)", run.missing)
	}
}

func trReconnects(t *testing.T, rep slstrigger.Report) int64 {
	var n int64
	for _, a := range rep.Attempts {
		if a.Err == "" {
			n += decodeSummary(t, a.Payload).Reconnects
		}
	}
	return n
}
