package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/fcemu"
	"sls2siem/internal/localcloud/slsemu"
)

// Consumer-group mode end to end: `sls2siem consume` processes (the built
// binary, configured by environment variables) against the SLS emulator,
// shipping a four-shard logstore that a producer keeps writing to, into a
// real rsyslog.

const (
	cgProject      = "cg-project"
	cgLogstore     = "cg-logstore"
	cgGroup        = "siem"
	cgShards       = 4
	cgLogsPerGroup = 4
)

// cgCloud is the SLS emulator with the four-shard logstore, and the
// consumers' AccessKey pair.
type cgCloud struct {
	emu      *slsemu.Server
	endpoint string
	cred     slsemu.Credential
}

func cgNewCloud(t *testing.T) *cgCloud {
	t.Helper()
	c := &cgCloud{
		emu:  slsemu.New(),
		cred: slsemu.Credential{AccessKeyID: "LTAI-cg-" + randomHex(t)[:8], AccessKeySecret: "cg-secret-" + randomHex(t)},
	}
	c.emu.AddCredential(c.cred)
	var err error
	if c.endpoint, err = c.emu.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.emu.Close() })
	if err := c.emu.CreateLogstore(cgProject, cgLogstore, cgShards); err != nil {
		t.Fatal(err)
	}
	return c
}

// cgState returns the consumer group's state (the zero state before it
// exists).
func (c *cgCloud) cgState() slsemu.ConsumerGroupState {
	st, _ := c.emu.ConsumerGroup(cgProject, cgLogstore, cgGroup)
	return st
}

// cgCheckpoints returns, per shard, how many log groups its checkpoint
// covers (0 without a checkpoint).
func (c *cgCloud) cgCheckpoints(t *testing.T) [cgShards]int {
	t.Helper()
	var out [cgShards]int
	for shard, cursor := range c.cgState().Checkpoints {
		n, err := slsemu.DecodeCursor(cursor)
		if err != nil {
			t.Fatalf("shard %d checkpoint: %v", shard, err)
		}
		out[shard] = int(n - slsemu.CursorBase)
	}
	return out
}

// cgProducer appends log groups to every shard, one per shard each
// interval; each log carries its identity "id=<shard>-<group>-<log>".
type cgProducer struct {
	c      *cgCloud
	mu     sync.Mutex
	groups [cgShards]int // appended so far
	done   chan struct{} // closed when the current run ends
	stop   chan struct{}
	err    error
}

func cgNewProducer(t *testing.T, c *cgCloud) *cgProducer {
	t.Helper()
	p := &cgProducer{c: c, done: make(chan struct{}), stop: make(chan struct{})}
	close(p.done)
	t.Cleanup(func() {
		close(p.stop)
		<-p.done
		if p.err != nil {
			t.Errorf("producer: %v", p.err)
		}
	})
	return p
}

// produce appends n more groups per shard in the background.
func (p *cgProducer) produce(n int, interval time.Duration) {
	<-p.done
	done := make(chan struct{})
	p.done = done
	go func() {
		defer close(done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for range n {
			for shard := range cgShards {
				g := p.groupsOf(shard)
				lg := &sls.LogGroup{Topic: proto.String("cg"), Source: proto.String("10.1.0." + strconv.Itoa(shard))}
				for i := range cgLogsPerGroup {
					lg.Logs = append(lg.Logs, &sls.Log{Time: proto.Uint32(uint32(time.Now().Unix())), Contents: []*sls.LogContent{
						{Key: proto.String("event"), Value: proto.String("login from 10.1.2.3 user alice")},
						{Key: proto.String("id"), Value: proto.String(fmt.Sprintf("%d-%d-%d", shard, g, i))},
					}})
				}
				if _, err := p.c.emu.Append(cgProject, cgLogstore, shard, lg, time.Now()); err != nil {
					p.err = err
					return
				}
				p.mu.Lock()
				p.groups[shard]++
				p.mu.Unlock()
			}
			select {
			case <-tick.C:
			case <-p.stop:
				return
			}
		}
	}()
}

// total is the number of logs produced so far.
func (p *cgProducer) total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, g := range p.groups {
		n += g * cgLogsPerGroup
	}
	return n
}

func (p *cgProducer) groupsOf(shard int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.groups[shard]
}

// wait waits for the current run to end.
func (p *cgProducer) wait(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatal("producer did not finish within 60s")
	}
	if p.err != nil {
		t.Fatalf("producer: %v", p.err)
	}
}

// cgConsumer is one `sls2siem consume` process.
type cgConsumer struct {
	name   string
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
	err    error // valid once exited is closed
}

// cgStart starts a consumer named name shipping to rsyslog's TCP port; its
// messages carry its name as HOSTNAME.
func cgStart(t *testing.T, c *cgCloud, name string, syslogPort int, extraEnv ...string) *cgConsumer {
	t.Helper()
	cmd := exec.Command(functionBinary, "consume")
	cmd.Env = []string{
		"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + strconv.Itoa(syslogPort), "SYSLOG_FRAMING=octet-counting",
		"SYSLOG_HOSTNAME=" + name, "SYSLOG_RETRY_BACKOFF=50ms", "SYSLOG_WRITE_TIMEOUT=3s",
		"SLS_ENDPOINT=" + c.endpoint, "SLS_PROJECT=" + cgProject, "SLS_LOGSTORE=" + cgLogstore,
		"SLS_CONSUMER_GROUP=" + cgGroup, "SLS_CONSUMER_NAME=" + name, "SLS_CURSOR_POSITION=begin",
		"SLS_HEARTBEAT_INTERVAL=1s", "SLS_HEARTBEAT_TIMEOUT=3s", "SLS_CHECKPOINT_INTERVAL=500ms",
		"SLS_FETCH_INTERVAL=20ms", "SLS_PULL_COUNT=5", "SLS_CONSUMER_STOP_TIMEOUT=15s",
		"ALIBABA_CLOUD_ACCESS_KEY_ID=" + c.cred.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + c.cred.AccessKeySecret,
		"LOG_LEVEL=info",
	}
	cmd.Env = append(append(cmd.Env, localcloud.TrustEnv(c.endpoint)...), extraEnv...) // later entries win
	cs := &cgConsumer{name: name, cmd: cmd, out: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = cs.out, cs.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cs.err = cmd.Wait()
		close(cs.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-cs.exited:
		default:
			cmd.Process.Kill()
			<-cs.exited
		}
		if strings.Contains(cs.out.String(), c.cred.AccessKeySecret) {
			t.Errorf("the AccessKey secret reached %s's output", name)
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, cs.out)
		}
	})
	return cs
}

// stop sends SIGTERM and waits for a clean exit (status 0); it returns how
// long the stop took. It may run on any goroutine.
func (cs *cgConsumer) stop() (time.Duration, error) {
	start := time.Now()
	cs.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-cs.exited:
	case <-time.After(30 * time.Second):
		return time.Since(start), fmt.Errorf("%s did not exit within 30s of SIGTERM", cs.name)
	}
	if cs.err != nil {
		return time.Since(start), fmt.Errorf("%s: exit after SIGTERM: %v, want status 0", cs.name, cs.err)
	}
	return time.Since(start), nil
}

// mustStop stops the consumer and fails the test unless it exits cleanly.
func (cs *cgConsumer) mustStop(t *testing.T) {
	t.Helper()
	if _, err := cs.stop(); err != nil {
		t.Fatal(err)
	}
}

// wait waits for the process to exit (after a kill).
func (cs *cgConsumer) wait(t *testing.T) {
	t.Helper()
	select {
	case <-cs.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not exit within 30s", cs.name)
	}
}

// failures counts, per shard, the deliveries the consumer logged as failed.
func (cs *cgConsumer) failures() map[int]int {
	out := map[int]int{}
	sc := bufio.NewScanner(strings.NewReader(cs.out.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			Msg   string `json:"msg"`
			Shard *int   `json:"shard"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Shard != nil && strings.HasPrefix(line.Msg, "syslog delivery failed") {
			out[*line.Shard]++
		}
	}
	return out
}

// cgWait polls cond until it holds, failing after timeout.
func cgWait(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("not reached within %v: %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond) // polling a real condition
	}
}

// cgWaitBalanced waits until each named consumer reports holding
// cgShards/len(names) shards, all different, and returns who holds what.
func cgWaitBalanced(t *testing.T, c *cgCloud, names ...string) map[string][]int {
	t.Helper()
	var held map[string][]int
	cgWait(t, 20*time.Second, fmt.Sprintf("%v sharing the %d shards evenly", names, cgShards), func() bool {
		st := c.cgState()
		held = map[string][]int{}
		seen := map[int]bool{}
		for _, n := range names {
			if len(st.Reported[n]) != cgShards/len(names) || !slices.Equal(st.Reported[n], st.Assigned[n]) {
				return false
			}
			for _, s := range st.Reported[n] {
				seen[s] = true
			}
			held[n] = st.Reported[n]
		}
		return len(seen) == cgShards
	})
	return held
}

// cgLog is one received log: its place in the logstore and its sender.
type cgLog struct {
	shard, group, index int
	sender              string
}

// cgParse identifies each received message by its id content.
func cgParse(t *testing.T, got []received) []cgLog {
	t.Helper()
	out := make([]cgLog, 0, len(got))
	for _, r := range got {
		_, rest, ok := strings.Cut(r.Raw, "||id=")
		if !ok {
			t.Fatalf("message without an id: %q", r.Raw)
		}
		id, _, _ := strings.Cut(rest, "||")
		var l cgLog
		if _, err := fmt.Sscanf(id, "%d-%d-%d", &l.shard, &l.group, &l.index); err != nil {
			t.Fatalf("message id %q: %v", id, err)
		}
		l.sender = r.Hostname
		out = append(out, l)
	}
	return out
}

// cgTally counts the received logs against what was produced.
type cgTally struct {
	sent, received, missing, duplicates int
	copies                              map[[3]int]int
}

func cgCount(logs []cgLog, p *cgProducer) cgTally {
	tl := cgTally{received: len(logs), copies: map[[3]int]int{}}
	for _, l := range logs {
		tl.copies[[3]int{l.shard, l.group, l.index}]++
	}
	for shard := range cgShards {
		for g := range p.groupsOf(shard) {
			for i := range cgLogsPerGroup {
				tl.sent++
				switch n := tl.copies[[3]int{shard, g, i}]; {
				case n == 0:
					tl.missing++
				case n > 1:
					tl.duplicates += n - 1
				}
			}
		}
	}
	return tl
}

func (tl cgTally) String() string {
	return fmt.Sprintf("logs sent %d, received %d, missing %d, duplicates %d", tl.sent, tl.received, tl.missing, tl.duplicates)
}

// cgWaitAll waits for the producer to finish and then until rsyslog holds
// every produced log at least once.
func cgWaitAll(t *testing.T, rs *rsyslogd, p *cgProducer) []cgLog {
	t.Helper()
	p.wait(t)
	var logs []cgLog
	cgWait(t, 60*time.Second, fmt.Sprintf("all %d produced logs received", p.total()), func() bool {
		if rs.countLines(t) < p.total() {
			return false
		}
		logs = cgParse(t, rs.Messages(t))
		return cgCount(logs, p).missing == 0
	})
	return logs
}

// cgWaitCheckpointsAtEnd waits until every shard's checkpoint covers all
// its groups.
func cgWaitCheckpointsAtEnd(t *testing.T, c *cgCloud, p *cgProducer) {
	t.Helper()
	cgWait(t, 20*time.Second, "every checkpoint at its shard's end", func() bool {
		cps := c.cgCheckpoints(t)
		for shard := range cgShards {
			if cps[shard] != p.groupsOf(shard) {
				return false
			}
		}
		return true
	})
}

// cgWaitReceived waits until rsyslog stored at least n messages.
func cgWaitReceived(t *testing.T, rs *rsyslogd, n int) {
	t.Helper()
	cgWait(t, 30*time.Second, fmt.Sprintf("%d logs received", n), func() bool { return rs.countLines(t) >= n })
}

// TestConsumerGroupFailover: two consumers share four shards evenly; one
// is killed (SIGKILL) mid-stream and the other takes its shards over from
// their last checkpoints: no log is missing, and the only duplicates are
// logs after those checkpoints.
func TestConsumerGroupFailover(t *testing.T) {
	rs := startRsyslog(t)
	c := cgNewCloud(t)
	a := cgStart(t, c, "consumer-a", rs.Ports().TCP)
	b := cgStart(t, c, "consumer-b", rs.Ports().TCP)
	held := cgWaitBalanced(t, c, a.name, b.name)
	t.Logf("even split: %s holds %v, %s holds %v", a.name, held[a.name], b.name, held[b.name])

	const groups = 400 // per shard: 6400 logs over 8 s
	p := cgNewProducer(t, c)
	p.produce(groups, 20*time.Millisecond)
	cgWaitReceived(t, rs, groups*cgShards*cgLogsPerGroup/4)
	if p.groupsOf(0) >= groups {
		t.Fatal("the producer finished before the kill: not mid-stream")
	}

	// Kill a; from then on its checkpoints cannot move.
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	a.wait(t)
	atKill := c.cgCheckpoints(t)
	t.Logf("%s killed; checkpoints (groups) at the kill: %v", a.name, atKill)

	var holdsAll, delivered time.Duration
	cgWait(t, 20*time.Second, b.name+" holding every shard", func() bool {
		holdsAll = time.Since(killed)
		return len(c.cgState().Reported[b.name]) == cgShards
	})
	cgWait(t, 20*time.Second, b.name+" delivering a log of "+a.name+"'s shards", func() bool {
		delivered = time.Since(killed)
		for _, l := range cgParse(t, rs.Messages(t)) {
			if l.sender == b.name && slices.Contains(held[a.name], l.shard) {
				return true
			}
		}
		return false
	})

	logs := cgWaitAll(t, rs, p)
	cgWaitCheckpointsAtEnd(t, c, p)
	b.mustStop(t)

	tl := cgCount(logs, p)
	t.Logf("failover: %s; takeover: %s held every shard %v after the kill, and delivered the first log of %s's shards %v after it (heartbeat 1s, timeout 3s)",
		tl, b.name, holdsAll.Round(time.Millisecond), a.name, delivered.Round(time.Millisecond))
	if tl.missing != 0 {
		t.Fatalf("%d logs missing", tl.missing)
	}
	for id, n := range tl.copies {
		if n == 1 {
			continue
		}
		shard, group := id[0], id[1]
		if !slices.Contains(held[a.name], shard) || group < atKill[shard] {
			t.Errorf("log %v received %d times: only logs of %s's shards %v after their checkpoints %v may be duplicated",
				id, n, a.name, held[a.name], atKill)
		}
	}
}

// TestConsumerGroupReceiverDown: while rsyslog is down, deliveries fail and
// the checkpoints stop advancing; once it is back, nothing is lost.
//
// rsyslog is stopped between two bursts of logs, with everything before
// delivered: stopped mid-stream, rsyslog drops what its TCP stack had
// already acknowledged but it had not yet read, which no plain syslog
// sender can tell from delivered data (see docs/delivery.md).
func TestConsumerGroupReceiverDown(t *testing.T) {
	rs := startRsyslog(t)
	c := cgNewCloud(t)
	a := cgStart(t, c, "consumer-a", rs.Ports().TCP)
	b := cgStart(t, c, "consumer-b", rs.Ports().TCP)
	cgWaitBalanced(t, c, a.name, b.name)
	p := cgNewProducer(t, c)
	p.produce(100, 10*time.Millisecond)
	cgWaitAll(t, rs, p)
	cgWaitCheckpointsAtEnd(t, c, p)
	rs.Stop(t)
	p.produce(200, 20*time.Millisecond) // 3200 logs over 4 s, while rsyslog is down

	failures := func() [cgShards]int {
		var out [cgShards]int
		fa, fb := a.failures(), b.failures()
		for shard := range cgShards {
			out[shard] = fa[shard] + fb[shard]
		}
		return out
	}
	failedAgain := func(base [cgShards]int, n int) bool {
		now := failures()
		for shard := range cgShards {
			if now[shard] < base[shard]+n {
				return false
			}
		}
		return true
	}
	cgWait(t, 30*time.Second, "a failed delivery on every shard", func() bool { return failedAgain([cgShards]int{}, 1) })
	base, produced := failures(), p.total()
	cgWait(t, 30*time.Second, "three more failed deliveries per shard and 20 more groups per shard produced", func() bool {
		return failedAgain(base, 3) && p.total() >= produced+20*cgShards*cgLogsPerGroup
	})
	if cps := c.cgCheckpoints(t); cps != [cgShards]int{100, 100, 100, 100} {
		t.Fatalf("checkpoints (groups) %v while the receiver was down, want them held at the 100 delivered before", cps)
	}
	t.Logf("receiver down: checkpoints held at 100 groups per shard while %d more logs were produced and every shard failed at least 4 times",
		p.total()-400*cgShards)

	rs.start(t)
	logs := cgWaitAll(t, rs, p)
	cgWaitCheckpointsAtEnd(t, c, p)
	a.mustStop(t)
	b.mustStop(t)
	tl := cgCount(logs, p)
	t.Logf("receiver down, then up: %s; %d failed deliveries retried", tl, cgSum(failures()))
	if tl.missing != 0 {
		t.Fatalf("%d logs missing", tl.missing)
	}
	for id, n := range tl.copies {
		if n > 1 && id[1] < 100 {
			t.Errorf("log %v received %d times although it was delivered and checkpointed before the outage", id, n)
		}
	}
}

func cgSum(a [cgShards]int) int {
	n := 0
	for _, v := range a {
		n += v
	}
	return n
}

// TestConsumerGroupCleanStop: SIGTERM mid-stream stops both consumers
// cleanly, leaving every checkpoint right after the last log delivered;
// consumers started afterwards resume there without a duplicate.
func TestConsumerGroupCleanStop(t *testing.T) {
	rs := startRsyslog(t)
	c := cgNewCloud(t)
	a := cgStart(t, c, "consumer-a", rs.Ports().TCP)
	b := cgStart(t, c, "consumer-b", rs.Ports().TCP)
	cgWaitBalanced(t, c, a.name, b.name)
	const groups = 300
	p := cgNewProducer(t, c)
	p.produce(groups, 20*time.Millisecond)
	cgWaitReceived(t, rs, groups*cgShards*cgLogsPerGroup/3)

	var wg sync.WaitGroup
	var stopA, stopB time.Duration
	var errA, errB error
	wg.Add(2)
	go func() { defer wg.Done(); stopA, errA = a.stop() }()
	go func() { defer wg.Done(); stopB, errB = b.stop() }()
	wg.Wait()
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	cps := c.cgCheckpoints(t)
	if p.groupsOf(0) >= groups {
		t.Fatal("the producer finished before the stop: not mid-stream")
	}

	// The consumers are gone: what they delivered is stored once a later
	// message, on a new connection, is.
	want := 0
	for shard := range cgShards {
		want += cps[shard] * cgLogsPerGroup
	}
	sendStream(t, loopback(rs.Ports().TCP), octetFrame, "<14>1 2026-01-01T00:00:00Z sentinel cg - - - ||id=9-0-0")
	per := map[int]int{}
	seen := map[[3]int]bool{}
	for _, l := range cgParse(t, rs.WaitForCount(t, want+1, 30*time.Second)) {
		if l.shard == 9 {
			continue
		}
		id := [3]int{l.shard, l.group, l.index}
		if seen[id] {
			t.Errorf("log %v delivered twice before the clean stop", id)
		}
		seen[id] = true
		if l.group >= cps[l.shard] {
			t.Errorf("log %v was delivered but its shard's checkpoint covers only %d groups", id, cps[l.shard])
		}
		per[l.shard]++
	}
	for shard := range cgShards {
		if per[shard] != cps[shard]*cgLogsPerGroup {
			t.Errorf("shard %d: %d logs delivered, its checkpoint covers %d groups (%d logs)", shard, per[shard], cps[shard], cps[shard]*cgLogsPerGroup)
		}
	}
	t.Logf("clean stop mid-stream in %v and %v; checkpoints (groups) %v, each right after the shard's last delivered log",
		stopA.Round(time.Millisecond), stopB.Round(time.Millisecond), cps)

	// New consumers resume from the checkpoints: nothing lost, nothing twice.
	c2 := cgStart(t, c, "consumer-c", rs.Ports().TCP)
	d2 := cgStart(t, c, "consumer-d", rs.Ports().TCP)
	logs := cgWaitAll(t, rs, p)
	cgWaitCheckpointsAtEnd(t, c, p)
	c2.mustStop(t)
	d2.mustStop(t)
	var real []cgLog
	for _, l := range logs {
		if l.shard != 9 {
			real = append(real, l)
		}
	}
	tl := cgCount(real, p)
	t.Logf("clean stop, then resume: %s", tl)
	if tl.missing != 0 || tl.duplicates != 0 {
		t.Fatalf("after a clean stop and resume: %s, want none missing and no duplicate", tl)
	}
}

// TestConsumerGroupTimerInvocation: a timer event makes the function (the
// built binary under the FC emulator, both contracts) run the consumer-group
// driver with the invocation's STS credentials until shortly before its
// deadline, and answer the summary; the next invocation resumes from the
// checkpoints.
func TestConsumerGroupTimerInvocation(t *testing.T) {
	rs := startRsyslog(t)
	for _, contract := range []fcemu.Contract{fcemu.ContractCustom, fcemu.ContractGo1} {
		t.Run(string(contract), func(t *testing.T) {
			c := cgNewCloud(t)
			role := slsemu.Credential{AccessKeyID: "STS.cg", AccessKeySecret: "cg-role-secret-" + randomHex(t), SecurityToken: "cg-token-" + randomHex(t)}
			c.emu.AddCredential(role)
			out := &syncBuffer{}
			fn, err := fcemu.Start(context.Background(), localcloud.Deployed(fcemu.Config{
				Binary: functionBinary, Contract: contract, Timeout: 10 * time.Second, FunctionName: "sls2siem-consume",
				Credentials: fcemu.Credentials{AccessKeyID: role.AccessKeyID, AccessKeySecret: role.AccessKeySecret, SecurityToken: role.SecurityToken},
				Output:      out,
				Env: append(localcloud.TrustEnv(c.endpoint),
					"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT="+strconv.Itoa(rs.Ports().TCP), "SYSLOG_FRAMING=octet-counting",
					"SYSLOG_HOSTNAME=fc-"+string(contract),
					"SLS_ENDPOINT="+c.endpoint, "SLS_PROJECT="+cgProject, "SLS_LOGSTORE="+cgLogstore,
					"SLS_CONSUMER_GROUP="+cgGroup, "SLS_CURSOR_POSITION=begin", "SLS_HEARTBEAT_INTERVAL=1s",
					"SLS_HEARTBEAT_TIMEOUT=3s", "SLS_FETCH_INTERVAL=20ms", "SHIP_DEADLINE_MARGIN=500ms",
					"SLS_CONSUMER_STOP_TIMEOUT=4s",
				),
			}))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				fn.Stop(context.Background())
				for _, secret := range []string{role.AccessKeySecret, role.SecurityToken} {
					if strings.Contains(out.String(), secret) {
						t.Errorf("a secret reached the function's output")
					}
				}
				if t.Failed() {
					t.Logf("function output:\n%s", out)
				}
			})
			p := cgNewProducer(t, c)
			event := []byte(`{"triggerTime":"2026-11-25T00:00:00Z","triggerName":"consume","payload":""}`)
			invoke := func() cgSummary {
				t.Helper()
				start := time.Now()
				res, err := fn.Invoke(context.Background(), event)
				if err != nil {
					t.Fatal(err)
				}
				if res.Err != nil {
					t.Fatalf("timer invocation failed: %v", res.Err)
				}
				var s cgSummary
				if err := json.Unmarshal(res.Payload, &s); err != nil {
					t.Fatalf("answer %s: %v", res.Payload, err)
				}
				t.Logf("timer invocation (%s): %s in %v", contract, res.Payload, time.Since(start).Round(time.Millisecond))
				return s
			}

			p.produce(25, time.Millisecond)
			p.wait(t)
			s := invoke()
			if s.Logs != 25*cgShards*cgLogsPerGroup || len(s.Shards) != cgShards || s.Consumer == "" {
				t.Fatalf("first invocation: %+v, want %d logs from %d shards", s, 25*cgShards*cgLogsPerGroup, cgShards)
			}
			cgWaitCheckpointsAtEnd(t, c, p)
			p.produce(5, time.Millisecond)
			p.wait(t)
			if s2 := invoke(); s2.Logs != 5*cgShards*cgLogsPerGroup || s2.Consumer != s.Consumer {
				t.Fatalf("second invocation: %+v, want %d logs as consumer %s", s2, 5*cgShards*cgLogsPerGroup, s.Consumer)
			}
			var mine []cgLog
			for _, l := range cgParse(t, rs.WaitForCount(t, 0, time.Second)) {
				if l.sender == "fc-"+string(contract) {
					mine = append(mine, l)
				}
			}
			if tl := cgCount(mine, p); tl.missing != 0 || tl.duplicates != 0 {
				t.Fatalf("timer invocations: %s", tl)
			}
		})
	}
}

// cgSummary is the answer of a timer invocation.
type cgSummary struct {
	Consumer string `json:"consumer"`
	Shards   []int  `json:"shards"`
	Logs     int    `json:"logs"`
}

// TestConsumerGroupOverRELPCheckpointsOnlyAcknowledged: over RELP a
// frozen receiver acknowledges nothing, so no checkpoint moves past what
// it acknowledged (over TCP its kernel would have taken the bytes); after
// SIGKILL and a restart every log arrives.
func TestConsumerGroupOverRELPCheckpointsOnlyAcknowledged(t *testing.T) {
	requireImrelp(t)
	rs := startRsyslog(t)
	c := cgNewCloud(t)
	a := cgStart(t, c, "consumer-relp", rs.Ports().RELP, "SYSLOG_PROTOCOL=relp", "SYSLOG_FRAMING=", "SYSLOG_MAX_MESSAGE_SIZE=65536")
	cgWaitBalanced(t, c, a.name)
	p := cgNewProducer(t, c)
	p.produce(100, 5*time.Millisecond)
	cgWaitAll(t, rs, p)
	cgWaitCheckpointsAtEnd(t, c, p)

	rs.cmd.Process.Signal(syscall.SIGSTOP)
	p.produce(50, 5*time.Millisecond)
	cgWait(t, 60*time.Second, "a failed delivery on every shard while the receiver is frozen", func() bool {
		f := a.failures()
		for shard := range cgShards {
			if f[shard] < 1 {
				return false
			}
		}
		return true
	})
	if cps := c.cgCheckpoints(t); cps != [cgShards]int{100, 100, 100, 100} {
		t.Fatalf("checkpoints (groups) %v while the receiver acknowledged nothing, want them held at 100", cps)
	}
	rs.kill()
	rs.start(t)
	logs := cgWaitAll(t, rs, p)
	cgWaitCheckpointsAtEnd(t, c, p)
	a.mustStop(t)
	tl := cgCount(logs, p)
	t.Logf("consumer over RELP, receiver frozen then killed: %s", tl)
	if tl.missing != 0 {
		t.Fatalf("%d logs missing", tl.missing)
	}
}
