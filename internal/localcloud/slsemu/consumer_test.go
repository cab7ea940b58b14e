package slsemu

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	consumer "github.com/aliyun/aliyun-log-go-sdk/consumer"
)

const testGroupName = "cg"

func createGroup(t *testing.T, c *sls.Client, timeout int) {
	t.Helper()
	if err := c.CreateConsumerGroup(testProject, testLogstore, sls.ConsumerGroup{ConsumerGroupName: testGroupName, Timeout: timeout}); err != nil {
		t.Fatal(err)
	}
}

func heartbeat(t *testing.T, c *sls.Client, name string, held ...int) []int {
	t.Helper()
	got, err := c.HeartBeat(testProject, testLogstore, testGroupName, name, held)
	if err != nil {
		t.Fatalf("heartbeat of %s %v: %v", name, held, err)
	}
	return got
}

func wantShards(t *testing.T, who string, got []int, want ...int) {
	t.Helper()
	if want == nil {
		want = []int{}
	}
	if got == nil {
		got = []int{}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s holds %v, want %v", who, got, want)
	}
}

func TestConsumerGroupLifecycle(t *testing.T) {
	_, addr := startServer(t, 2)
	c := newClient(t, addr, longAK, longSecret, "")

	groups, err := c.ListConsumerGroup(testProject, testLogstore)
	if err != nil || len(groups) != 0 {
		t.Fatalf("list of a new logstore: %v, %v", groups, err)
	}
	createGroup(t, c, 60)
	err = c.CreateConsumerGroup(testProject, testLogstore, sls.ConsumerGroup{ConsumerGroupName: testGroupName, Timeout: 60})
	wantSLSError(t, err, "ConsumerGroupAlreadyExist", 400)
	err = c.CreateConsumerGroup(testProject, testLogstore, sls.ConsumerGroup{ConsumerGroupName: "zero", Timeout: 0})
	wantSLSError(t, err, "JsonInfoInvalid", 400)

	if err := c.UpdateConsumerGroup(testProject, testLogstore, sls.ConsumerGroup{ConsumerGroupName: testGroupName, Timeout: 9, InOrder: true}); err != nil {
		t.Fatal(err)
	}
	groups, err = c.ListConsumerGroup(testProject, testLogstore)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || *groups[0] != (sls.ConsumerGroup{ConsumerGroupName: testGroupName, Timeout: 9, InOrder: true}) {
		t.Fatalf("list after update = %v", groups)
	}

	err = c.UpdateConsumerGroup(testProject, testLogstore, sls.ConsumerGroup{ConsumerGroupName: "nope", Timeout: 9})
	wantSLSError(t, err, "ConsumerGroupNotExist", 404)
	_, err = c.HeartBeat(testProject, testLogstore, "nope", "a", nil)
	wantSLSError(t, err, "ConsumerGroupNotExist", 404)
	_, err = c.ListConsumerGroup(testProject, "no-such-logstore")
	wantSLSError(t, err, "LogStoreNotExist", 404)

	if err := c.DeleteConsumerGroup(testProject, testLogstore, testGroupName); err != nil {
		t.Fatal(err)
	}
	err = c.DeleteConsumerGroup(testProject, testLogstore, testGroupName)
	wantSLSError(t, err, "ConsumerGroupNotExist", 404)
	if groups, _ := c.ListConsumerGroup(testProject, testLogstore); len(groups) != 0 {
		t.Fatalf("list after delete = %v", groups)
	}
}

// TestHeartbeatHandsShardsOverOnlyWhenReleased follows a second consumer
// joining: the first gives up half of its shards, and the newcomer gets
// them only once the first stopped reporting them.
func TestHeartbeatHandsShardsOverOnlyWhenReleased(t *testing.T) {
	_, addr := startServer(t, 4)
	c := newClient(t, addr, longAK, longSecret, "")
	createGroup(t, c, 60)

	wantShards(t, "a", heartbeat(t, c, "a"), 0, 1, 2, 3)
	wantShards(t, "a", heartbeat(t, c, "a", 0, 1, 2, 3), 0, 1, 2, 3)
	wantShards(t, "b joining", heartbeat(t, c, "b"))
	wantShards(t, "a after b joined", heartbeat(t, c, "a", 0, 1, 2, 3), 0, 1)
	wantShards(t, "b while a releases", heartbeat(t, c, "b"))

	// While a still reports shard 3, it may save its checkpoint; b may not.
	if err := c.UpdateCheckpoint(testProject, testLogstore, testGroupName, "a", 3, EncodeCursor(CursorBase+7), true); err != nil {
		t.Fatalf("releasing consumer saving its checkpoint: %v", err)
	}
	err := c.UpdateCheckpoint(testProject, testLogstore, testGroupName, "b", 3, EncodeCursor(CursorBase+8), true)
	wantSLSError(t, err, "ConsumerNotMatch", 400)

	wantShards(t, "a after releasing", heartbeat(t, c, "a", 0, 1), 0, 1)
	wantShards(t, "b after a released", heartbeat(t, c, "b"), 2, 3)

	// Unknown consumers must join with an empty heartbeat.
	_, err = c.HeartBeat(testProject, testLogstore, testGroupName, "ghost", []int{1})
	wantSLSError(t, err, "NotExistConsumerWithBody", 400)
}

// TestBalancerIsFair runs consumers that follow the protocol (report what
// they were given) until the assignment settles, for several shard and
// consumer counts, and checks it is a partition with shares differing by
// at most one.
func TestBalancerIsFair(t *testing.T) {
	for _, tc := range []struct{ shards, consumers int }{{4, 2}, {4, 3}, {5, 2}, {2, 3}, {8, 3}, {1, 1}} {
		t.Run(fmt.Sprintf("%d shards %d consumers", tc.shards, tc.consumers), func(t *testing.T) {
			_, addr := startServer(t, tc.shards)
			c := newClient(t, addr, longAK, longSecret, "")
			createGroup(t, c, 60)
			held := map[string][]int{}
			var names []string
			for i := range tc.consumers {
				names = append(names, fmt.Sprintf("c%d", i))
			}
			for round := 0; round < 6; round++ {
				for _, n := range names {
					held[n] = heartbeat(t, c, n, held[n]...)
				}
			}
			seen := map[int]string{}
			minN, maxN := tc.shards, 0
			for _, n := range names {
				for _, s := range held[n] {
					if other, dup := seen[s]; dup {
						t.Fatalf("shard %d held by %s and %s", s, other, n)
					}
					seen[s] = n
				}
				minN, maxN = min(minN, len(held[n])), max(maxN, len(held[n]))
			}
			if len(seen) != tc.shards || maxN-minN > 1 {
				t.Fatalf("assignment %v: %d of %d shards held, shares from %d to %d", held, len(seen), tc.shards, minN, maxN)
			}
		})
	}
}

func TestTimedOutConsumerLosesItsShards(t *testing.T) {
	s, addr := startServer(t, 4)
	c := newClient(t, addr, longAK, longSecret, "")
	createGroup(t, c, 1)
	wantShards(t, "a", heartbeat(t, c, "a"), 0, 1, 2, 3)
	wantShards(t, "a", heartbeat(t, c, "a", 0, 1, 2, 3), 0, 1, 2, 3)

	// a goes silent; b gets every shard once a's timeout has passed.
	deadline := time.Now().Add(10 * time.Second)
	var got []int
	for len(got) < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("b holds %v 10s after a went silent (timeout 1s)", got)
		}
		got = heartbeat(t, c, "b", got...)
		time.Sleep(50 * time.Millisecond) // heartbeat pacing, as a consumer's interval
	}
	st, err := s.ConsumerGroup(testProject, testLogstore, testGroupName)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Assigned["a"]; ok || len(st.Assigned["b"]) != 4 {
		t.Fatalf("state after a timed out: %+v", st)
	}

	// a comes back claiming its shards: refused; its checkpoints too.
	_, err = c.HeartBeat(testProject, testLogstore, testGroupName, "a", []int{0, 1})
	wantSLSError(t, err, "NotExistConsumerWithBody", 400)
	err = c.UpdateCheckpoint(testProject, testLogstore, testGroupName, "a", 0, EncodeCursor(CursorBase), true)
	wantSLSError(t, err, "ConsumerNotExsit", 404)
}

func TestCheckpoints(t *testing.T) {
	_, addr := startServer(t, 2)
	c := newClient(t, addr, longAK, longSecret, "")
	createGroup(t, c, 60)
	wantShards(t, "a", heartbeat(t, c, "a"), 0, 1)

	before := time.Now().UnixMicro()
	cp := EncodeCursor(CursorBase + 42)
	if err := c.UpdateCheckpoint(testProject, testLogstore, testGroupName, "a", 1, cp, true); err != nil {
		t.Fatal(err)
	}
	list, err := c.GetCheckpoint(testProject, testLogstore, testGroupName)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ShardID < list[j].ShardID })
	if len(list) != 2 || list[0].CheckPoint != "" || list[0].Consumer != "a" ||
		list[1].CheckPoint != cp || list[1].Consumer != "a" || list[1].UpdateTime < before {
		t.Fatalf("checkpoints = %+v %+v", list[0], list[1])
	}

	// Without a consumer only a forced update is accepted.
	err = c.UpdateCheckpoint(testProject, testLogstore, testGroupName, "", 0, cp, false)
	wantSLSError(t, err, "ParameterInvalid", 400)
	if err := c.UpdateCheckpoint(testProject, testLogstore, testGroupName, "", 0, cp, true); err != nil {
		t.Fatalf("forced update without consumer: %v", err)
	}

	err = c.UpdateCheckpoint(testProject, testLogstore, testGroupName, "a", 5, cp, true)
	wantSLSError(t, err, "ShardNotExist", 404)
	err = c.UpdateCheckpoint(testProject, testLogstore, testGroupName, "a", 0, "not base64!", true)
	wantSLSError(t, err, "InvalidShardCheckPoint", 400)
	err = c.UpdateCheckpoint(testProject, testLogstore, testGroupName, "stranger", 0, cp, true)
	wantSLSError(t, err, "ConsumerNotExsit", 404)
	_, err = c.GetCheckpoint(testProject, testLogstore, "nope")
	wantSLSError(t, err, "ConsumerGroupNotExist", 404)
}

// sdkConsumer runs the SDK's consumer library against the emulator and
// records what it consumed.
type sdkConsumer struct {
	worker *consumer.ConsumerWorker
	mu     sync.Mutex
	groups map[int][]string // shard → topics consumed, in order
}

// startSDKConsumer starts a worker named name; each opt may change its
// configuration (e.g. to sign with V4).
func startSDKConsumer(t *testing.T, addr, name string, opts ...func(*consumer.LogHubConfig)) *sdkConsumer {
	t.Helper()
	sc := &sdkConsumer{groups: map[int][]string{}}
	cfg := consumer.LogHubConfig{
		Endpoint: testEndpoint, AccessKeyID: longAK, AccessKeySecret: longSecret,
		Project: testProject, Logstore: testLogstore, ConsumerGroupName: testGroupName, ConsumerName: name,
		CursorPosition:            consumer.BEGIN_CURSOR,
		HeartbeatIntervalInSecond: 1, HeartbeatTimeoutInSecond: 2,
		DataFetchIntervalInMs: 20, MaxFetchLogGroupCount: 3,
		AutoCommitDisabled: true,
		HTTPClient:         &http.Client{Transport: dialTo(t, addr), Timeout: 10 * time.Second},
		Logger:             discardLogger{},
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	sc.worker = consumer.InitConsumerWorkerWithCheckpointTracker(cfg, func(shard int, gl *sls.LogGroupList, tr consumer.CheckPointTracker) (string, error) {
		sc.mu.Lock()
		for _, g := range gl.LogGroups {
			sc.groups[shard] = append(sc.groups[shard], g.GetTopic())
		}
		sc.mu.Unlock()
		return "", tr.SaveCheckPoint(true)
	})
	sc.worker.Start()
	return sc
}

func (sc *sdkConsumer) consumed() map[int][]string {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	out := map[int][]string{}
	for s, g := range sc.groups {
		out[s] = slices.Clone(g)
	}
	return out
}

// discardLogger is a go-kit logger that drops everything.
type discardLogger struct{}

func (discardLogger) Log(...any) error { return nil }

// TestSDKConsumerLibrary runs two workers of the SDK's consumer library on
// a one-shard logstore: the first consumes every group exactly once and in
// order and leaves the checkpoint at the shard's end while the second waits;
// when the first stops, the second takes the shard over from that
// checkpoint and consumes only what arrives afterwards.
//
// One shard per worker: the SDK's Client initialises its timeouts lazily
// under a read lock, so two shard goroutines of one worker race in the SDK
// itself (harmless, but -race reports it). Sharing several shards is
// covered by the end-to-end tests, with the real binary.
func TestSDKConsumerLibrary(t *testing.T) {
	s, addr := startServer(t, 1)
	var want []string
	appendGroup := func(i int) {
		lg := testGroup(i)
		if _, err := s.Append(testProject, testLogstore, 0, lg, time.Now()); err != nil {
			t.Fatal(err)
		}
		want = append(want, lg.GetTopic())
	}
	for i := range 10 {
		appendGroup(i)
	}

	a := startSDKConsumer(t, addr, "a")
	waitState(t, s, "a holding the shard", func(st ConsumerGroupState) bool { return len(st.Reported["a"]) == 1 })
	b := startSDKConsumer(t, addr, "b")
	stopped := map[*sdkConsumer]bool{}
	t.Cleanup(func() {
		for _, w := range []*sdkConsumer{a, b} {
			if !stopped[w] {
				w.worker.StopAndWait()
			}
		}
	})
	end, _ := s.Cursor(testProject, testLogstore, 0, "end")
	waitState(t, s, "b in the group and the checkpoint at the end", func(st ConsumerGroupState) bool {
		_, joined := st.Assigned["b"]
		return joined && st.Checkpoints[0] == end
	})
	if got := a.consumed()[0]; !slices.Equal(got, want) {
		t.Fatalf("a consumed %v, want %v", got, want)
	}
	if got := b.consumed(); len(got) != 0 || len(heldBy(t, s, "b")) != 0 {
		t.Fatalf("b consumed %v while a held the only shard", got)
	}

	a.worker.StopAndWait()
	stopped[a] = true
	appendGroup(99)
	waitState(t, s, "b holding the shard after a stopped", func(st ConsumerGroupState) bool {
		return len(st.Reported["b"]) == 1 && st.Assigned["a"] == nil
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := b.consumed()[0]
		if slices.Equal(got, want[10:]) {
			break
		}
		if len(got) > 1 || time.Now().After(deadline) {
			t.Fatalf("b consumed %v after taking over, want only %v", got, want[10:])
		}
		time.Sleep(10 * time.Millisecond) // polling what b consumed
	}
}

func heldBy(t *testing.T, s *Server, name string) []int {
	t.Helper()
	st, err := s.ConsumerGroup(testProject, testLogstore, testGroupName)
	if err != nil {
		t.Fatal(err)
	}
	return st.Reported[name]
}

// waitState polls the group until cond holds, failing after 15 seconds.
func waitState(t *testing.T, s *Server, what string, cond func(ConsumerGroupState) bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, err := s.ConsumerGroup(testProject, testLogstore, testGroupName)
		if err == nil && cond(st) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not reached within 15s: %s; state %+v, %v", what, st, err)
		}
		time.Sleep(10 * time.Millisecond) // polling the emulator's state
	}
}
