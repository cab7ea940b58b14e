package metrics_test

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"sls2siem/internal/config"
	"sls2siem/internal/consume"
	"sls2siem/internal/localcloud"
	"sls2siem/internal/ship"
)

// refusingRELP is a RELP receiver on loopback that opens every session
// and answers every syslog command "500", as a receiver that refuses the
// messages does. It returns its address.
func refusingRELP(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					// TXNR SP COMMAND SP DATALEN [SP DATA] LF
					head, err := r.ReadString(' ')
					if err != nil {
						return
					}
					cmd, err := r.ReadString(' ')
					if err != nil {
						return
					}
					txnr, cmd := strings.TrimSpace(head), strings.TrimSpace(cmd)
					var n int
					if _, err := fmt.Fscan(r, &n); err != nil {
						return
					}
					if _, err := r.Discard(n + 1 + min(n, 1)); err != nil { // SP DATA LF, or LF alone
						return
					}
					answer := "500 refused by test"
					if cmd == "open" {
						answer = "200 OK\nrelp_version=0\ncommands=syslog"
					}
					fmt.Fprintf(c, "%s rsp %d %s\n", txnr, len(answer), answer)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// TestMetricsLabelARELPRefusalAck: a RELP receiver that answers 500
// (errors.Is relp.ErrRefused) makes every failed delivery count under
// kind "ack" of sls2siem_send_failures_total, and under no other kind.
func TestMetricsLabelARELPRefusalAck(t *testing.T) {
	e := newEnv(t)
	e.appendGroups(t, 0, 3, 4, time.Now())
	host, port, _ := net.SplitHostPort(refusingRELP(t))
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"SYSLOG_HOST": host, "SYSLOG_PORT": port, "SYSLOG_PROTOCOL": "relp",
			"SYSLOG_WRITE_TIMEOUT": "2s", "SLS_ALLOWED_ENDPOINTS": localcloud.AllowedPatterns(e.endpoint), "SLS_HTTPS": "false"}[k]
	}, config.UseTrigger)
	if err != nil {
		t.Fatal(err)
	}
	s := ship.New(cfg, e.log)
	t.Cleanup(func() { s.Close() })
	d := start(t, e, s, time.Minute)
	waitFor(t, "two refused deliveries", func() bool {
		s, _ := d.scrape(t)
		v, _ := s.Value("sls2siem_send_failures_total", "shard", "0", "kind", consume.FailAck)
		return v >= 2
	})
	got, _ := d.scrape(t)
	d.stop()
	ack, _ := got.Value("sls2siem_send_failures_total", "shard", "0", "kind", consume.FailAck)
	if total := got.Sum("sls2siem_send_failures_total"); total != ack {
		t.Errorf("failures: %v in all, %v of kind ack; want every refusal labelled ack", total, ack)
	}
	if v, _ := got.Value("sls2siem_shipped_logs_total", "shard", "0"); v != 0 {
		t.Errorf("%v logs counted shipped although every one was refused", v)
	}
	if !strings.Contains(e.logs.String(), `"kind":"ack"`) {
		t.Error("the consumer's failure lines do not name kind ack")
	}
}
