package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/fcemu"
	"sls2siem/internal/localcloud/slsemu"
	"sls2siem/internal/localcloud/slstrigger"
)

// Several receivers (issue 20) end to end: two and three real rsyslog
// instances on loopback (imrelp and imtcp) sharing one test PKI, the built
// binary under the FC emulator (trigger mode) or as `sls2siem consume`,
// every log counted by its origin stamp on every receiver.

// rcSet is the rsyslog instances of a test.
type rcSet struct {
	rs  []*rsyslogd
	pki *testPKI
}

// startRsyslogs starts n rsyslog instances with one PKI.
func startRsyslogs(t *testing.T, n int) *rcSet {
	t.Helper()
	s := &rcSet{pki: newTestPKI(t)}
	for range n {
		s.rs = append(s.rs, startRsyslogPKI(t, s.pki))
	}
	return s
}

// port is instance i's port for proto (tcp: imtcp's octet-counting port).
func (s *rcSet) port(i int, proto string) int {
	switch p := s.rs[i].Ports(); proto {
	case "relp":
		return p.RELP
	case "relp-tls":
		return p.RELPTLS
	default:
		return p.TCP
	}
}

// ports are every instance's ports for proto.
func (s *rcSet) ports(proto string) []int {
	out := make([]int, len(s.rs))
	for i := range s.rs {
		out[i] = s.port(i, proto)
	}
	return out
}

// rcEnv is the environment of a shipper to the receivers at ports over
// proto, sharing the logs as balance says: probes every 300 ms, fail-back
// after 3, a 2 s write timeout, origin stamps.
func (s *rcSet) env(proto, balance string, ports []int, extra ...string) []string {
	hosts := make([]string, len(ports))
	ps := make([]string, len(ports))
	for i, p := range ports {
		hosts[i], ps[i] = "127.0.0.1", strconv.Itoa(p)
	}
	env := []string{"SYSLOG_HOST=" + strings.Join(hosts, ","), "SYSLOG_PORT=" + strings.Join(ps, ","), "SYSLOG_PROTOCOL=" + proto,
		"SYSLOG_BALANCE=" + balance, "SYSLOG_PROBE_INTERVAL=" + rcProbeInterval.String(), "SYSLOG_FAILBACK_PROBES=3",
		"SYSLOG_MAX_RETRIES=6", "SYSLOG_RETRY_BACKOFF=50ms", "SYSLOG_WRITE_TIMEOUT=" + rcWriteTimeout.String(), "SYSLOG_DIAL_TIMEOUT=1s",
		"SYSLOG_MAX_MESSAGE_SIZE=65536", "SYSLOG_ORIGIN_SD=true", "SLS_PULL_COUNT=5"}
	switch proto {
	case "tcp":
		env = append(env, "SYSLOG_FRAMING=octet-counting")
	case "relp-tls":
		env = append(env, "SYSLOG_FRAMING=", "SYSLOG_TLS_CA_FILE="+s.pki.CAFile, "SYSLOG_TLS_SERVER_NAME=127.0.0.1",
			"SYSLOG_TLS_CERT_FILE="+s.pki.ClientCertFile, "SYSLOG_TLS_KEY_FILE="+s.pki.ClientKey)
	default:
		env = append(env, "SYSLOG_FRAMING=")
	}
	return append(env, extra...)
}

const (
	rcProbeInterval = 300 * time.Millisecond
	rcWriteTimeout  = 2 * time.Second
	rcGroups        = 400 // per shard, of srLogsPerGroup logs: 8 000 logs in all (the shorter streams)
)

// addr is instance i's address for proto, as the shipper names it.
func (s *rcSet) addr(i int, proto string) string { return loopback(s.port(i, proto)) }

// lines is how many messages instance i stored.
func (s *rcSet) lines(t *testing.T, i int) int { return s.rs[i].countLines(t) }

// settled waits until the instances together hold want messages or their
// output has not grown for 5 s, and returns each one's count by origin.
func (s *rcSet) settled(t *testing.T, logstore string, want int) []map[srKey]int {
	t.Helper()
	last, since := -1, time.Now()
	for {
		n := 0
		for i := range s.rs {
			n += s.lines(t, i)
		}
		if n >= want || time.Since(since) > 5*time.Second {
			break
		}
		if n != last {
			last, since = n, time.Now()
		}
		time.Sleep(20 * time.Millisecond) // polling the output files
	}
	out := make([]map[srKey]int, len(s.rs))
	for i, r := range s.rs {
		out[i] = originCount(t, logstore, r.Messages(t))
	}
	return out
}

// union adds the counts of every receiver.
func union(got []map[srKey]int) map[srKey]int {
	u := map[srKey]int{}
	for _, g := range got {
		for k, n := range g {
			u[k] += n
		}
	}
	return u
}

// rcWait polls cond until it holds, failing after timeout.
func rcWait(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not reached within %v: %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond) // polling a real condition
	}
}

// rcStream runs issue 22's stream (a producer appending groups log groups
// of srLogsPerGroup logs to each of two shards, the
// trigger invoking the function with each shard's new range, round after
// round)
// into the receivers of env; inject runs alongside while the producer
// writes, and then every pull is slowed down (two log groups each, 15 ms)
// so that ranges take long. inject gets midRange: once the first receiver
// holds n logs, it holds each shard's next pull for a second and returns
// when nothing arrives any more, with the time the pulls resume: the
// ranges in flight have confirmed logs and wait to send more, so a fault
// injected then lands mid-range. It returns
// the trigger's report, every receiver's logs by origin, and the
// function's output.
func rcStream(t *testing.T, set *rcSet, env []string, groups int, inject func(midRange func(n int) time.Time)) (slstrigger.Report, []map[srKey]int, string) {
	t.Helper()
	c := srNewCloud(t)
	slow := slsemu.Fault{Op: slsemu.OpPullLogs, Delay: 15 * time.Millisecond, Times: -1}
	if inject != nil {
		c.emu.InjectFault(slow)
		env = append(env, "SLS_PULL_COUNT=2")
	}
	midRange := func(n int) time.Time {
		rcWait(t, 60*time.Second, fmt.Sprintf("%d logs on the first receiver", n), func() bool { return set.lines(t, 0) >= n })
		const hold = time.Second
		c.emu.ClearFaults()
		c.emu.InjectFault(slsemu.Fault{Op: slsemu.OpPullLogs, Delay: hold, Times: srShards})
		c.emu.InjectFault(slow)
		resume := time.Now().Add(hold)
		last, since := -1, time.Now()
		rcWait(t, 10*time.Second, "the receivers quiet for 100 ms", func() bool {
			n := set.lines(t, 0) + set.lines(t, 1)
			if n != last {
				last, since = n, time.Now()
			}
			return time.Since(since) >= 100*time.Millisecond
		})
		return resume
	}
	fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{Timeout: 30 * time.Second, InstanceConcurrency: srShards, Env: env})
	sim, err := slstrigger.New(slstrigger.Config{
		Client: localcloud.NewSLSClient(c.endpoint, c.loader), Endpoint: c.endpoint,
		Project: srProject, Logstore: srLogstore, Interval: 100 * time.Millisecond,
		MaxRetryTime: 3, RetryDelay: 100 * time.Millisecond, StartCursor: "begin",
	}, fn)
	if err != nil {
		t.Fatal(err)
	}
	produced := c.produce(t, groups, 10*time.Millisecond)
	// The trigger's rounds, back to back (20 ms apart, so that a fault
	// finds ranges in flight), until the producer is done: a round is
	// never cancelled (an invocation it cancels is not in its report, and
	// its range would be sent again).
	var rep slstrigger.Report
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			r, _ := sim.Round(context.Background())
			rep.Attempts, rep.Failed = append(rep.Attempts, r.Attempts...), append(rep.Failed, r.Failed...)
			rep.RangesOK, rep.RangesFailed = rep.RangesOK+r.RangesOK, rep.RangesFailed+r.RangesFailed
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond): // the trigger's interval
			}
		}
	})
	if inject != nil {
		inject(midRange)
	}
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	rest, err := sim.RunUntilCaughtUp(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rep.Attempts = append(rep.Attempts, rest.Attempts...)
	rep.Failed = append(rep.Failed, rest.Failed...)
	rep.RangesOK += rest.RangesOK
	rep.RangesFailed += rest.RangesFailed
	total := srShards * groups * srLogsPerGroup
	got := set.settled(t, srLogstore, total)
	return rep, got, c.output.String()
}

// rcUsage is the receivers part of the function's answer.
type rcUsage struct {
	Logs      int64 `json:"logs"`
	Resent    int64 `json:"resent"`
	Receivers *struct {
		Logs []struct {
			Receiver string `json:"receiver"`
			Logs     int64  `json:"logs"`
		} `json:"logs"`
		Switches          int   `json:"switches"`
		ResentAfterSwitch int64 `json:"resentAfterSwitch"`
	} `json:"receivers"`
}

// rcUsages decodes the answers of the successful attempts and checks that
// each one's logs per receiver add up to its logs; it returns the
// answers, and the switches and resent after a switch they report.
func rcUsages(t *testing.T, rep slstrigger.Report) (answers []rcUsage, switches int, resentAfterSwitch int64) {
	t.Helper()
	for _, a := range rep.Attempts {
		if a.Err != "" {
			continue
		}
		var u rcUsage
		if err := json.Unmarshal(a.Payload, &u); err != nil || u.Receivers == nil {
			t.Fatalf("answer %s (%v): no receivers", a.Payload, err)
		}
		var sum int64
		for _, l := range u.Receivers.Logs {
			sum += l.Logs
		}
		if sum != u.Logs {
			t.Errorf("answer %s: the receivers' logs add up to %d", a.Payload, sum)
		}
		switches += u.Receivers.Switches
		resentAfterSwitch += u.Receivers.ResentAfterSwitch
		answers = append(answers, u)
	}
	return answers, switches, resentAfterSwitch
}

// rcSplit counts the answers whose range switched receivers after some of
// its logs were confirmed on the first: a fault that landed mid-range.
func rcSplit(answers []rcUsage) int {
	n := 0
	for _, u := range answers {
		if u.Receivers.Switches > 0 && len(u.Receivers.Logs) > 1 && u.Receivers.Logs[0].Logs > 0 {
			n++
		}
	}
	return n
}

// rcDuplicates logs where duplicated log groups arrived (the first few):
// per receiver, how many copies of each of their logs.
func rcDuplicates(t *testing.T, got []map[srKey]int) {
	t.Helper()
	groups := map[[2]int][]int{}
	for k, n := range union(got) {
		if n < 2 {
			continue
		}
		g := [2]int{k.shard, k.group}
		if groups[g] == nil {
			groups[g] = make([]int, len(got))
		}
		for r, m := range got {
			groups[g][r] += m[k]
		}
	}
	shown := 0
	for g, copies := range groups {
		if shown++; shown > 5 {
			break
		}
		t.Logf("duplicated: shard %d group %d, copies per receiver %v", g[0], g[1], copies)
	}
}

// rcLogLine is one of the function's log lines.
type rcLogLine struct {
	Time     time.Time `json:"time"`
	Msg      string    `json:"msg"`
	Receiver string    `json:"receiver"`
	Next     string    `json:"next"`
	Why      string    `json:"why"`
}

// rcLines returns the function's log lines whose message starts with msg.
func rcLines(output, msg string) []rcLogLine {
	var out []rcLogLine
	sc := bufio.NewScanner(strings.NewReader(output))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l rcLogLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && strings.HasPrefix(l.Msg, msg) {
			out = append(out, l)
		}
	}
	return out
}

// rcRangesOnOneReceiver counts the ranges answered success whose logs
// arrived on more than one receiver.
func rcRangesOnOneReceiver(t *testing.T, rep slstrigger.Report, got []map[srKey]int) (ranges, spread int) {
	t.Helper()
	for _, a := range rep.Attempts {
		if a.Err != "" {
			continue
		}
		ranges++
		on := map[int]bool{}
		for g := srGroupOf(t, a.BeginCursor); g < srGroupOf(t, a.EndCursor); g++ {
			for i := range srLogsPerGroup {
				for r, m := range got {
					if m[srKey{a.Shard, g, i}] > 0 {
						on[r] = true
					}
				}
			}
		}
		if len(on) > 1 {
			spread++
			t.Logf("shard %d range [%d, %d) arrived on receivers %v", a.Shard, srGroupOf(t, a.BeginCursor), srGroupOf(t, a.EndCursor), on)
		}
	}
	return ranges, spread
}

// TestReceiversFailoverKilledMidRange: failover over three (relp) or two
// (relp-tls, tcp) rsyslog instances; the first is SIGKILLed in the middle
// of the stream and restarted. No range is given up, and over RELP nothing
// is lost (over TCP what the killed receiver's kernel acknowledged and it
// never read is lost, and counted); the switch to the second comes within
// one write timeout of the kill; the first is used again once it answered
// its probes; the third takes nothing.
func TestReceiversFailoverKilledMidRange(t *testing.T) {
	for _, c := range []struct {
		proto     string
		receivers int
	}{{"relp", 3}, {"relp-tls", 2}, {"tcp", 2}} {
		t.Run(fmt.Sprintf("%s/%d receivers", c.proto, c.receivers), func(t *testing.T) {
			if c.proto != "tcp" {
				requireImrelp(t)
			}
			set := startRsyslogs(t, c.receivers)
			a, b := set.addr(0, c.proto), set.addr(1, c.proto)
			var killedAt, resumedAt, restartedAt time.Time
			var atKill int
			// The whole stream (18 000 logs): the first must come back
			// and fail back while logs still flow.
			rep, got, out := rcStream(t, set, set.env(c.proto, "failover", set.ports(c.proto)), srGroups, func(midRange func(int) time.Time) {
				resumedAt = midRange(2000)
				atKill = set.lines(t, 0)
				set.rs[0].kill()
				killedAt = time.Now()
				before := set.lines(t, 1)
				rcWait(t, 60*time.Second, "the second receiver taking 1000 logs", func() bool { return set.lines(t, 1) >= before+1000 })
				set.rs[0].start(t)
				restartedAt = time.Now()
				rcWait(t, 60*time.Second, "the first receiver taking logs again", func() bool { return set.lines(t, 0) > atKill })
			})
			tl := srTallyOf(t, rep, union(got), 0, srGroups)
			answers, switches, resentAfterSwitch := rcUsages(t, rep)
			t.Logf("%s, %d receivers, the first killed and restarted: %s; each received %d, %d, …; %d answers, %d switches (%d mid-range), %d resent after a switch",
				c.proto, c.receivers, tl, len(got[0]), len(got[1]), len(answers), switches, rcSplit(answers), resentAfterSwitch)
			rcDuplicates(t, got)
			if rep.RangesFailed != 0 || c.proto != "tcp" && (tl.missing != 0 || tl.lostWithSuccess != 0) {
				t.Fatalf("%d logs missing, %d lost with success, %d ranges given up", tl.missing, tl.lostWithSuccess, rep.RangesFailed)
			}
			if rcSplit(answers) == 0 {
				for _, u := range answers {
					if u.Receivers.Switches > 0 {
						t.Logf("switched: %+v", *u.Receivers)
					}
				}
				for _, l := range rcLines(out, "syslog send failed") {
					t.Logf("failure at %v (kill at %v): %s -> %s", l.Time, killedAt, l.Receiver, l.Next)
				}
				t.Fatal("no range switched receivers after confirming logs on the first: the kill did not land mid-range, so this run proves nothing")
			}
			if c.receivers == 3 && len(got[2]) != 0 {
				t.Errorf("the third receiver took %d logs: failover goes to the first healthy one", len(got[2]))
			}
			// The switch: the first failure on a after the kill, which
			// names b as the next receiver.
			var sw *rcLogLine
			for _, l := range rcLines(out, "syslog send failed") {
				if l.Receiver == a && l.Next == b && !l.Time.Before(killedAt.Add(-time.Second)) {
					sw = &l
					break
				}
			}
			if sw == nil {
				t.Fatalf("no failure on %s switching to %s after the kill", a, b)
			}
			// Measured from when the ranges could send again (their pulls
			// were held while the receiver was killed).
			if d := sw.Time.Sub(resumedAt); d > rcWriteTimeout {
				t.Errorf("the switch came %v after the ranges sent again, more than the write timeout %v", d, rcWriteTimeout)
			}
			// Fail-back: a is up again only once it answered three probes.
			var back *rcLogLine
			for _, l := range rcLines(out, "syslog receiver up") {
				if l.Receiver == a && l.Time.After(restartedAt) {
					back = &l
					break
				}
			}
			if back == nil || back.Why != "answered health probes in a row" {
				t.Fatalf("no fail-back to %s after its probes: %+v", a, back)
			}
			t.Logf("switch %v after the ranges sent again (%v after the kill); fail-back %v after the restart (probes every %v, 3 needed)",
				sw.Time.Sub(resumedAt).Round(time.Millisecond), sw.Time.Sub(killedAt).Round(time.Millisecond),
				back.Time.Sub(restartedAt).Round(time.Millisecond), rcProbeInterval)
		})
	}
}

// TestReceiversFirstDownFromTheStart: the first of two receivers is down
// from the start (nothing listens), over relp and tcp: every log reaches
// the second, and only the first invocation of the instance pays for
// finding the first down (the others skip it).
func TestReceiversFirstDownFromTheStart(t *testing.T) {
	for _, proto := range []string{"relp", "tcp"} {
		t.Run(proto, func(t *testing.T) {
			if proto == "relp" {
				requireImrelp(t)
			}
			set := startRsyslogs(t, 1)
			down := closedPort(t)
			c := newCloud(t)
			fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{Timeout: 30 * time.Second,
				Env: set.env(proto, "failover", []int{down, set.port(0, proto)})})
			rep := trTrigger(t, c, fn, 3)
			got := originCount(t, c.data.Logstore, set.rs[0].WaitForCount(t, 3000, 60*time.Second))
			answers, _, _ := rcUsages(t, rep)
			tried := 0
			for _, u := range answers {
				for _, l := range u.Receivers.Logs {
					if l.Receiver == loopback(down) {
						tried++
						if l.Logs != 0 {
							t.Errorf("the receiver that is down took %d logs", l.Logs)
						}
					}
				}
			}
			total := 0
			for _, n := range got {
				total += n
			}
			t.Logf("%s, the first receiver down: %d answers, %d tried it; %d logs received (%d distinct)", proto, len(answers), tried, total, len(got))
			if rep.RangesFailed != 0 || len(got) != 3000 {
				t.Fatalf("%d ranges given up, %d distinct logs received of 3000", rep.RangesFailed, len(got))
			}
			if tried != 1 {
				t.Errorf("%d invocations tried the receiver found down, want the first alone", tried)
			}
		})
	}
}

// TestReceiversAllDownPastTheRetries: both receivers down past the
// trigger's retries: every attempt fails, every range is dead-lettered,
// none is ever answered success.
func TestReceiversAllDownPastTheRetries(t *testing.T) {
	c := dlCloud(t)
	a, b := closedPort(t), closedPort(t)
	fn := c.start(t, fcemu.ContractCustom, c.roleCredentials(), fcemu.Config{Timeout: 30 * time.Second,
		Env: append(dlEnv(a), "SYSLOG_HOST=127.0.0.1,localhost", "SYSLOG_PORT="+strconv.Itoa(a)+","+strconv.Itoa(b), "SYSLOG_MAX_RETRIES=2")})
	rep := trTrigger(t, c, fn, 1)
	for _, at := range rep.Attempts {
		if at.Err == "" {
			t.Fatalf("an attempt succeeded with every receiver down: %s", at.Payload)
		}
		if !strings.Contains(at.Err, "retries exhausted") || !strings.Contains(at.Err, "counted across 2 receivers") {
			t.Errorf("error %q does not say the retries across both receivers ran out", at.Err)
		}
	}
	recs := dlRecords(t, c)
	if rep.RangesFailed != len(c.data.Shards) || rep.RangesOK != 0 || dlStates(recs)["failed"] != len(rep.Attempts) {
		t.Fatalf("%d ranges given up, %d succeeded, %d attempts, dead-letter records %v", rep.RangesFailed, rep.RangesOK, len(rep.Attempts), dlStates(recs))
	}
	t.Logf("both receivers down: %d attempts failed, %d ranges given up and dead-lettered (%v)", len(rep.Attempts), rep.RangesFailed, dlStates(recs))
}

// TestReceiversRoundRobin: round-robin over two healthy receivers, over
// relp and tcp: both receive, together every log, each range on one.
func TestReceiversRoundRobin(t *testing.T) {
	for _, proto := range []string{"relp", "tcp"} {
		t.Run(proto, func(t *testing.T) {
			if proto == "relp" {
				requireImrelp(t)
			}
			set := startRsyslogs(t, 2)
			rep, got, _ := rcStream(t, set, set.env(proto, "round-robin", set.ports(proto)), rcGroups, nil)
			tl := srTallyOf(t, rep, union(got), 0, rcGroups)
			ranges, spread := rcRangesOnOneReceiver(t, rep, got)
			t.Logf("%s round-robin: %s; the receivers took %d and %d distinct logs; %d ranges, %d on several receivers", proto, tl, len(got[0]), len(got[1]), ranges, spread)
			if tl.missing != 0 || tl.duplicates != 0 || rep.RangesFailed != 0 {
				t.Fatalf("%d missing, %d duplicates, %d ranges given up", tl.missing, tl.duplicates, rep.RangesFailed)
			}
			if len(got[0]) == 0 || len(got[1]) == 0 {
				t.Fatalf("a receiver took nothing: %d and %d", len(got[0]), len(got[1]))
			}
			if spread != 0 {
				t.Fatalf("%d of %d ranges arrived on more than one receiver", spread, ranges)
			}
		})
	}
}

// TestReceiversRELPNeverAcknowledges: the first RELP receiver is frozen
// (SIGSTOP) in the middle of the stream: it accepts connections and bytes
// and acknowledges nothing. It is treated as down: what it did not
// acknowledge goes to the second, nothing is lost, nothing is given up.
func TestReceiversRELPNeverAcknowledges(t *testing.T) {
	requireImrelp(t)
	set := startRsyslogs(t, 2)
	frozen := false
	t.Cleanup(func() {
		if frozen {
			set.rs[0].cmd.Process.Signal(syscall.SIGCONT)
		}
	})
	a := set.addr(0, "relp")
	rep, got, out := rcStream(t, set, set.env("relp", "failover", set.ports("relp")), rcGroups, func(midRange func(int) time.Time) {
		midRange(2000)
		set.rs[0].cmd.Process.Signal(syscall.SIGSTOP)
		frozen = true
		before := set.lines(t, 1)
		rcWait(t, 60*time.Second, "the second receiver taking 1000 logs", func() bool { return set.lines(t, 1) >= before+1000 })
	})
	// What the frozen receiver holds stays there until it runs again.
	set.rs[0].cmd.Process.Signal(syscall.SIGCONT)
	frozen = false
	got = set.settled(t, srLogstore, srShards*rcGroups*srLogsPerGroup)
	tl := srTallyOf(t, rep, union(got), 0, rcGroups)
	answers, switches, resentAfterSwitch := rcUsages(t, rep)
	var kinds []string
	for _, l := range rcLines(out, "syslog receiver down") {
		if l.Receiver == a {
			kinds = append(kinds, l.Msg)
		}
	}
	t.Logf("relp, the first receiver frozen: %s; %d switches (%d mid-range), %d resent after a switch", tl, switches, rcSplit(answers), resentAfterSwitch)
	if tl.missing != 0 || tl.lostWithSuccess != 0 || rep.RangesFailed != 0 {
		t.Fatalf("%d logs missing, %d lost with success, %d ranges given up", tl.missing, tl.lostWithSuccess, rep.RangesFailed)
	}
	if switches == 0 || len(kinds) == 0 {
		t.Fatal("the frozen receiver was never found down")
	}
	if rcSplit(answers) == 0 || resentAfterSwitch == 0 {
		t.Fatal("no range moved on with messages the frozen receiver had not acknowledged: the freeze did not land mid-range, so this run proves nothing")
	}
}

// TestReceiversConsumerGroup: `sls2siem consume` over two receivers
// (failover), over relp and relp-tls; the first is SIGKILLed mid-stream
// and restarted: nothing is missing, no checkpoint is ever ahead of the
// logs the receivers got, and the first takes logs again after its
// probes.
func TestReceiversConsumerGroup(t *testing.T) {
	requireImrelp(t)
	for _, proto := range []string{"relp", "relp-tls"} {
		t.Run(proto, func(t *testing.T) {
			set := startRsyslogs(t, 2)
			c := cgNewCloud(t)
			cs := cgStart(t, c, "consumer-rc", set.port(0, proto), set.env(proto, "failover", set.ports(proto))...)
			cgWaitBalanced(t, c, cs.name)
			prod := cgNewProducer(t, c)
			const groups = 12000 / cgShards / cgLogsPerGroup
			prod.produce(groups, 10*time.Millisecond)
			var seen [][cgShards]int
			sample := func() { seen = append(seen, c.cgCheckpoints(t)) }
			for set.lines(t, 0) < 2000 {
				sample()
				time.Sleep(50 * time.Millisecond) // the sampling interval
			}
			atKill := set.lines(t, 0)
			set.rs[0].kill()
			before := set.lines(t, 1)
			for set.lines(t, 1) < before+1000 {
				sample()
				time.Sleep(50 * time.Millisecond)
			}
			set.rs[0].start(t)
			for prod.groupsOf(cgShards-1) < groups {
				sample()
				time.Sleep(50 * time.Millisecond)
			}
			prod.wait(t)
			var logs []cgLog
			cgWait(t, 60*time.Second, "every produced log received", func() bool {
				var all []received
				for _, r := range set.rs {
					all = append(all, r.Messages(t)...)
				}
				logs = cgParse(t, all)
				return cgCount(logs, prod).missing == 0
			})
			cgWaitCheckpointsAtEnd(t, c, prod)
			sample()
			tl := cgCount(logs, prod)
			// Fail-back: more logs for the first once it answered its probes.
			prod.produce(50, 10*time.Millisecond)
			prod.wait(t)
			cgWait(t, 30*time.Second, "the first receiver taking logs again", func() bool { return set.lines(t, 0) > atKill })
			cs.mustStop(t)
			t.Logf("consumer over %s, the first receiver killed and restarted: %s; %d checkpoint samples", proto, tl, len(seen))
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
		})
	}
}
