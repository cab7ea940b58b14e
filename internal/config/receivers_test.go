package config

import (
	"strings"
	"testing"
	"time"

	"sls2siem/internal/receivers"
)

// TestSeveralReceivers: SYSLOG_HOST's list with one port for all or one
// per host; every other setting applies to each receiver, and over TLS
// each verifies its own host name unless SYSLOG_TLS_SERVER_NAME names one.
func TestSeveralReceivers(t *testing.T) {
	c, err := load(map[string]string{"SYSLOG_HOST": "collector-a.example, 10.0.0.2,collector-c.example", "SYSLOG_PORT": "6514,6515, 6516",
		"SYSLOG_PROTOCOL": "tls", "SYSLOG_BALANCE": "Round-Robin", "SYSLOG_FAILBACK_PROBES": "5", "SYSLOG_PROBE_INTERVAL": "2s"})
	if err != nil {
		t.Fatal(err)
	}
	s := c.Syslog
	var addrs, names []string
	for _, r := range s.Receivers {
		addrs = append(addrs, r.Address)
		names = append(names, r.TLS.ServerName)
		if r.Network != "tls" || r.Framing != "octet-counting" || r.DialTimeout != 5*time.Second {
			t.Errorf("receiver %s: %+v", r.Address, r)
		}
	}
	if strings.Join(addrs, " ") != "collector-a.example:6514 10.0.0.2:6515 collector-c.example:6516" ||
		strings.Join(names, " ") != "collector-a.example 10.0.0.2 collector-c.example" {
		t.Errorf("addresses %v, names %v", addrs, names)
	}
	if s.Transport.Address != addrs[0] || s.Balance != receivers.RoundRobin || s.FailbackProbes != 5 || s.ProbeInterval != 2*time.Second {
		t.Errorf("syslog = %+v", s)
	}

	c, err = load(map[string]string{"SYSLOG_HOST": "a.example,b.example", "SYSLOG_PROTOCOL": "relp-tls", "SYSLOG_TLS_SERVER_NAME": "siem.example"})
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Syslog.Receivers; len(r) != 2 || r[0].Address != "a.example:20514" || r[1].Address != "b.example:20514" ||
		r[0].TLS.ServerName != "siem.example" || r[1].TLS.ServerName != "siem.example" || c.Syslog.Balance != receivers.Failover {
		t.Errorf("receivers %+v, balance %s", r, c.Syslog.Balance)
	}

	// One host: one receiver, the defaults as before.
	c, err = load(map[string]string{"SYSLOG_HOST": "siem.example"})
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Syslog.Receivers; len(r) != 1 || r[0].Address != "siem.example:514" || c.Syslog.Transport.Address != r[0].Address ||
		c.Syslog.FailbackProbes != 3 || c.Syslog.ProbeInterval != 30*time.Second || c.Syslog.Balance != receivers.Failover {
		t.Errorf("one host: %+v", c.Syslog)
	}

	// The same host on two ports is two receivers.
	if c, err = load(map[string]string{"SYSLOG_HOST": "siem,siem", "SYSLOG_PORT": "514,515"}); err != nil || len(c.Syslog.Receivers) != 2 {
		t.Errorf("one host, two ports: %v %+v", err, c.Syslog.Receivers)
	}
}

// TestBadReceiverLists: each bad list is a configuration error naming the
// variable and what is wrong.
func TestBadReceiverLists(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"SYSLOG_HOST": "a,,b"}, `SYSLOG_HOST is "a,,b": entry 2 is empty`},
		{map[string]string{"SYSLOG_HOST": "a,b,"}, `SYSLOG_HOST is "a,b,": entry 3 is empty`},
		{map[string]string{"SYSLOG_HOST": ",a"}, `SYSLOG_HOST is ",a": entry 1 is empty`},
		{map[string]string{"SYSLOG_HOST": "a,b:6514"}, `SYSLOG_HOST is "a,b:6514": entry 2 has a port: give the hosts alone in SYSLOG_HOST and the ports in SYSLOG_PORT`},
		{map[string]string{"SYSLOG_HOST": "a,b c"}, `SYSLOG_HOST is "a,b c": entry 2 ("b c"): want a host name`},
		{map[string]string{"SYSLOG_HOST": "a,b,A"}, "SYSLOG_HOST names the receiver A:514 twice (entries 1 and 3"},
		{map[string]string{"SYSLOG_HOST": "a,b", "SYSLOG_PORT": "1,1"}, ""},
		{map[string]string{"SYSLOG_HOST": "::1,0:0::1"}, "SYSLOG_HOST names the receiver [::1]:514 twice (entries 1 and 2"},
		{map[string]string{"SYSLOG_HOST": "a,b,a", "SYSLOG_PORT": "1,2,1"}, "SYSLOG_HOST names the receiver a:1 twice (entries 1 and 3, with SYSLOG_PORT)"},
		{map[string]string{"SYSLOG_HOST": "a,b", "SYSLOG_PORT": "1,2,3"}, "SYSLOG_PORT has 3 ports but SYSLOG_HOST has 2 hosts: give one port for all hosts, or one per host in the same order"},
		{map[string]string{"SYSLOG_HOST": "a,b,c", "SYSLOG_PORT": "1,2"}, "SYSLOG_PORT has 2 ports but SYSLOG_HOST has 3 hosts"},
		{map[string]string{"SYSLOG_HOST": "a,b", "SYSLOG_PORT": "1,x"}, `SYSLOG_PORT is "1,x": entry 2 ("x"): want whole numbers from 1 to 65535`},
		{map[string]string{"SYSLOG_HOST": "a,b", "SYSLOG_PORT": "1,"}, `SYSLOG_PORT is "1,": entry 2 ("")`},
		{map[string]string{"SYSLOG_HOST": "a,b", "SYSLOG_BALANCE": "random"}, `SYSLOG_BALANCE is "random": accepted values are failover, round-robin`},
		{map[string]string{"SYSLOG_HOST": "a,b", "SYSLOG_FAILBACK_PROBES": "0"}, `SYSLOG_FAILBACK_PROBES is "0": want a whole number from 1 to 100`},
		{map[string]string{"SYSLOG_HOST": "a,b", "SYSLOG_PROBE_INTERVAL": "0"}, `SYSLOG_PROBE_INTERVAL is "0": want a duration from 1ms to 1h0m0s`},
	} {
		_, err := load(c.env)
		if c.want == "" {
			if err != nil {
				t.Errorf("%v: %v", c.env, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.env, err, c.want)
			continue
		}
		for _, p := range Problems(err) {
			if !strings.HasPrefix(p.Msg, p.Var+" ") {
				t.Errorf("%v: problem %q does not start with its variable %s", c.env, p.Msg, p.Var)
			}
		}
	}
}
