package nodesdk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"

	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/sample"
	"sls2siem/internal/localcloud/slsemu"
)

const (
	dataDir  = "../../../testdata/logstore"
	suiteDir = "testdata"
	// pageCount is the count of the suite's PullLogs requests: small, so
	// that a shard takes many pages.
	pageCount = 7
	region    = "cn-hangzhou"
)

// clientNames are the suite's clients (see testdata/suite.js).
var clientNames = []string{"log", "sls-v1", "sls-v4"}

// requireSuite returns the node command, or skips the test when node or
// the suite's packages are missing (fails instead when they are required).
func requireSuite(t *testing.T) string {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...) + "; run `make nodesdk-deps` (bash scripts/install-nodesdk.sh)"
		if os.Getenv("SLS2SIEM_REQUIRE_RECEIVERS") == "1" || os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip("skipping the Node.js SDK suites: " + msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed: %v", err)
	}
	out, err := exec.Command(node, "--version").Output()
	major, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(strings.TrimSpace(string(out)), "v"), ".", 2)[0])
	if err != nil || major < 18 {
		missing("node %q is older than 18 (%v)", strings.TrimSpace(string(out)), err)
	}
	for _, pkg := range []string{"@alicloud/log", "@alicloud/sls20201230", "@alicloud/openapi-core", "@darabonba/typescript", "protobufjs"} {
		if _, err := os.Stat(filepath.Join(suiteDir, "node_modules", pkg, "package.json")); err != nil {
			missing("the npm package %s is not installed in %s/node_modules", pkg, suiteDir)
		}
	}
	return node
}

// served is the local cloud `localcloud -mode serve` runs.
type served struct {
	endpoint, project, logstore, putLogstore string
	cred                                     slsemu.Credential
}

// serve starts the local cloud as `localcloud -mode serve` does and reads
// what it exports.
func serve(t *testing.T) served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		err := localcloud.Serve(ctx, localcloud.ServeOptions{DataDir: dataDir, Addr: "127.0.0.1:0", EventsDir: t.TempDir(), Out: pw})
		pw.CloseWithError(err)
		errc <- err
	}()
	t.Cleanup(func() {
		cancel()
		go io.Copy(io.Discard, pr)
		if err := <-errc; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	vars := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "export "); ok {
			for _, kv := range strings.Fields(line) {
				k, v, _ := strings.Cut(kv, "=")
				vars[k] = v
			}
			break
		}
	}
	if vars["SLS_ENDPOINT"] == "" {
		t.Fatalf("the local cloud exported no SLS_ENDPOINT: %v", sc.Err())
	}
	return served{
		endpoint: vars["SLS_ENDPOINT"], project: vars["SLS_PROJECT"], logstore: vars["SLS_LOGSTORE"],
		putLogstore: vars["SHIP_DEADLETTER_LOGSTORE"],
		cred:        slsemu.Credential{AccessKeyID: vars["ALIBABA_CLOUD_ACCESS_KEY_ID"], AccessKeySecret: vars["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]},
	}
}

// plan is what suite.js reads on stdin.
type plan struct {
	Endpoint        string   `json:"endpoint"`
	AccessKeyID     string   `json:"accessKeyId"`
	AccessKeySecret string   `json:"accessKeySecret"`
	Project         string   `json:"project"`
	Logstore        string   `json:"logstore"`
	PutLogstore     string   `json:"putLogstore"`
	Region          string   `json:"region"`
	CursorTimes     []int64  `json:"cursorTimes"`
	PageCount       int      `json:"pageCount"`
	Checkpoints     []string `json:"checkpoints"`
}

// outcome is an attempt's result in the report.
type outcome struct {
	OK    bool            `json:"ok"`
	Value json.RawMessage `json:"value"`
	Error *struct {
		Code    string `json:"code"`
		Status  *int   `json:"status"` // nil: the SDK does not tell
		Message string `json:"message"`
	} `json:"error"`
}

type clientReport struct {
	ListShards []sls.Shard `json:"listShards"`
	Cursors    []struct {
		Shard     int               `json:"shard"`
		Begin     string            `json:"begin"`
		End       string            `json:"end"`
		ByTime    map[string]string `json:"byTime"`
		BeginTime int64             `json:"beginTime"`
	} `json:"cursors"`
	Pulls []struct {
		Shard         int               `json:"shard"`
		Encoding      string            `json:"encoding"`
		WithEnd       bool              `json:"withEnd"`
		Groups        []sample.LogGroup `json:"groups"`
		Next          string            `json:"next"`
		Requests      int               `json:"requests"`
		CompressTypes []string          `json:"compressTypes"`
	} `json:"pulls"`
	Put       []sample.LogGroup `json:"put"`
	Logstores struct {
		List struct {
			Count     int      `json:"count"`
			Total     int      `json:"total"`
			Logstores []string `json:"logstores"`
		} `json:"list"`
		Get sls.LogStore `json:"get"`
	} `json:"logstores"`
	ConsumerGroup struct {
		Name  string             `json:"name"`
		Steps map[string]outcome `json:"steps"`
	} `json:"consumerGroup"`
	Errors map[string]outcome `json:"errors"`
}

type report struct {
	Node    string                  `json:"node"`
	Clients map[string]clientReport `json:"clients"`
}

// runSuite runs suite.js with p and returns its report.
func runSuite(t *testing.T, node string, p plan) report {
	t.Helper()
	in, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "suite.js")
	cmd.Dir = suiteDir
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node suite.js: %v\nstderr:\n%s", err, stderr.String())
	}
	var r report
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("the suite's report: %v\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	for _, name := range clientNames {
		if _, ok := r.Clients[name]; !ok {
			t.Fatalf("the suite reported no client %s", name)
		}
	}
	t.Logf("node %s: %d clients", r.Node, len(r.Clients))
	return r
}

// goError returns the code and status of an SDK error.
func goError(t *testing.T, what string, err error) (string, int) {
	t.Helper()
	var se *sls.Error
	if !errors.As(err, &se) {
		t.Fatalf("Go SDK %s: %v (%T), want an *sls.Error", what, err, err)
	}
	return se.Code, int(se.HTTPCode)
}

// wantSameError fails unless the Node outcome failed as the Go SDK did.
func wantSameError(t *testing.T, what string, o outcome, goErr error) {
	t.Helper()
	code, status := goError(t, what, goErr)
	if o.OK || o.Error == nil {
		t.Errorf("%s: succeeded (%s); the Go SDK got %d %s", what, o.Value, status, code)
		return
	}
	if o.Error.Code != code || (o.Error.Status != nil && *o.Error.Status != status) {
		got := "?"
		if o.Error.Status != nil {
			got = strconv.Itoa(*o.Error.Status)
		}
		t.Errorf("%s: %s %s (%s); the Go SDK got %d %s", what, got, o.Error.Code, o.Error.Message, status, code)
	}
}

func wantOK(t *testing.T, what string, o outcome) {
	t.Helper()
	if !o.OK {
		t.Errorf("%s failed: %+v", what, o.Error)
	}
}

// normalize makes empty and nil slices alike, as JSON does not tell them
// apart.
func normalize(groups []sample.LogGroup) []sample.LogGroup {
	out := make([]sample.LogGroup, len(groups))
	for i, g := range groups {
		if len(g.Tags) == 0 {
			g.Tags = nil
		}
		logs := make([]sample.Log, len(g.Logs))
		for j, l := range g.Logs {
			if len(l.Contents) == 0 {
				l.Contents = nil
			}
			logs[j] = l
		}
		g.Logs = logs
		out[i] = g
	}
	return out
}

// goPull reads a whole shard with the Go SDK.
func goPull(t *testing.T, c *sls.Client, project, logstore string, shard int) (groups []sample.LogGroup, end string) {
	t.Helper()
	cursor, err := c.GetCursor(project, logstore, shard, "begin")
	if err != nil {
		t.Fatal(err)
	}
	end, err = c.GetCursor(project, logstore, shard, "end")
	if err != nil {
		t.Fatal(err)
	}
	for cursor != end {
		gl, meta, err := c.PullLogsWithQuery(&sls.PullLogRequest{Project: project, Logstore: logstore, ShardID: shard,
			Cursor: cursor, EndCursor: end, LogGroupMaxCount: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gl.LogGroups {
			groups = append(groups, sample.FromSLS(g))
		}
		cursor = meta.NextCursor
	}
	return normalize(groups), end
}

// TestNodeSDKs runs the Node.js suites and compares each client's view of
// the local cloud with the Go SDK's.
func TestNodeSDKs(t *testing.T) {
	node := requireSuite(t)
	lc := serve(t)
	data, err := sample.Load(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	goc := localcloud.NewSLSClient(lc.endpoint, lc.cred)

	// The Go SDK's view of the sample logstore.
	shards, err := goc.ListShards(lc.project, lc.logstore)
	if err != nil || len(shards) != len(data.Shards) {
		t.Fatalf("Go SDK ListShards = %d shards, %v; the sample has %d", len(shards), err, len(data.Shards))
	}
	goGroups := make([][]sample.LogGroup, len(shards))
	goEnds := make([]string, len(shards))
	for i := range shards {
		goGroups[i], goEnds[i] = goPull(t, goc, lc.project, lc.logstore, i)
		if !reflect.DeepEqual(goGroups[i], normalize(data.Shards[i])) {
			t.Fatalf("the Go SDK reads shard %d unlike the sample", i)
		}
	}
	begin0, _ := goc.GetCursor(lc.project, lc.logstore, 0, "begin")
	beginTime, err := goc.GetCursorTime(lc.project, lc.logstore, 0, begin0)
	if err != nil {
		t.Fatal(err)
	}
	t0 := beginTime.Unix()

	// Checkpoints the suite saves: the cursors of group 3 of shard 0 and
	// group 5 of shard 1.
	cp0 := slsemu.EncodeCursor(slsemu.CursorBase + 3)
	cp1 := slsemu.EncodeCursor(slsemu.CursorBase + 5)
	r := runSuite(t, node, plan{
		Endpoint: strings.TrimPrefix(lc.endpoint, "http://"), AccessKeyID: lc.cred.AccessKeyID, AccessKeySecret: lc.cred.AccessKeySecret,
		Project: lc.project, Logstore: lc.logstore, PutLogstore: lc.putLogstore, Region: region,
		CursorTimes: []int64{1, t0 - 1, t0, t0 + 1, t0 + 3600, 4102444800},
		PageCount:   pageCount, Checkpoints: []string{cp0, cp1},
	})

	// What the Go SDK reads back from the logstore the clients wrote to.
	var put []sample.LogGroup
	for shard := range 2 {
		g, _ := goPull(t, goc, lc.project, lc.putLogstore, shard)
		put = append(put, g...)
	}

	for _, name := range clientNames {
		cr := r.Clients[name]
		t.Run(name, func(t *testing.T) {
			t.Run("ListShards", func(t *testing.T) {
				got := make([]*sls.Shard, len(cr.ListShards))
				for i := range cr.ListShards {
					got[i] = &cr.ListShards[i]
				}
				if !reflect.DeepEqual(got, shards) {
					t.Errorf("ListShards = %+v, the Go SDK got %+v", cr.ListShards, shards)
				}
			})
			t.Run("GetCursor", func(t *testing.T) {
				if len(cr.Cursors) != len(shards) {
					t.Fatalf("cursors of %d shards, want %d", len(cr.Cursors), len(shards))
				}
				for _, c := range cr.Cursors {
					wantBegin, _ := goc.GetCursor(lc.project, lc.logstore, c.Shard, "begin")
					if c.Begin != wantBegin || c.End != goEnds[c.Shard] {
						t.Errorf("shard %d: begin %s end %s, the Go SDK got %s %s", c.Shard, c.Begin, c.End, wantBegin, goEnds[c.Shard])
					}
					for from, got := range c.ByTime {
						want, err := goc.GetCursor(lc.project, lc.logstore, c.Shard, from)
						if err != nil || got != want {
							t.Errorf("shard %d from=%s: %s, the Go SDK got %s (%v)", c.Shard, from, got, want, err)
						}
					}
					if len(c.ByTime) != 6 {
						t.Errorf("shard %d: %d cursors by time, want 6", c.Shard, len(c.ByTime))
					}
					bt, err := goc.GetCursorTime(lc.project, lc.logstore, c.Shard, wantBegin)
					if err != nil || c.BeginTime != bt.Unix() {
						t.Errorf("shard %d: GetCursorTime %d, the Go SDK got %d (%v)", c.Shard, c.BeginTime, bt.Unix(), err)
					}
				}
			})
			if name != "log" {
				t.Run("PullLogs", func(t *testing.T) {
					if want := len(shards) * 3 * 2; len(cr.Pulls) != want {
						t.Fatalf("%d pulls, want %d (shards × encodings × with/without end cursor)", len(cr.Pulls), want)
					}
					for _, p := range cr.Pulls {
						what := fmt.Sprintf("shard %d encoding %q end cursor %v", p.Shard, p.Encoding, p.WithEnd)
						if !reflect.DeepEqual(normalize(p.Groups), goGroups[p.Shard]) {
							t.Errorf("%s: %d groups unlike the Go SDK's %d", what, len(p.Groups), len(goGroups[p.Shard]))
						}
						if p.Next != goEnds[p.Shard] {
							t.Errorf("%s: ended at %s, want %s", what, p.Next, goEnds[p.Shard])
						}
						pages := (len(goGroups[p.Shard]) + pageCount - 1) / pageCount
						if !p.WithEnd {
							pages++ // the empty answer at the end
						}
						if p.Requests != pages {
							t.Errorf("%s: %d requests, want %d", what, p.Requests, pages)
						}
						if !slices.Equal(p.CompressTypes, []string{p.Encoding}) {
							t.Errorf("%s: answered with compression %q", what, p.CompressTypes)
						}
					}
				})
			}
			t.Run("PutLogs", func(t *testing.T) {
				var got []sample.LogGroup
				for _, g := range put {
					if strings.HasPrefix(g.Topic, "node-"+name+"-") {
						got = append(got, g)
					}
				}
				slices.SortFunc(got, func(a, b sample.LogGroup) int { return strings.Compare(a.Topic, b.Topic) })
				if len(cr.Put) == 0 || !reflect.DeepEqual(got, normalize(cr.Put)) {
					t.Errorf("the Go SDK read back %+v, the client wrote %+v", got, cr.Put)
				}
			})
			t.Run("logstores", func(t *testing.T) {
				names, err := goc.ListLogStore(lc.project)
				if err != nil || !slices.Equal(cr.Logstores.List.Logstores, names) || cr.Logstores.List.Count != len(names) {
					t.Errorf("ListLogStores = %+v, the Go SDK got %v (%v)", cr.Logstores.List, names, err)
				}
				ls, err := goc.GetLogStore(lc.project, lc.logstore)
				if err != nil || cr.Logstores.Get.Name != ls.Name || cr.Logstores.Get.ShardCount != ls.ShardCount || cr.Logstores.Get.TTL != ls.TTL {
					t.Errorf("GetLogStore = %+v, the Go SDK got %+v (%v)", cr.Logstores.Get, ls, err)
				}
			})
			t.Run("consumer group", func(t *testing.T) { checkConsumerGroup(t, goc, lc, cr, cp0, cp1) })
			t.Run("errors", func(t *testing.T) { checkErrors(t, goc, lc, cr) })
		})
	}
}

func checkConsumerGroup(t *testing.T, goc *sls.Client, lc served, cr clientReport, cp0, cp1 string) {
	steps := cr.ConsumerGroup.Steps
	group := cr.ConsumerGroup.Name
	for _, s := range []string{"create", "update", "checkpointConsumer", "checkpointForced", "createTmp", "deleteTmp"} {
		wantOK(t, s, steps[s])
	}
	err := goc.CreateConsumerGroup(lc.project, lc.logstore, sls.ConsumerGroup{ConsumerGroupName: group, Timeout: 60})
	wantSameError(t, "creating an existing group", steps["createAgain"], err)

	groups, err := goc.ListConsumerGroup(lc.project, lc.logstore)
	if err != nil {
		t.Fatal(err)
	}
	var listed []struct {
		Name    string `json:"name"`
		Timeout int    `json:"timeout"`
		Order   bool   `json:"order"`
	}
	if err := json.Unmarshal(steps["list"].Value, &listed); err != nil {
		t.Fatalf("list: %v: %s", err, steps["list"].Value)
	}
	found := false
	for _, g := range listed {
		if g.Name == group {
			found = g.Timeout == 3600 && g.Order
		}
	}
	for _, g := range groups {
		if g.ConsumerGroupName == group && (g.Timeout != 3600 || !g.InOrder) {
			t.Errorf("the Go SDK lists %+v after the update to timeout 3600, order true", g)
		}
	}
	if !found {
		t.Errorf("the client listed %s, without %s at timeout 3600, order true", steps["list"].Value, group)
	}

	for _, s := range []string{"join", "hold"} {
		var got []int
		if err := json.Unmarshal(steps[s].Value, &got); err != nil || !slices.Equal(got, []int{0, 1}) {
			t.Errorf("heartbeat %s = %s (%v), want [0,1]", s, steps[s].Value, err)
		}
	}
	err = goc.UpdateCheckpoint(lc.project, lc.logstore, group, "stranger", 0, cp0, false)
	wantSameError(t, "a checkpoint from a consumer not in the group", steps["checkpointStranger"], err)

	cps, err := goc.GetCheckpoint(lc.project, lc.logstore, group)
	if err != nil {
		t.Fatal(err)
	}
	var got []sls.ConsumerGroupCheckPoint
	if err := json.Unmarshal(steps["checkpoints"].Value, &got); err != nil {
		t.Fatalf("checkpoints: %v: %s", err, steps["checkpoints"].Value)
	}
	if len(got) != len(cps) || len(cps) != 2 {
		t.Fatalf("checkpoints %s; the Go SDK got %d", steps["checkpoints"].Value, len(cps))
	}
	for i := range cps {
		if got[i] != *cps[i] {
			t.Errorf("checkpoint %d = %+v, the Go SDK got %+v", i, got[i], *cps[i])
		}
	}
	if cps[0].CheckPoint != cp0 || cps[0].Consumer != "c1" || cps[1].CheckPoint != cp1 {
		t.Errorf("checkpoints %+v %+v, want shard 0 at %s by c1 and shard 1 at %s", *cps[0], *cps[1], cp0, cp1)
	}
	var one []sls.ConsumerGroupCheckPoint
	if err := json.Unmarshal(steps["checkpointShard1"].Value, &one); err != nil || len(one) != 1 || one[0] != *cps[1] {
		t.Errorf("checkpoint of shard 1 = %s (%v), the Go SDK got %+v", steps["checkpointShard1"].Value, err, *cps[1])
	}
	_, err = goc.GetCheckpoint(lc.project, lc.logstore, group+"-tmp")
	wantSameError(t, "the checkpoints of a deleted group", steps["deletedCheckpoints"], err)
}

func checkErrors(t *testing.T, goc *sls.Client, lc served, cr clientReport) {
	wrong := localcloud.NewSLSClient(lc.endpoint, slsemu.Credential{AccessKeyID: lc.cred.AccessKeyID, AccessKeySecret: "not-the-secret"})
	nobody := localcloud.NewSLSClient(lc.endpoint, slsemu.Credential{AccessKeyID: "LTAI-nobody", AccessKeySecret: lc.cred.AccessKeySecret})
	now := time.Now().Unix()
	begin, _ := goc.GetCursor(lc.project, lc.logstore, 0, "begin")
	pull := func(shard int, cursor string, count int) error {
		_, _, err := goc.PullLogsWithQuery(&sls.PullLogRequest{Project: lc.project, Logstore: lc.logstore, ShardID: shard, Cursor: cursor, LogGroupMaxCount: count})
		return err
	}
	cases := map[string]func() error{
		"wrongSecret":     func() error { _, err := wrong.ListShards(lc.project, lc.logstore); return err },
		"unknownKey":      func() error { _, err := nobody.ListShards(lc.project, lc.logstore); return err },
		"unknownProject":  func() error { _, err := goc.ListShards("no-such-project", lc.logstore); return err },
		"unknownLogstore": func() error { _, err := goc.ListShards(lc.project, "no-such-logstore"); return err },
		"shardOutOfRange": func() error { _, err := goc.GetCursor(lc.project, lc.logstore, 99, "begin"); return err },
		"badCursor":       func() error { _, err := goc.GetCursorTime(lc.project, lc.logstore, 0, "notacursor"); return err },
		"query": func() error {
			_, err := goc.GetLogs(lc.project, lc.logstore, "", now-3600, now, "*", 10, 0, false)
			return err
		},
		"unimplemented": func() error { _, err := goc.GetProject(lc.project); return err },
	}
	if cr.Pulls != nil {
		cases["pullBadCursor"] = func() error { return pull(0, "notacursor", 10) }
		cases["pullCountOverLimit"] = func() error { return pull(0, begin, 1001) }
		cases["pullShardOutOfRange"] = func() error { return pull(99, begin, 10) }
	}
	for name, do := range cases {
		o, ok := cr.Errors[name]
		if !ok {
			t.Errorf("%s: not reported", name)
			continue
		}
		wantSameError(t, name, o, do())
	}
	if len(cr.Errors) != len(cases) {
		t.Errorf("%d error cases reported, %d compared", len(cr.Errors), len(cases))
	}
}
