package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"
	"github.com/leodido/go-syslog/v4/rfc5424"

	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/fcemu"
	"sls2siem/internal/localcloud/slsemu"
	"sls2siem/internal/localcloud/slstrigger"
)

// The stream-reset scenario of issue 22: a producer keeps appending to a
// logstore, the SLS trigger invokes the function with a new small range
// of each shard every ~100 ms (SLS_PULL_COUNT=5), so back-to-back ranges
// share the instance's pooled RELP session, and a proxy in front of
// rsyslog's imrelp resets the connection every 512 KiB. Every log is
// counted by its origin stamp (SYSLOG_ORIGIN_SD).

const (
	srProject      = "stream-project"
	srLogstore     = "stream"
	srShards       = 2
	srLogsPerGroup = 10
	srGroups       = 900 // per shard: 18 000 logs in all
	srResetEvery   = 512 << 10
)

// srKey identifies a log: its shard, its group's number in the shard and
// its index in the group.
type srKey struct{ shard, group, index int }

// srCloud is the SLS emulator with the stream logstore and the function's
// role.
type srCloud struct {
	*cloud
}

func srNewCloud(t *testing.T) *srCloud {
	t.Helper()
	c := &cloud{
		emu:    slsemu.New(),
		loader: slsemu.Credential{AccessKeyID: "LTAI-stream-" + randomHex(t)[:8], AccessKeySecret: "loader-secret-" + randomHex(t)},
		role: slsemu.Credential{AccessKeyID: "STS.stream", AccessKeySecret: "role-secret-" + randomHex(t),
			SecurityToken: "role-token-" + randomHex(t)},
		output: &syncBuffer{},
	}
	c.emu.AddCredential(c.loader)
	c.emu.AddCredential(c.role)
	var err error
	if c.endpoint, err = c.emu.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.emu.Close() })
	if err := c.emu.CreateLogstore(srProject, srLogstore, srShards); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.checkNoSecrets(t) })
	return &srCloud{c}
}

// produce appends groups groups per shard, one per shard every interval,
// and closes the returned channel when done.
func (c *srCloud) produce(t *testing.T, groups int, interval time.Duration) <-chan error {
	done := make(chan error, 1)
	go func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for g := range groups {
			for shard := range srShards {
				lg := &sls.LogGroup{Topic: proto.String("stream"), Source: proto.String("10.2.0." + strconv.Itoa(shard))}
				for i := range srLogsPerGroup {
					lg.Logs = append(lg.Logs, &sls.Log{Time: proto.Uint32(uint32(time.Now().Unix())), Contents: []*sls.LogContent{
						{Key: proto.String("event"), Value: proto.String("login from 10.1.2.3 user alice; " + strings.Repeat("x", 300))},
						{Key: proto.String("id"), Value: proto.String(fmt.Sprintf("%d-%d-%d", shard, g, i))},
					}})
				}
				if _, err := c.emu.Append(srProject, srLogstore, shard, lg, time.Now()); err != nil {
					done <- err
					return
				}
			}
			<-tick.C
		}
		done <- nil
	}()
	return done
}

// srGroupOf returns the group number of an SLS emulator cursor.
func srGroupOf(t *testing.T, cursor string) int {
	t.Helper()
	n, err := slsemu.DecodeCursor(cursor)
	if err != nil {
		t.Fatalf("cursor %q: %v", cursor, err)
	}
	return int(n - slsemu.CursorBase)
}

// srCount counts the received logs of the stream logstore by their origin
// stamp.
func srCount(t *testing.T, got []received) map[srKey]int {
	t.Helper()
	return originCount(t, srLogstore, got)
}

// originCount counts the received logs of logstore (in the SLS emulator)
// by their origin stamp: shard, log group number, index in the group.
func originCount(t *testing.T, logstore string, got []received) map[srKey]int {
	t.Helper()
	p := rfc5424.NewParser()
	n := map[srKey]int{}
	for _, r := range got {
		m, err := p.Parse([]byte(r.Raw))
		if err != nil {
			t.Fatalf("message does not parse: %v: %q", err, r.Raw)
		}
		sm := m.(*rfc5424.SyslogMessage)
		if sm.StructuredData == nil {
			t.Fatalf("message without an origin stamp: %q", r.Raw)
		}
		o := (*sm.StructuredData)["origin@32473"]
		shard, err1 := strconv.Atoi(o["shard"])
		index, err2 := strconv.Atoi(o["index"])
		if err1 != nil || err2 != nil || o["logstore"] != logstore {
			t.Fatalf("origin stamp %v", o)
		}
		n[srKey{shard, srGroupOf(t, o["cursor"]), index}]++
	}
	return n
}

// srTally is what a stream run delivered, compared with what was produced.
type srTally struct {
	produced, received, duplicates int
	lostWithSuccess                int // logs of ranges answered success that never arrived
	lostGivenUp                    int // logs of ranges the trigger gave up (answered failure)
	missing                        int // every log never received
	invocations, failed            int
	resent, minResent              int64
	logsMiscounted                 int // successful answers whose logs differ from their range's size
	resets                         int64
}

func (s srTally) String() string {
	return fmt.Sprintf("produced %d, received %d, missing %d (lost with success %d, in given-up ranges %d), duplicates %d; "+
		"%d invocations (%d failed), resent %d (smallest %d), %d answers miscounting their logs; %d resets",
		s.produced, s.received, s.missing, s.lostWithSuccess, s.lostGivenUp, s.duplicates,
		s.invocations, s.failed, s.resent, s.minResent, s.logsMiscounted, s.resets)
}

// TestRELPStreamResetsLoseNothing is issue 22's first case on the real
// thing, over relp and relp-tls: no log lost while its range was answered
// success, resent never negative, each answer's logs its range's size.
func TestRELPStreamResetsLoseNothing(t *testing.T) {
	requireImrelp(t)
	for _, proto := range []string{"relp", "relp-tls"} {
		t.Run(proto, func(t *testing.T) {
			tl := srRunTrigger(t, proto)
			t.Logf("RELP stream, reset every 512 KiB, %s: %s", proto, tl)
			if tl.resets == 0 {
				t.Fatal("no connection was reset: the run proves nothing")
			}
			if tl.lostWithSuccess != 0 {
				t.Errorf("%d logs lost while their ranges were answered success", tl.lostWithSuccess)
			}
			if tl.missing != 0 {
				t.Errorf("%d logs never received", tl.missing)
			}
			if tl.minResent < 0 {
				t.Errorf("an answer reported resent %d", tl.minResent)
			}
			if tl.logsMiscounted != 0 {
				t.Errorf("%d answers reported a logs count other than their range's size", tl.logsMiscounted)
			}
		})
	}
}

// srEnv is the function's environment for proto through port.
func srEnv(rs *rsyslogd, proto string, port int) []string {
	env := []string{"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + strconv.Itoa(port), "SYSLOG_PROTOCOL=" + proto,
		"SYSLOG_MAX_RETRIES=6", "SYSLOG_RETRY_BACKOFF=50ms", "SYSLOG_WRITE_TIMEOUT=2s", "SYSLOG_MAX_MESSAGE_SIZE=65536",
		"SYSLOG_ORIGIN_SD=true", "SLS_PULL_COUNT=5"}
	if proto == "relp-tls" {
		env = append(env, "SYSLOG_TLS_CA_FILE="+rs.PKI.CAFile, "SYSLOG_TLS_SERVER_NAME=127.0.0.1",
			"SYSLOG_TLS_CERT_FILE="+rs.PKI.ClientCertFile, "SYSLOG_TLS_KEY_FILE="+rs.PKI.ClientKey)
	}
	return env
}

func srRunTrigger(t *testing.T, proto string) srTally {
	rs := startRsyslog(t)
	port := rs.Ports().RELP
	if proto == "relp-tls" {
		port = rs.Ports().RELPTLS
	}
	p := newFaultProxy(t, loopback(port))
	p.resetAt.Store(srResetEvery)
	c := srNewCloud(t)
	fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{
		Timeout: 30 * time.Second, InstanceConcurrency: srShards, Env: srEnv(rs, proto, p.port()),
	})
	sim, err := slstrigger.New(slstrigger.Config{
		Client: localcloud.NewSLSClient(c.endpoint, c.loader), Endpoint: c.endpoint,
		Project: srProject, Logstore: srLogstore, Interval: 100 * time.Millisecond,
		MaxRetryTime: 3, RetryDelay: 100 * time.Millisecond, StartCursor: "begin",
	}, fn)
	if err != nil {
		t.Fatal(err)
	}
	produced := c.produce(t, srGroups, 10*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	var rep slstrigger.Report
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rep, _ = sim.Run(ctx)
	}()
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	cancel()
	wg.Wait()
	rest, err := sim.RunUntilCaughtUp(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rep.Attempts = append(rep.Attempts, rest.Attempts...)
	rep.Failed = append(rep.Failed, rest.Failed...)

	total := srShards * srGroups * srLogsPerGroup
	got := srCount(t, srSettled(t, rs, total))
	return srTallyOf(t, rep, got, p.resets.Load(), srGroups)
}

// srSettled waits until rsyslog holds want messages or its output has not
// grown for 5 s (everything acknowledged was in its queue when the
// trigger's last answer arrived: it is written by then), and returns them.
func srSettled(t *testing.T, rs *rsyslogd, want int) []received {
	t.Helper()
	last, since := -1, time.Now()
	for {
		n := rs.countLines(t)
		if n >= want || time.Since(since) > 5*time.Second {
			return rs.Messages(t)
		}
		if n != last {
			last, since = n, time.Now()
		}
		time.Sleep(20 * time.Millisecond) // polling the output file
	}
}

// srTallyOf compares the trigger's attempts with what the receiver got,
// groups log groups having been produced per shard.
func srTallyOf(t *testing.T, rep slstrigger.Report, got map[srKey]int, resets int64, groups int) srTally {
	tl := srTally{produced: srShards * groups * srLogsPerGroup, resets: resets, invocations: len(rep.Attempts)}
	for _, n := range got {
		tl.received += n
		tl.duplicates += n - 1
	}
	// The ranges answered success, and those given up.
	type rng struct{ shard, begin, end int }
	var ok, givenUp []rng
	for _, a := range rep.Attempts {
		r := rng{a.Shard, srGroupOf(t, a.BeginCursor), srGroupOf(t, a.EndCursor)}
		if a.Err != "" {
			tl.failed++
			continue
		}
		ok = append(ok, r)
		s := decodeSummary(t, a.Payload)
		tl.resent += s.Resent
		tl.minResent = min(tl.minResent, s.Resent)
		if s.Logs != int64((r.end-r.begin)*srLogsPerGroup) {
			tl.logsMiscounted++
			t.Logf("shard %d range [%d, %d) answered success with logs %d, resent %d; it holds %d", r.shard, r.begin, r.end,
				s.Logs, s.Resent, (r.end-r.begin)*srLogsPerGroup)
		}
	}
	for _, a := range rep.Failed {
		givenUp = append(givenUp, rng{a.Shard, srGroupOf(t, a.BeginCursor), srGroupOf(t, a.EndCursor)})
	}
	lost := func(rs []rng) int {
		n := 0
		for _, r := range rs {
			var missing []int
			for g := r.begin; g < r.end; g++ {
				for i := range srLogsPerGroup {
					if got[srKey{r.shard, g, i}] == 0 {
						n++
						if !slices.Contains(missing, g) {
							missing = append(missing, g)
						}
					}
				}
			}
			if len(missing) > 0 {
				t.Logf("shard %d range [%d, %d): groups %v missing", r.shard, r.begin, r.end, missing)
			}
		}
		return n
	}
	tl.lostWithSuccess, tl.lostGivenUp = lost(ok), lost(givenUp)
	for shard := range srShards {
		for g := range groups {
			for i := range srLogsPerGroup {
				if got[srKey{shard, g, i}] == 0 {
					tl.missing++
				}
			}
		}
	}
	return tl
}

// TestConsumerGroupRELPStreamResetsLoseNothing is the stream-reset case in
// consumer-group mode, over relp and relp-tls: a producer keeps appending
// to four shards while the proxy resets the consumer's RELP connection
// every 512 KiB; no checkpoint is ever ahead of what the receiver
// acknowledged (every log below every checkpoint seen during the run
// arrives, and the consumer never sends a log below its checkpoint again),
// nothing is lost, and the consumer's resent is never negative.
func TestConsumerGroupRELPStreamResetsLoseNothing(t *testing.T) {
	requireImrelp(t)
	for _, proto := range []string{"relp", "relp-tls"} {
		t.Run(proto, func(t *testing.T) {
			rs := startRsyslog(t)
			port := rs.Ports().RELP
			env := []string{"SYSLOG_PROTOCOL=" + proto, "SYSLOG_FRAMING=", "SYSLOG_MAX_MESSAGE_SIZE=65536", "SYSLOG_MAX_RETRIES=6"}
			if proto == "relp-tls" {
				port = rs.Ports().RELPTLS
				env = append(env, "SYSLOG_TLS_CA_FILE="+rs.PKI.CAFile, "SYSLOG_TLS_SERVER_NAME=127.0.0.1",
					"SYSLOG_TLS_CERT_FILE="+rs.PKI.ClientCertFile, "SYSLOG_TLS_KEY_FILE="+rs.PKI.ClientKey)
			}
			p := newFaultProxy(t, loopback(port))
			p.resetAt.Store(srResetEvery)
			c := cgNewCloud(t)
			a := cgStart(t, c, "consumer-stream", p.port(), env...)
			cgWaitBalanced(t, c, a.name)
			prod := cgNewProducer(t, c)
			const groups = 18000 / cgShards / cgLogsPerGroup
			prod.produce(groups, 10*time.Millisecond)

			// Sample the checkpoints while the stream runs.
			var seen [][cgShards]int
			for prod.groupsOf(cgShards-1) < groups {
				seen = append(seen, c.cgCheckpoints(t))
				time.Sleep(50 * time.Millisecond) // the sampling interval
			}
			logs := cgWaitAll(t, rs, prod)
			cgWaitCheckpointsAtEnd(t, c, prod)
			a.mustStop(t)
			tl := cgCount(logs, prod)
			sum := cgLastSummary(t, a)
			t.Logf("consumer over %s, reset every 512 KiB: %s; %d checkpoint samples; summary resent %d, reconnects %d, batches retried %d; %s",
				proto, tl, len(seen), sum.Resent, sum.Reconnects, sum.BatchesRetried, p)
			if p.resets.Load() == 0 {
				t.Fatal("no connection was reset: the run proves nothing")
			}
			if tl.missing != 0 {
				t.Errorf("%d logs missing", tl.missing)
			}
			for _, cps := range seen {
				for shard, cp := range cps {
					for g := range cp {
						for i := range cgLogsPerGroup {
							if tl.copies[[3]int{shard, g, i}] == 0 {
								t.Fatalf("checkpoint %d of shard %d covered log %d-%d-%d, which never arrived", cp, shard, shard, g, i)
							}
						}
					}
				}
			}
			if sum.Resent < 0 || sum.Reconnects == 0 {
				t.Errorf("summary %+v: want resent >= 0 and the reconnections counted", sum)
			}
		})
	}
}

// cgSummaryLine is the consumer's last log line.
type cgSummaryLine struct {
	Msg            string `json:"msg"`
	Logs           int64  `json:"logs"`
	Resent         int64  `json:"resent"`
	Reconnects     int64  `json:"reconnects"`
	BatchesRetried int64  `json:"batchesRetried"`
}

// cgLastSummary returns the "consumer stopped" line of a stopped consumer.
func cgLastSummary(t *testing.T, cs *cgConsumer) cgSummaryLine {
	t.Helper()
	var last cgSummaryLine
	found := false
	for _, line := range strings.Split(cs.out.String(), "\n") {
		var l cgSummaryLine
		if json.Unmarshal([]byte(line), &l) == nil && strings.HasPrefix(l.Msg, "consumer stopped") {
			last, found = l, true
		}
	}
	if !found {
		t.Fatalf("%s logged no summary", cs.name)
	}
	return last
}
