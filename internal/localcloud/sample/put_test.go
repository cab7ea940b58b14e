package sample_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"

	"sls2siem/internal/localcloud/sample"
	"sls2siem/internal/localcloud/slsemu"
)

// Fake credentials registered with the emulator.
const (
	testAK     = "LTAI5tSampleTestKey0001"
	testSecret = "sample-test-secret"
)

// realEndpoint is what the SDK puts in the Host header; the transport
// dials the emulator whatever host it asks for.
const realEndpoint = "http://cn-hangzhou-intranet.log.aliyuncs.com"

// startEmulator runs an SLS emulator holding an empty project/logstore
// with the given shards, and returns a real SDK client that reaches it.
func startEmulator(t *testing.T, project, logstore string, shards int) sls.ClientInterface {
	t.Helper()
	s := slsemu.New()
	s.AddCredential(slsemu.Credential{AccessKeyID: testAK, AccessKeySecret: testSecret})
	if err := s.CreateLogstore(project, logstore, shards); err != nil {
		t.Fatal(err)
	}
	endpoint, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	return newClient(t, u.Host, testSecret)
}

func newClient(t *testing.T, addr, secret string) sls.ClientInterface {
	t.Helper()
	var d net.Dialer
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	c := sls.CreateNormalInterface(realEndpoint, testAK, secret, "")
	c.SetHTTPClient(&http.Client{Transport: tr, Timeout: 30 * time.Second})
	return c
}

func cursorOf(n int64) string {
	return base64.StdEncoding.EncodeToString([]byte(strconv.FormatInt(n, 10)))
}

// pullAll reads [begin, end) of a shard with the SDK, a few groups per call.
func pullAll(t *testing.T, c sls.ClientInterface, project, logstore string, shard int, begin, end string) []*sls.LogGroup {
	t.Helper()
	var out []*sls.LogGroup
	cursor := begin
	for calls := 0; ; calls++ {
		if calls > 1000 {
			t.Fatalf("shard %d: pull did not reach the end cursor", shard)
		}
		gl, next, err := c.PullLogs(project, logstore, shard, cursor, end, 37)
		if err != nil {
			t.Fatalf("PullLogs shard %d cursor %s: %v", shard, cursor, err)
		}
		out = append(out, gl.LogGroups...)
		if next == cursor {
			return out
		}
		cursor = next
	}
}

func TestPutThenPullWithSDK(t *testing.T) {
	ls := loadCommitted(t)
	c := startEmulator(t, ls.Project, ls.Logstore, len(ls.Shards))
	if err := sample.Put(context.Background(), c, ls); err != nil {
		t.Fatalf("Put: %v", err)
	}
	for i, want := range ls.Shards {
		begin, err := c.GetCursor(ls.Project, ls.Logstore, i, "begin")
		if err != nil {
			t.Fatal(err)
		}
		end, err := c.GetCursor(ls.Project, ls.Logstore, i, "end")
		if err != nil {
			t.Fatal(err)
		}
		if begin != cursorOf(slsemu.CursorBase) || end != cursorOf(slsemu.CursorBase+int64(len(want))) {
			t.Errorf("shard %d: cursors [%s, %s), want [%s, %s)", i, begin, end,
				cursorOf(slsemu.CursorBase), cursorOf(slsemu.CursorBase+int64(len(want))))
		}
		got := pullAll(t, c, ls.Project, ls.Logstore, i, begin, end)
		if len(got) != len(want) {
			t.Fatalf("shard %d: pulled %d groups, want %d", i, len(got), len(want))
		}
		for j, g := range got {
			if !reflect.DeepEqual(sample.FromSLS(g), want[j]) {
				t.Fatalf("shard %d group %d differs after Put and PullLogs:\n got %+v\nwant %+v", i, j, sample.FromSLS(g), want[j])
			}
			if g.GetCursor() != cursorOf(slsemu.CursorBase+int64(j)) {
				t.Errorf("shard %d group %d: cursor %q, want %q", i, j, g.GetCursor(), cursorOf(slsemu.CursorBase+int64(j)))
			}
		}
	}

	// The committed trigger event covers exactly shard 0.
	ev, err := decodeEvent(readEvent(t, "sls-trigger.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := pullAll(t, c, *ev.Source.ProjectName, *ev.Source.LogstoreName, *ev.Source.ShardID, *ev.Source.BeginCursor, *ev.Source.EndCursor)
	if len(got) != len(ls.Shards[0]) {
		t.Fatalf("trigger event range holds %d groups, want all %d of shard 0", len(got), len(ls.Shards[0]))
	}
	for j, g := range got {
		if !reflect.DeepEqual(sample.FromSLS(g), ls.Shards[0][j]) {
			t.Fatalf("trigger event range: group %d differs", j)
		}
	}
}

func TestPutErrors(t *testing.T) {
	ls := sample.Generate(1, 2, 3)

	t.Run("too few shards", func(t *testing.T) {
		c := startEmulator(t, ls.Project, ls.Logstore, 1)
		err := sample.Put(context.Background(), c, ls)
		if err == nil || !strings.Contains(err.Error(), "no shard 1") {
			t.Fatalf("Put = %v, want an error about shard 1", err)
		}
	})

	t.Run("no such logstore", func(t *testing.T) {
		c := startEmulator(t, ls.Project, "other", 2)
		err := sample.Put(context.Background(), c, ls)
		var se *sls.Error
		if !errors.As(err, &se) || se.Code != "LogStoreNotExist" {
			t.Fatalf("Put = %v, want an *sls.Error LogStoreNotExist", err)
		}
	})

	t.Run("canceled", func(t *testing.T) {
		c := startEmulator(t, ls.Project, ls.Logstore, 2)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := sample.Put(ctx, c, ls); !errors.Is(err, context.Canceled) {
			t.Fatalf("Put = %v, want context.Canceled", err)
		}
		end, err := c.GetCursor(ls.Project, ls.Logstore, 0, "end")
		if err != nil {
			t.Fatal(err)
		}
		if end != cursorOf(slsemu.CursorBase) {
			t.Errorf("a canceled Put wrote data: end cursor %s", end)
		}
	})

	t.Run("empty group", func(t *testing.T) {
		c := startEmulator(t, ls.Project, ls.Logstore, 2)
		bad := &sample.Logstore{Project: ls.Project, Logstore: ls.Logstore, Shards: [][]sample.LogGroup{{{Topic: "t"}}}}
		if err := sample.Put(context.Background(), c, bad); err == nil || !strings.Contains(err.Error(), "no logs") {
			t.Fatalf("Put = %v, want an error about an empty group", err)
		}
	})
}
