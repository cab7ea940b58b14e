package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"text/template"
)

// syslogNG is a real syslog-ng 3.38 receiver on loopback, run from the tree
// extracted by scripts/install-receivers.sh ($SYSLOG_NG_ROOT, default
// /opt/syslog-ng). Ports: UDP and TCP octet-counted on one port, TCP LF,
// TCP LF unparsed, TLS (client certificate optional) and mTLS (required).
type syslogNG struct {
	*daemon
	PKI *testPKI
}

// syslogNGRoot returns where syslog-ng was extracted.
func syslogNGRoot() string {
	if r := os.Getenv("SYSLOG_NG_ROOT"); r != "" {
		return r
	}
	return "/opt/syslog-ng"
}

// startSyslogNG starts syslog-ng with a new test PKI and stops it when the
// test ends.
func startSyslogNG(t *testing.T) *syslogNG {
	t.Helper()
	return startSyslogNGPKI(t, newTestPKI(t))
}

// startSyslogNGPKI starts syslog-ng with the server certificate of pki.
func startSyslogNGPKI(t *testing.T, pki *testPKI) *syslogNG {
	t.Helper()
	root := syslogNGRoot()
	path := requireReceiver(t, "syslog-ng", filepath.Join(root, "usr/sbin/syslog-ng"))
	dir := t.TempDir()
	for _, sub := range []string{"var", "out"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The control socket path must fit in a sockaddr_un (108 bytes).
	ctl, err := os.MkdirTemp("", "sng")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(ctl) })
	tcp := freePort(t, true)
	d := &daemon{
		name: "syslog-ng",
		dir:  dir,
		path: path,
		args: []string{
			"-F", "--no-caps",
			"--module-path=" + filepath.Join(root, "usr/lib/syslog-ng/3.38"),
			"-f", filepath.Join(dir, "syslog-ng.conf"),
			"-R", filepath.Join(dir, "var", "syslog-ng.persist"),
			"-p", filepath.Join(dir, "var", "syslog-ng.pid"),
			"-c", filepath.Join(ctl, "ctl"),
		},
		check: []string{
			"--syntax-only",
			"--module-path=" + filepath.Join(root, "usr/lib/syslog-ng/3.38"),
			"-f", filepath.Join(dir, "syslog-ng.conf"),
		},
		env: []string{"LD_LIBRARY_PATH=" + filepath.Join(root, "usr/lib/syslog-ng")},
		ports: receiverPorts{
			UDP: tcp, TCP: tcp,
			TCPLF:  freePort(t, false),
			TCPRaw: freePort(t, false),
			TLS:    freePort(t, false),
			MTLS:   freePort(t, false),
		},
		probe:    pki.clientConfig(&pki.Client),
		jsonFile: filepath.Join(dir, "out", "messages.json"),
		lineFile: filepath.Join(dir, "out", "messages.log"),
		logFiles: []string{filepath.Join(dir, "out", "syslog-ng-internal.log"), filepath.Join(dir, "syslog-ng.stderr")},
	}
	writeConfig(t, filepath.Join(dir, "syslog-ng.conf"), syslogNGConf, map[string]any{"Dir": dir, "P": d.ports, "PKI": pki})
	t.Cleanup(func() { d.Stop(t) })
	d.start(t)
	return &syslogNG{daemon: d, PKI: pki}
}

// syslogNGConf is the verified configuration of the shared receivers
// reference, with ports and paths filled in at test time.
var syslogNGConf = template.Must(template.New("syslog-ng.conf").Parse(`@version: 3.38
# Standalone syslog-ng receiver for tests (syslog-ng 3.38.1, Debian 12).
options {
  log_msg_size(65536);
  keep_hostname(yes);
  keep_timestamp(yes);
  use_dns(no);
  dns_cache(no);
  use_fqdn(no);
  chain_hostnames(no);
  ts_format(iso);
  frac_digits(6);
  stats_freq(0);
  log_fifo_size(1000000);
  flush_lines(1000);
};

source s_udp  { syslog(ip("127.0.0.1") port({{.P.UDP}}) transport("udp") so_rcvbuf(8388608) flags(store-raw-message)); };
source s_tcp  { syslog(ip("127.0.0.1") port({{.P.TCP}}) transport("tcp") flags(store-raw-message)
                  max_connections(256) log_iw_size(256000)); };
source s_tcp_lf { network(ip("127.0.0.1") port({{.P.TCPLF}}) transport("tcp") flags(syslog-protocol, store-raw-message)
                  max_connections(256) log_iw_size(256000)); };
source s_tcp_raw { network(ip("127.0.0.1") port({{.P.TCPRaw}}) transport("tcp") flags(no-parse)
                  max_connections(256) log_iw_size(256000)); };
source s_tls  { syslog(ip("127.0.0.1") port({{.P.TLS}}) transport("tls") max_connections(256) log_iw_size(256000)
                  flags(store-raw-message)
                  tls(key_file("{{.PKI.ServerKey}}") cert_file("{{.PKI.ServerCertFile}}")
                      ca_file("{{.PKI.CAFile}}") peer_verify(optional-untrusted))); };
source s_mtls { syslog(ip("127.0.0.1") port({{.P.MTLS}}) transport("tls") max_connections(256) log_iw_size(256000)
                  flags(store-raw-message)
                  tls(key_file("{{.PKI.ServerKey}}") cert_file("{{.PKI.ServerCertFile}}")
                      ca_file("{{.PKI.CAFile}}") peer_verify(required-trusted))); };
source s_internal { internal(); };

template t_line "<${PRI}>1 ${S_ISODATE} ${HOST:--} ${PROGRAM:--} ${PID:--} ${MSGID:--} ${SDATA:--} ${MESSAGE}\n";
template t_json "$(format-json --scope none input=${SOURCE} pri=${PRI} timestamp=${S_ISODATE} hostname=${HOST} app_name=${PROGRAM} procid=${PID} msgid=${MSGID} sd=${SDATA} msg=${MESSAGE} raw=${RAWMSG})\n";

destination d_line { file("{{.Dir}}/out/messages.log"  template(t_line)); };
destination d_json { file("{{.Dir}}/out/messages.json" template(t_json)); };
destination d_internal { file("{{.Dir}}/out/syslog-ng-internal.log"); };

log { source(s_udp); source(s_tcp); source(s_tcp_lf); source(s_tcp_raw); source(s_tls); source(s_mtls);
      destination(d_line); destination(d_json); flags(flow-control); };
log { source(s_internal); destination(d_internal); };
`))
