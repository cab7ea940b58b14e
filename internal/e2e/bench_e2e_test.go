package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/format"
	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/fcemu"
	"sls2siem/internal/localcloud/slsemu"
	"sls2siem/internal/logstore"
	"sls2siem/internal/secret"
	"sls2siem/internal/slsapi"
	"sls2siem/internal/transport"
)

// BenchmarkShipping is `make bench`: on one generated data set (1M logs of
// ten fields, ~300 bytes each, in the SLS emulator) it measures, in one
// run, the decode and send ceilings, the shipper end to end into a
// discarding sink and into rsyslog (TCP and TLS) next to rsyslog's own
// intake ceiling, the function's peak RSS and the handshakes of warm
// invocations. It runs once whatever b.N is; figures are reported as
// metrics and written to the file named by SLS2SIEM_BENCH_OUT.
func BenchmarkShipping(b *testing.B) {
	logs := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("SLS2SIEM_BENCH_LOGS")); err == nil && v > 0 {
		logs = v
	}
	const perGroup, pullCount = 100, 100
	r := &benchReport{logs: logs}
	c := benchCloud(b, logs, perGroup)
	rng := logstore.Range{Endpoint: c.endpoint, Project: "bench", Logstore: "bench", Shard: 0, Begin: c.begin, End: c.end}
	creds := secret.Credentials{AccessKeyID: c.role.AccessKeyID, AccessKeySecret: c.role.AccessKeySecret, SecurityToken: c.role.SecurityToken}

	// Decode ceiling: pull + decode, nothing sent. A first pass warms the
	// emulator's answer cache, so that the figures measure the shipper,
	// not the emulator's compression (on the same two cores).
	benchPullAll(b, rng, creds, pullCount, nil)
	start := time.Now()
	n := benchPullAll(b, rng, creds, pullCount, nil)
	r.decode = rate(n, time.Since(start))

	// Pre-encoded frames: the sample's first 10k messages, RFC 5424 + kv.
	frames := benchFrames(b, rng, creds, 10_000)

	// Send ceiling: pre-encoded frames into a discarding TCP sink.
	sink := newDiscardSink(b, nil)
	r.send = rate(logs, benchSend(b, "tcp", sink.addr(), nil, frames, logs))

	// End to end into the discarding sink, through the real binary.
	fn := benchFunction(b, c, []string{"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + sink.port(), "SYSLOG_FRAMING=octet-counting",
		"SLS_PULL_COUNT=" + strconv.Itoa(pullCount)}, 1)
	d := benchInvoke(b, fn, c, c.begin, c.end, logs)
	r.e2eSink = rate(logs, d)
	r.rssKiB = peakRSS(fn.PID())
	before := sink.accepts.Load()
	for i := 0; i < 3; i++ {
		benchInvoke(b, fn, c, c.begin, c.cursor(10), 10*perGroup)
	}
	r.warmTCP = sink.accepts.Load() - before
	fn.Stop(context.Background())

	// Ten 1M-log ranges at once on one instance, as s.yaml allows
	// (instanceConcurrency 10, 512 MB): the memory budget is shared.
	cfn := benchFunction(b, c, []string{"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + sink.port(), "SYSLOG_FRAMING=octet-counting",
		"SLS_PULL_COUNT=" + strconv.Itoa(pullCount)}, 10)
	start = time.Now()
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			benchInvoke(b, cfn, c, c.begin, c.end, logs)
		}()
	}
	wg.Wait()
	r.concurrent = rate(10*logs, time.Since(start))
	r.concurrentRSSKiB = peakRSS(cfn.PID())
	cfn.Stop(context.Background())

	// TLS handshakes on warm invocations, against a Go TLS sink.
	pki := newTestPKI(b)
	tlsSink := newDiscardSink(b, &tls.Config{Certificates: []tls.Certificate{pki.Server}})
	tfn := benchFunction(b, c, []string{"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + tlsSink.port(), "SYSLOG_PROTOCOL=tls",
		"SYSLOG_TLS_CA_FILE=" + pki.CAFile}, 1)
	benchInvoke(b, tfn, c, c.begin, c.cursor(10), 10*perGroup)
	before = tlsSink.accepts.Load()
	for i := 0; i < 3; i++ {
		benchInvoke(b, tfn, c, c.begin, c.cursor(10), 10*perGroup)
	}
	r.warmTLS = tlsSink.accepts.Load() - before
	tfn.Stop(context.Background())

	// rsyslog: its intake ceiling with pre-encoded frames, then the shipper.
	rs := startBenchRsyslog(b, pki)
	clientTLS := &tls.Config{RootCAs: pki.CAPool, ServerName: "127.0.0.1"}
	r.rsyslogTCPCeiling = rate(logs, rs.timeUntil(b, logs, func() { benchSend(b, "tcp", rs.addr(rs.ports.TCP), nil, frames, logs) }))
	r.rsyslogTLSCeiling = rate(logs, rs.timeUntil(b, logs, func() { benchSend(b, "tls", rs.addr(rs.ports.TLS), clientTLS, frames, logs) }))
	rfn := benchFunction(b, c, []string{"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + strconv.Itoa(rs.ports.TCP), "SYSLOG_FRAMING=octet-counting",
		"SLS_PULL_COUNT=" + strconv.Itoa(pullCount)}, 1)
	r.rsyslogTCP = rate(logs, rs.timeUntil(b, logs, func() { benchInvoke(b, rfn, c, c.begin, c.end, logs) }))
	rfn.Stop(context.Background())
	rtfn := benchFunction(b, c, []string{"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + strconv.Itoa(rs.ports.TLS), "SYSLOG_PROTOCOL=tls",
		"SYSLOG_TLS_CA_FILE=" + pki.CAFile, "SLS_PULL_COUNT=" + strconv.Itoa(pullCount)}, 1)
	r.rsyslogTLS = rate(logs, rs.timeUntil(b, logs, func() { benchInvoke(b, rtfn, c, c.begin, c.end, logs) }))
	rtfn.Stop(context.Background())
	if os.Getenv("SLS2SIEM_BENCH_SKIP_RELP") == "" { // set to measure a build without RELP
		r.rsyslogRELPCeiling = rate(logs, rs.timeUntil(b, logs, func() { benchSend(b, "relp", rs.addr(rs.ports.RELP), nil, frames, logs) }))
		rrfn := benchFunction(b, c, []string{"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + strconv.Itoa(rs.ports.RELP), "SYSLOG_PROTOCOL=relp",
			"SYSLOG_MAX_MESSAGE_SIZE=65536", "SLS_PULL_COUNT=" + strconv.Itoa(pullCount)}, 1)
		r.rsyslogRELP = rate(logs, rs.timeUntil(b, logs, func() { benchInvoke(b, rrfn, c, c.begin, c.end, logs) }))
		rrfn.Stop(context.Background())
	}

	out := r.String()
	fmt.Print(out)
	if path := os.Getenv("SLS2SIEM_BENCH_OUT"); path != "" {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(r.decode, "decode-logs/s")
	b.ReportMetric(r.e2eSink, "e2e-logs/s")
	b.ReportMetric(float64(r.rssKiB)/1024, "peak-RSS-MiB")
}

type benchReport struct {
	logs                                 int
	decode, send, e2eSink                float64
	rsyslogTCPCeiling, rsyslogTLSCeiling float64
	rsyslogTCP, rsyslogTLS               float64
	rsyslogRELPCeiling, rsyslogRELP      float64
	rssKiB                               int
	warmTCP, warmTLS                     int64
	concurrent                           float64 // logs/s of 10 ranges at once
	concurrentRSSKiB                     int
}

func (r *benchReport) String() string {
	var b strings.Builder
	pct := func(a, c float64) string { return fmt.Sprintf("%.0f %%", 100*a/c) }
	fmt.Fprintf(&b, "sls2siem benchmark: %d logs of 10 fields (~300 bytes), %s, GOMAXPROCS of the machine\n", r.logs, time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "  decode ceiling (pull + decode, nothing sent)     %10.0f logs/s\n", r.decode)
	fmt.Fprintf(&b, "  send ceiling (pre-encoded frames, TCP sink)      %10.0f logs/s\n", r.send)
	fmt.Fprintf(&b, "  end to end into a discarding TCP sink            %10.0f logs/s  = %s of the decode ceiling (target ≥ 80 %%)\n", r.e2eSink, pct(r.e2eSink, r.decode))
	fmt.Fprintf(&b, "  rsyslog intake ceiling, TCP (pre-encoded)        %10.0f logs/s\n", r.rsyslogTCPCeiling)
	fmt.Fprintf(&b, "  end to end into rsyslog, TCP                     %10.0f logs/s  = %s of its ceiling (target ≥ 90 %%)\n", r.rsyslogTCP, pct(r.rsyslogTCP, r.rsyslogTCPCeiling))
	fmt.Fprintf(&b, "  rsyslog intake ceiling, TLS (pre-encoded)        %10.0f logs/s\n", r.rsyslogTLSCeiling)
	fmt.Fprintf(&b, "  end to end into rsyslog, TLS                     %10.0f logs/s  = %s of its ceiling (target ≥ 90 %%)\n", r.rsyslogTLS, pct(r.rsyslogTLS, r.rsyslogTLSCeiling))
	fmt.Fprintf(&b, "  rsyslog intake ceiling, RELP (pre-encoded)       %10.0f logs/s\n", r.rsyslogRELPCeiling)
	fmt.Fprintf(&b, "  end to end into rsyslog, RELP (imrelp)           %10.0f logs/s  = %s of TCP's end to end (target ≥ 80 %%), %s of the TCP ceiling\n",
		r.rsyslogRELP, pct(r.rsyslogRELP, r.rsyslogTCP), pct(r.rsyslogRELP, r.rsyslogTCPCeiling))
	fmt.Fprintf(&b, "  peak RSS of the function process                 %10.1f MiB (target ≤ 64)\n", float64(r.rssKiB)/1024)
	fmt.Fprintf(&b, "  10 concurrent 1M-log ranges (512 MB, 10 per instance) %5.0f logs/s in all = %s of one range's\n", r.concurrent, pct(r.concurrent, r.e2eSink))
	fmt.Fprintf(&b, "  peak RSS with 10 concurrent ranges               %10.1f MiB = %s of 512 MB (target ≤ 60 %%)\n", float64(r.concurrentRSSKiB)/1024, pct(float64(r.concurrentRSSKiB)/1024, 512))
	fmt.Fprintf(&b, "  new connections on 3 warm invocations            TCP %d, TLS handshakes %d (target 0)\n", r.warmTCP, r.warmTLS)
	return b.String()
}

func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

// benchData is the generated logstore.
type benchData struct {
	*cloud
	begin, end string
}

// cursor returns the cursor of the group-th log group.
func (c *benchData) cursor(group int) string {
	raw, _ := base64.StdEncoding.DecodeString(c.begin)
	n, _ := strconv.ParseInt(string(raw), 10, 64)
	return base64.StdEncoding.EncodeToString(strconv.AppendInt(nil, n+int64(group), 10))
}

func benchCloud(b *testing.B, logs, perGroup int) *benchData {
	b.Helper()
	c := &cloud{output: &syncBuffer{}, emu: slsemu.New()}
	c.role = slsemu.Credential{AccessKeyID: "STS.bench", AccessKeySecret: "bench-secret-" + randomHex(b), SecurityToken: "bench-token-" + randomHex(b)}
	c.emu.AddCredential(c.role)
	endpoint, err := c.emu.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.emu.Close() })
	c.endpoint = endpoint
	if err := c.emu.CreateLogstore("bench", "bench", 1); err != nil {
		b.Fatal(err)
	}
	methods := []string{"GET", "POST", "PUT", "DELETE"}
	for g := 0; g*perGroup < logs; g++ {
		lg := &sls.LogGroup{Topic: proto.String("nginx_access"), Source: proto.String("192.168.10.13"),
			LogTags: []*sls.LogTag{{Key: proto.String("__hostname__"), Value: proto.String("web-01")}}}
		for i := 0; i < perGroup && g*perGroup+i < logs; i++ {
			k := g*perGroup + i
			lg.Logs = append(lg.Logs, &sls.Log{Time: proto.Uint32(uint32(1795478400 + k/1000)), TimeNs: proto.Uint32(uint32(k % 1_000_000_000)), Contents: benchContents(
				"remote_addr", "198.51.100."+strconv.Itoa(k%250),
				"request_method", methods[k%4],
				"request_uri", "/api/v1/orders/"+strconv.Itoa(k)+"?page=2&size=50",
				"status", strconv.Itoa(200+k%5),
				"body_bytes_sent", strconv.Itoa(1000+k%9000),
				"request_time", "0.0"+strconv.Itoa(k%90+10),
				"http_user_agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
				"http_referer", "https://shop.example.com/cart",
				"upstream_addr", "10.0.3."+strconv.Itoa(k%20)+":8080",
				"request_id", "a4c1e0f2-"+strconv.Itoa(100000+k%900000),
			)})
		}
		if _, err := c.emu.Append("bench", "bench", 0, lg, time.Unix(1795478400, 0)); err != nil {
			b.Fatal(err)
		}
	}
	d := &benchData{cloud: c}
	d.begin, _ = c.emu.Cursor("bench", "bench", 0, "begin")
	d.end, _ = c.emu.Cursor("bench", "bench", 0, "end")
	return d
}

func benchContents(kv ...string) []*sls.LogContent {
	out := make([]*sls.LogContent, 0, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		out = append(out, &sls.LogContent{Key: proto.String(kv[i]), Value: proto.String(kv[i+1])})
	}
	return out
}

// benchPullAll reads the range in-process; each batch goes to visit.
func benchPullAll(b *testing.B, rng logstore.Range, creds secret.Credentials, count int, visit func(*logstore.Batch) bool) int {
	b.Helper()
	r := logstore.NewReader(rng, creds, logstore.Options{Transport: slsapi.NewTransport(localcloud.LocalEndpoints(rng.Endpoint)), PullCount: count})
	defer r.Close()
	n := 0
	for {
		batch, err := r.Next(context.Background())
		if errors.Is(err, logstore.ErrDone) {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
		n += batch.Logs()
		more := visit == nil || visit(batch)
		batch.Release()
		if !more {
			return n
		}
	}
}

// benchFrames encodes the first n logs of the range as the shipper would.
func benchFrames(b *testing.B, rng logstore.Range, creds secret.Credentials, n int) [][]byte {
	b.Helper()
	var frames [][]byte
	enc := format.NewEncoder(format.Options{Facility: 1, Severity: 6, Hostname: "bench", AppName: "sls2siem", MaxSize: 65536})
	benchPullAll(b, rng, creds, 100, func(batch *logstore.Batch) bool {
		for _, g := range batch.Groups {
			grp := enc.NewGroup(g, "")
			for i, l := range g.Logs {
				msg, _ := enc.Append(nil, grp, i, l)
				frames = append(frames, msg)
			}
		}
		return len(frames) < n
	})
	return frames[:min(n, len(frames))]
}

// benchSend writes total messages, cycling over frames, through the
// product's transport, and returns how long it took.
func benchSend(b *testing.B, network, addr string, cfg *tls.Config, frames [][]byte, total int) time.Duration {
	b.Helper()
	tc := transport.Config{Network: network, Address: addr, Framing: transport.FramingOctetCounting, TLS: cfg,
		DialTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
	start := time.Now()
	conn, err := transport.Dial(context.Background(), &tc)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	for i := 0; i < total; i++ {
		if err := conn.Write(frames[i%len(frames)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := conn.Confirm(context.Background()); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// benchFunction starts the function binary (SLS2SIEM_BENCH_BINARY, to
// measure another build, else the tree's) with concurrency invocations
// per instance.
func benchFunction(b *testing.B, c *benchData, env []string, concurrency int) *fcemu.Instance {
	b.Helper()
	binary := functionBinary
	if v := os.Getenv("SLS2SIEM_BENCH_BINARY"); v != "" {
		binary = v
	}
	env = append(localcloud.TrustEnv(c.endpoint), env...)
	if extra := os.Getenv("SLS2SIEM_BENCH_ENV"); extra != "" {
		env = append(env, strings.Split(extra, ",")...)
	}
	fn, err := fcemu.Start(context.Background(), localcloud.Deployed(fcemu.Config{
		Binary: binary, Contract: fcemu.ContractCustom, Env: env, Timeout: 10 * time.Minute, InstanceConcurrency: concurrency,
		Credentials: fcemu.Credentials{AccessKeyID: c.role.AccessKeyID, AccessKeySecret: c.role.AccessKeySecret, SecurityToken: c.role.SecurityToken},
		Output:      io.Discard, FunctionName: "sls2siem-bench", MemoryMB: 512, // as in s.yaml
	}))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { fn.Stop(context.Background()) })
	return fn
}

func benchInvoke(b *testing.B, fn *fcemu.Instance, c *benchData, begin, end string, want int) time.Duration {
	b.Helper()
	ev := []byte(fmt.Sprintf(`{"source":{"projectName":"bench","logstoreName":"bench","endpoint":%q,"shardId":0,"beginCursor":%q,"endCursor":%q}}`,
		c.endpoint, begin, end))
	start := time.Now()
	res, err := fn.Invoke(context.Background(), ev)
	if err != nil {
		b.Fatal(err)
	}
	if res.Err != nil {
		b.Fatal(res.Err)
	}
	if got := decodeSummary(b, res.Payload).Logs; got != int64(want) {
		b.Fatalf("shipped %d logs, want %d", got, want)
	}
	return time.Since(start)
}

// peakRSS reads VmHWM (KiB) of a process.
func peakRSS(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// discardSink accepts TCP (or TLS) connections, reads and drops everything.
type discardSink struct {
	ln      net.Listener
	accepts atomic.Int64
}

func newDiscardSink(b *testing.B, cfg *tls.Config) *discardSink {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	s := &discardSink{ln: ln}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepts.Add(1)
			go func() {
				defer conn.Close()
				io.Copy(io.Discard, conn)
			}()
		}
	}()
	b.Cleanup(func() { ln.Close() })
	return s
}

func (s *discardSink) addr() string { return s.ln.Addr().String() }
func (s *discardSink) port() string { return strconv.Itoa(s.ln.Addr().(*net.TCPAddr).Port) }

// benchRsyslog is rsyslog with one output file of one line per message,
// so that its own cost, not the test's bookkeeping, sets its ceiling.
type benchRsyslog struct {
	*daemon
	lines  int
	offset int64
}

var benchRsyslogConf = template.Must(template.New("rsyslog-bench").Parse(`
global(workDirectory="{{.Dir}}/work" maxMessageSize="64k" processInternalMessages="on" inputs.timeout.shutdown="100"
  defaultNetstreamDriverCAFile="{{.PKI.CAFile}}" defaultNetstreamDriverCertFile="{{.PKI.ServerCertFile}}"
  defaultNetstreamDriverKeyFile="{{.PKI.ServerKey}}")
module(load="imtcp" maxSessions="200" discardTruncatedMsg="on")
module(load="imrelp")
template(name="raw" type="string" string="%rawmsg%\n")
ruleset(name="recv") { action(type="omfile" file="{{.Dir}}/out/messages.log" template="raw") stop }
input(type="imtcp" address="127.0.0.1" port="{{.P.TCP}}" ruleset="recv" name="tcp")
input(type="imtcp" address="127.0.0.1" port="{{.P.TLS}}" ruleset="recv" name="tls" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imrelp" address="127.0.0.1" port="{{.P.RELP}}" ruleset="recv" name="relp" maxDataSize="256k")
*.* action(type="omfile" file="{{.Dir}}/out/rsyslogd-internal.log")
`))

func startBenchRsyslog(b *testing.B, pki *testPKI) *benchRsyslog {
	b.Helper()
	path := requireReceiver(b, "rsyslogd", "rsyslogd", "/usr/sbin/rsyslogd")
	dir := b.TempDir()
	for _, sub := range []string{"work", "out"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			b.Fatal(err)
		}
	}
	d := &daemon{
		name: "rsyslogd (bench)", dir: dir, path: path,
		args:     []string{"-n", "-f", filepath.Join(dir, "rsyslog.conf"), "-i", filepath.Join(dir, "rsyslogd.pid")},
		check:    []string{"-N1", "-f", filepath.Join(dir, "rsyslog.conf")},
		ports:    receiverPorts{TCP: freePort(b, false), TLS: freePort(b, false), RELP: freePort(b, false)},
		probe:    pki.clientConfig(nil),
		jsonFile: filepath.Join(dir, "out", "messages.log"),
		lineFile: filepath.Join(dir, "out", "messages.log"),
		logFiles: []string{filepath.Join(dir, "out", "rsyslogd-internal.log"), filepath.Join(dir, "rsyslogd.stderr")},
	}
	writeConfig(b, filepath.Join(dir, "rsyslog.conf"), benchRsyslogConf, map[string]any{"Dir": dir, "P": d.ports, "PKI": pki})
	b.Cleanup(func() { d.Stop(b) })
	d.start(b)
	return &benchRsyslog{daemon: d}
}

func (r *benchRsyslog) addr(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// timeUntil runs send and returns the time from its start until rsyslog
// has written n more lines.
func (r *benchRsyslog) timeUntil(b *testing.B, n int, send func()) time.Duration {
	b.Helper()
	want := r.lines + n
	start := time.Now()
	send()
	deadline := time.Now().Add(5 * time.Minute)
	for r.count(b) < want {
		if time.Now().After(deadline) {
			b.Fatalf("rsyslog wrote %d of %d lines", r.lines, want)
		}
		time.Sleep(2 * time.Millisecond) // polling the output file
	}
	return time.Since(start)
}

// count reads the lines added to the output file since the last call.
func (r *benchRsyslog) count(b *testing.B) int {
	f, err := os.Open(r.lineFile)
	if errors.Is(err, os.ErrNotExist) {
		return r.lines
	}
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(r.offset, io.SeekStart); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	for {
		n, err := f.Read(buf)
		r.lines += bytes.Count(buf[:n], []byte{'\n'})
		r.offset += int64(n)
		if err != nil || n == 0 {
			return r.lines
		}
	}
}
