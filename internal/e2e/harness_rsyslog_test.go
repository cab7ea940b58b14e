package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"text/template"
)

// rsyslogd is a real rsyslog 8.2302 receiver on loopback, with its own
// configuration, output files and test PKI. Ports: UDP and TCP on one port
// (TCP detects octet-counted and LF framing per frame), TLS (anonymous
// clients) and mTLS (client certificate chained to PKI's CA required).
type rsyslogd struct {
	*daemon
	PKI *testPKI
}

// startRsyslog starts rsyslogd with a new test PKI and stops it when the test
// ends.
func startRsyslog(t *testing.T) *rsyslogd {
	t.Helper()
	return startRsyslogPKI(t, newTestPKI(t))
}

// startRsyslogPKI starts rsyslogd with the server certificate of pki.
func startRsyslogPKI(t *testing.T, pki *testPKI) *rsyslogd {
	t.Helper()
	path := requireReceiver(t, "rsyslogd", "rsyslogd", "/usr/sbin/rsyslogd")
	dir := t.TempDir()
	for _, sub := range []string{"work", "out"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tcp := freePort(t, true)
	d := &daemon{
		name:  "rsyslogd",
		dir:   dir,
		path:  path,
		args:  []string{"-n", "-f", filepath.Join(dir, "rsyslog.conf"), "-i", filepath.Join(dir, "rsyslogd.pid")},
		check: []string{"-N1", "-f", filepath.Join(dir, "rsyslog.conf")},
		ports: receiverPorts{
			UDP: tcp, TCP: tcp, TCPLF: tcp,
			TLS:  freePort(t, false),
			MTLS: freePort(t, false),
		},
		probe:    pki.clientConfig(&pki.Client),
		jsonFile: filepath.Join(dir, "out", "messages.json"),
		lineFile: filepath.Join(dir, "out", "messages.log"),
		logFiles: []string{filepath.Join(dir, "out", "rsyslogd-internal.log"), filepath.Join(dir, "rsyslogd.stderr")},
	}
	relp := haveImrelp()
	if relp {
		d.ports.RELP, d.ports.RELPTLS = freePort(t, false), freePort(t, false)
	}
	writeConfig(t, filepath.Join(dir, "rsyslog.conf"), rsyslogConf, map[string]any{"Dir": dir, "P": d.ports, "PKI": pki, "RELP": relp})
	t.Cleanup(func() { d.Stop(t) })
	d.start(t)
	return &rsyslogd{daemon: d, PKI: pki}
}

// imrelpModule is where Debian's rsyslog-relp installs rsyslog's RELP input.
const imrelpModule = "/usr/lib/x86_64-linux-gnu/rsyslog/imrelp.so"

func haveImrelp() bool {
	_, err := os.Stat(imrelpModule)
	return err == nil
}

// requireImrelp skips the test without imrelp, unless the receivers are
// required (make test), where it fails.
func requireImrelp(t testing.TB) {
	t.Helper()
	if haveImrelp() {
		return
	}
	if os.Getenv("SLS2SIEM_REQUIRE_RECEIVERS") != "" {
		t.Fatalf("imrelp (%s) is not installed: run make test-deps", imrelpModule)
	}
	t.Skipf("imrelp (%s) is not installed", imrelpModule)
}

// writeConfig renders a receiver configuration template into file.
func writeConfig(t testing.TB, file string, tmpl *template.Template, data any) {
	t.Helper()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := tmpl.Execute(f, data); err != nil {
		t.Fatalf("render %s: %v", file, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// rsyslogConf is the verified configuration of the shared receivers
// reference, with ports and paths filled in at test time.
var rsyslogConf = template.Must(template.New("rsyslog.conf").Parse(`# Standalone rsyslog receiver for tests (rsyslog 8.2302, Debian 12).
global(
  workDirectory="{{.Dir}}/work"
  maxMessageSize="64k"
  processInternalMessages="on"
  inputs.timeout.shutdown="100"      # default 1000 ms: every stop would take 1 s
  parser.escapeControlCharactersOnReceive="off"
  parser.dropTrailingLFOnReception="off"   # default on: a value ending in LF would lose it
  defaultNetstreamDriverCAFile="{{.PKI.CAFile}}"
  defaultNetstreamDriverCertFile="{{.PKI.ServerCertFile}}"
  defaultNetstreamDriverKeyFile="{{.PKI.ServerKey}}"
)

module(load="imudp")
module(load="imtcp" maxSessions="2000" discardTruncatedMsg="on")
{{if .RELP}}module(load="imrelp"){{end}}

template(name="rfc5424line" type="string"
  string="<%PRI%>1 %TIMESTAMP:::date-rfc3339% %HOSTNAME% %APP-NAME% %PROCID% %MSGID% %STRUCTURED-DATA% %msg:::drop-last-lf%\n")
template(name="rfc5424json" type="list") {
  constant(value="{")
  property(name="inputname"          outname="input"     format="jsonf") constant(value=",")
  property(name="pri"                outname="pri"       format="jsonf") constant(value=",")
  property(name="timestamp" dateFormat="rfc3339" outname="timestamp" format="jsonf") constant(value=",")
  property(name="hostname"           outname="hostname"  format="jsonf") constant(value=",")
  property(name="app-name"           outname="app_name"  format="jsonf") constant(value=",")
  property(name="procid"             outname="procid"    format="jsonf") constant(value=",")
  property(name="msgid"              outname="msgid"     format="jsonf") constant(value=",")
  property(name="structured-data"    outname="sd"        format="jsonf") constant(value=",")
  property(name="msg" droplastlf="on" outname="msg"      format="jsonf") constant(value=",")
  property(name="rawmsg"             outname="raw"       format="jsonf")
  constant(value="}\n")
}

ruleset(name="recv") {
  action(type="omfile" file="{{.Dir}}/out/messages.log"  template="rfc5424line")
  action(type="omfile" file="{{.Dir}}/out/messages.json" template="rfc5424json")
  stop
}

input(type="imudp" address="127.0.0.1" port="{{.P.UDP}}" ruleset="recv" name="udp" rcvBufSize="16m")
input(type="imtcp" address="127.0.0.1" port="{{.P.TCP}}" ruleset="recv" name="tcp")
input(type="imtcp" address="127.0.0.1" port="{{.P.TLS}}" ruleset="recv" name="tls"
      streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imtcp" address="127.0.0.1" port="{{.P.MTLS}}" ruleset="recv" name="mtls"
      streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="x509/certvalid")
{{if .RELP}}input(type="imrelp" address="127.0.0.1" port="{{.P.RELP}}" ruleset="recv" name="relp" maxDataSize="256k")
input(type="imrelp" address="127.0.0.1" port="{{.P.RELPTLS}}" ruleset="recv" name="relptls" maxDataSize="256k"
      tls="on" tls.caCert="{{.PKI.CAFile}}" tls.myCert="{{.PKI.ServerCertFile}}" tls.myPrivKey="{{.PKI.ServerKey}}"
      tls.authMode="name" tls.permittedPeer=["test-client"]){{end}}

*.* action(type="omfile" file="{{.Dir}}/out/rsyslogd-internal.log")
`))
