package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"
)

// The parity receivers: rsyslog and syslog-ng configured to expose the
// fields they parsed from each message (not the reconstructions the other
// harnesses write), for every syntax and framing the binary can send.
//
//   - rsyslog parses both syntaxes on one port (rsyslog.rfc5424, then
//     rsyslog.rfc3164), octet-counted or LF-framed on TCP, and over UDP;
//     mmpstrucdata parses the structured data into $!rfc5424-sd.
//   - syslog-ng's parser is chosen per source, so it listens on one port
//     per syntax × framing (see parityPorts).
//
// Both keep messages up to 1 MiB, so that only the binary's
// SYSLOG_MAX_MESSAGE_SIZE cuts messages.

// parityMsg is one message as a parity receiver parsed it.
type parityMsg struct {
	Input     string `json:"input"`
	Pri       string `json:"pri"`
	Timestamp string `json:"timestamp"`
	Version   string `json:"version"` // rsyslog: protocol-version, "1" when parsed as RFC 5424
	Hostname  string `json:"hostname"`
	AppName   string `json:"app_name"` // rsyslog app-name; syslog-ng $PROGRAM
	Program   string `json:"program"`  // rsyslog programname
	Tag       string `json:"tag"`      // rsyslog syslogtag
	ProcID    string `json:"procid"`
	MsgID     string `json:"msgid"`
	SD        string `json:"sd"`
	Msg       string `json:"msg"`
	Raw       string `json:"raw"`
	// SDParams are the structured-data parameters the receiver parsed,
	// SD-ID → name → value (rsyslog mmpstrucdata; syslog-ng .SDATA.*).
	SDParams map[string]map[string]string `json:"-"`
}

// parityPorts are the listening ports of the parity receivers. rsyslog
// uses Any for everything; syslog-ng one port per syntax and framing.
type parityPorts struct {
	Any                        int // rsyslog: UDP and TCP (either framing), either syntax
	RFC5424Octet, RFC5424LF    int // syslog-ng: TCP; UDP on RFC5424Octet
	RFC3164Octet, RFC3164LF    int // syslog-ng: TCP; UDP on RFC3164LF
	RFC5424UDP, RFC3164UDPPort int // syslog-ng UDP ports (equal to the above)
}

// parityReceiver is a running parity receiver.
type parityReceiver struct {
	*daemon
	name  string
	ports parityPorts
	// Port returns the port for a syntax ("rfc5424", "rfc3164") and
	// protocol/framing ("udp", "lf", "octet-counting").
	Port func(syntax, framing string) int
}

// Parsed returns the messages stored so far, in order.
func (r *parityReceiver) Parsed(t testing.TB) []parityMsg {
	t.Helper()
	data, err := os.ReadFile(r.jsonFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatalf("%s: %v", r.name, err)
	}
	var out []parityMsg
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break // a line being written
		}
		out = append(out, parseParityLine(t, r.name, data[:i]))
		data = data[i+1:]
	}
	return out
}

// Size returns the size of the receiver's output so far, for ParsedFrom.
func (r *parityReceiver) Size(t testing.TB) int64 {
	t.Helper()
	fi, err := os.Stat(r.jsonFile)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatalf("%s: %v", r.name, err)
	}
	return fi.Size()
}

// ParsedFrom waits until n messages are stored after byte offset off of the
// output (or timeout passes) and returns the messages stored after off, so
// that each configuration reads only its own part of the output.
func (r *parityReceiver) ParsedFrom(t testing.TB, off int64, n int, timeout time.Duration) []parityMsg {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		data := r.readFrom(t, off)
		if bytes.Count(data, []byte{'\n'}) >= n || time.Now().After(deadline) {
			var out []parityMsg
			for len(data) > 0 {
				i := bytes.IndexByte(data, '\n')
				if i < 0 {
					break
				}
				out = append(out, parseParityLine(t, r.name, data[:i]))
				data = data[i+1:]
			}
			return out
		}
		time.Sleep(5 * time.Millisecond) // polling the receiver's output file
	}
}

func (r *parityReceiver) readFrom(t testing.TB, off int64) []byte {
	t.Helper()
	f, err := os.Open(r.jsonFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatalf("%s: %v", r.name, err)
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		t.Fatalf("%s: %v", r.name, err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("%s: %v", r.name, err)
	}
	return data
}

// WaitParsed waits until at least n messages are stored and returns them.
func (r *parityReceiver) WaitParsed(t testing.TB, n int, timeout time.Duration) []parityMsg {
	t.Helper()
	r.WaitForCount(t, n, timeout)
	return r.Parsed(t)
}

func parseParityLine(t testing.TB, name string, line []byte) parityMsg {
	t.Helper()
	var m parityMsg
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatalf("%s: parse its output line: %v: %q", name, err, line)
	}
	var extra struct {
		Rsyslog struct {
			SD map[string]map[string]string `json:"rfc5424-sd"`
		} `json:"vars"`
		SyslogNG map[string]any `json:"sdata"`
	}
	if err := json.Unmarshal(line, &extra); err != nil {
		t.Fatalf("%s: parse its output line: %v: %q", name, err, line)
	}
	m.SDParams = extra.Rsyslog.SD
	if extra.SyslogNG != nil {
		// format-json with key delimiter '\x01': flat ".SDATA.ID.NAME" keys
		// (they cannot hold that byte), so names with dots stay whole.
		m.SDParams = map[string]map[string]string{}
		for k, v := range extra.SyslogNG {
			id, param, ok := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(k, "_SDATA."), ".SDATA."), ".")
			s, isStr := v.(string)
			if !ok || !isStr {
				t.Fatalf("%s: unexpected SDATA key %q = %v", name, k, v)
			}
			if m.SDParams[id] == nil {
				m.SDParams[id] = map[string]string{}
			}
			m.SDParams[id][param] = s
		}
	}
	m.Input = strings.TrimPrefix(m.Input, "s_")
	return m
}

// startParityRsyslog starts the rsyslog parity receiver; it stops when the
// test ends.
func startParityRsyslog(t *testing.T) *parityReceiver {
	t.Helper()
	path := requireReceiver(t, "rsyslogd", "rsyslogd", "/usr/sbin/rsyslogd")
	dir := t.TempDir()
	for _, sub := range []string{"work", "out"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t, true)
	d := &daemon{
		name:     "rsyslogd",
		dir:      dir,
		path:     path,
		args:     []string{"-n", "-f", filepath.Join(dir, "rsyslog.conf"), "-i", filepath.Join(dir, "rsyslogd.pid")},
		check:    []string{"-N1", "-f", filepath.Join(dir, "rsyslog.conf")},
		env:      []string{"TZ=UTC"}, // timestamps rendered as sent (UTC)
		ports:    receiverPorts{UDP: port, TCP: port},
		jsonFile: filepath.Join(dir, "out", "parsed.json"),
		lineFile: filepath.Join(dir, "out", "parsed.json"),
		logFiles: []string{filepath.Join(dir, "out", "rsyslogd-internal.log"), filepath.Join(dir, "rsyslogd.stderr")},
	}
	writeConfig(t, filepath.Join(dir, "rsyslog.conf"), parityRsyslogConf, map[string]any{"Dir": dir, "Port": port})
	t.Cleanup(func() { d.Stop(t) })
	d.start(t)
	return &parityReceiver{daemon: d, name: "rsyslog", ports: parityPorts{Any: port},
		Port: func(string, string) int { return port }}
}

var parityRsyslogConf = template.Must(template.New("rsyslog.conf").Parse(`# rsyslog 8.2302 parity receiver: every parsed field, as JSON.
global(
  workDirectory="{{.Dir}}/work"
  maxMessageSize="1m"
  processInternalMessages="on"
  inputs.timeout.shutdown="100"
  parser.escapeControlCharactersOnReceive="off"
  parser.dropTrailingLFOnReception="off"
)
module(load="imudp")
module(load="imtcp" maxSessions="200" discardTruncatedMsg="on")
module(load="mmpstrucdata")

template(name="parity" type="list") {
  constant(value="{")
  property(name="inputname"        outname="input"     format="jsonf") constant(value=",")
  property(name="pri"              outname="pri"       format="jsonf") constant(value=",")
  property(name="timereported" dateFormat="rfc3339" outname="timestamp" format="jsonf") constant(value=",")
  property(name="protocol-version" outname="version"   format="jsonf") constant(value=",")
  property(name="hostname"         outname="hostname"  format="jsonf") constant(value=",")
  property(name="app-name"         outname="app_name"  format="jsonf") constant(value=",")
  property(name="programname"      outname="program"   format="jsonf") constant(value=",")
  property(name="syslogtag"        outname="tag"       format="jsonf") constant(value=",")
  property(name="procid"           outname="procid"    format="jsonf") constant(value=",")
  property(name="msgid"            outname="msgid"     format="jsonf") constant(value=",")
  property(name="structured-data"  outname="sd"        format="jsonf") constant(value=",")
  property(name="msg"              outname="msg"       format="jsonf") constant(value=",")
  property(name="rawmsg"           outname="raw"       format="jsonf") constant(value=",")
  constant(value="\"vars\":")
  property(name="$!")
  constant(value="}\n")
}

ruleset(name="recv") {
  set $!parsed = "1";  # so that $! is an object even without structured data
  action(type="mmpstrucdata" sd_name.lowercase="off" jsonRoot="!")
  action(type="omfile" file="{{.Dir}}/out/parsed.json" template="parity")
  stop
}

input(type="imudp" address="127.0.0.1" port="{{.Port}}" ruleset="recv" name="udp" rcvBufSize="16m")
input(type="imtcp" address="127.0.0.1" port="{{.Port}}" ruleset="recv" name="tcp")

*.* action(type="omfile" file="{{.Dir}}/out/rsyslogd-internal.log")
`))

// startParitySyslogNG starts the syslog-ng parity receiver; it stops when
// the test ends.
func startParitySyslogNG(t *testing.T) *parityReceiver {
	t.Helper()
	root := syslogNGRoot()
	path := requireReceiver(t, "syslog-ng", filepath.Join(root, "usr/sbin/syslog-ng"))
	dir := t.TempDir()
	for _, sub := range []string{"var", "out"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctl, err := os.MkdirTemp("", "sng")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(ctl) })
	p := parityPorts{
		RFC5424Octet: freePort(t, true),
		RFC5424LF:    freePort(t, false),
		RFC3164Octet: freePort(t, false),
		RFC3164LF:    freePort(t, true),
	}
	p.RFC5424UDP, p.RFC3164UDPPort = p.RFC5424Octet, p.RFC3164LF
	modules := "--module-path=" + filepath.Join(root, "usr/lib/syslog-ng/3.38")
	d := &daemon{
		name: "syslog-ng",
		dir:  dir,
		path: path,
		args: []string{"-F", "--no-caps", modules,
			"-f", filepath.Join(dir, "syslog-ng.conf"),
			"-R", filepath.Join(dir, "var", "syslog-ng.persist"),
			"-p", filepath.Join(dir, "var", "syslog-ng.pid"),
			"-c", filepath.Join(ctl, "ctl")},
		check: []string{"--syntax-only", modules, "-f", filepath.Join(dir, "syslog-ng.conf")},
		env:   []string{"LD_LIBRARY_PATH=" + filepath.Join(root, "usr/lib/syslog-ng"), "TZ=UTC"},
		// The TCP ports, for the readiness probe (plain TCP: probe is nil).
		ports:    receiverPorts{TCP: p.RFC5424Octet, TCPLF: p.RFC5424LF, TCPRaw: p.RFC3164LF, TLS: p.RFC3164Octet},
		jsonFile: filepath.Join(dir, "out", "parsed.json"),
		lineFile: filepath.Join(dir, "out", "parsed.json"),
		logFiles: []string{filepath.Join(dir, "out", "syslog-ng-internal.log"), filepath.Join(dir, "syslog-ng.stderr")},
	}
	writeConfig(t, filepath.Join(dir, "syslog-ng.conf"), paritySyslogNGConf, map[string]any{"Dir": dir, "P": p})
	t.Cleanup(func() { d.Stop(t) })
	d.start(t)
	return &parityReceiver{daemon: d, name: "syslog-ng", ports: p, Port: func(syntax, framing string) int {
		switch {
		case syntax == "rfc3164" && framing == "octet-counting":
			return p.RFC3164Octet
		case syntax == "rfc3164":
			return p.RFC3164LF // and its UDP
		case framing == "lf":
			return p.RFC5424LF
		}
		return p.RFC5424Octet // and its UDP
	}}
}

// paritySyslogNGConf: syslog() sources parse RFC 5424 (octet-counted on
// TCP), network() sources RFC 3164 (LF-framed) unless flagged
// syslog-protocol; transport("framed") is network() with octet counting.
var paritySyslogNGConf = template.Must(template.New("syslog-ng.conf").Parse(`@version: 3.38
# syslog-ng 3.38 parity receiver: every parsed field, as JSON.
options {
  log_msg_size(1048576);
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
};

source s_5424_octet { syslog(ip("127.0.0.1") port({{.P.RFC5424Octet}}) transport("tcp") flags(store-raw-message) max_connections(64) log_iw_size(6400)); };
source s_5424_udp   { syslog(ip("127.0.0.1") port({{.P.RFC5424Octet}}) transport("udp") flags(store-raw-message) so_rcvbuf(8388608)); };
source s_5424_lf    { network(ip("127.0.0.1") port({{.P.RFC5424LF}}) transport("tcp") flags(syslog-protocol, store-raw-message) max_connections(64) log_iw_size(6400)); };
source s_3164_lf    { network(ip("127.0.0.1") port({{.P.RFC3164LF}}) transport("tcp") flags(store-raw-message) max_connections(64) log_iw_size(6400)); };
source s_3164_udp   { network(ip("127.0.0.1") port({{.P.RFC3164LF}}) transport("udp") flags(store-raw-message) so_rcvbuf(8388608)); };
source s_3164_octet { network(ip("127.0.0.1") port({{.P.RFC3164Octet}}) transport("framed") flags(store-raw-message) max_connections(64) log_iw_size(6400)); };
source s_internal { internal(); };

template t_json "$(format-json --scope none --key-delimiter \x01 input=${SOURCE} pri=${PRI} timestamp=${S_ISODATE} hostname=${HOST} app_name=${PROGRAM} procid=${PID} msgid=${MSGID} sd=${SDATA} msg=${MSG} raw=${RAWMSG} --key .SDATA.* --rekey .SDATA.* --add-prefix sdata\x01)\n";

destination d_json { file("{{.Dir}}/out/parsed.json" template(t_json)); };
destination d_internal { file("{{.Dir}}/out/syslog-ng-internal.log"); };

log { source(s_5424_octet); source(s_5424_udp); source(s_5424_lf); source(s_3164_lf); source(s_3164_udp); source(s_3164_octet);
      destination(d_json); flags(flow-control); };
log { source(s_internal); destination(d_internal); };
`))
