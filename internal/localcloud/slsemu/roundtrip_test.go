package slsemu

import (
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

// pullAll pulls a whole shard with the SDK and returns its groups.
func pullAll(t *testing.T, c *sls.Client, shard, compressType int) []*sls.LogGroup {
	t.Helper()
	cursor, err := c.GetCursor(testProject, testLogstore, shard, "begin")
	if err != nil {
		t.Fatal(err)
	}
	end, err := c.GetCursor(testProject, testLogstore, shard, "end")
	if err != nil {
		t.Fatal(err)
	}
	var out []*sls.LogGroup
	for cursor != end {
		gl, meta, err := c.PullLogsWithQuery(&sls.PullLogRequest{
			Project: testProject, Logstore: testLogstore, ShardID: shard,
			Cursor: cursor, EndCursor: end, LogGroupMaxCount: 2, CompressType: compressType,
		})
		if err != nil {
			t.Fatal(err)
		}
		if meta.Count == 0 || meta.Count != len(gl.LogGroups) {
			t.Fatalf("pull from %s: count %d with %d groups", cursor, meta.Count, len(gl.LogGroups))
		}
		out = append(out, gl.LogGroups...)
		cursor = meta.NextCursor
	}
	return out
}

func TestPutLogsLoadBalancedRoundTrip(t *testing.T) {
	_, addr := startServer(t, 2)
	c := newClient(t, addr, longAK, longSecret, "")

	// PutLogs writes to the shards in turn, whatever the body compression.
	var want [2][]*sls.LogGroup
	compressions := []int{sls.Compress_LZ4, sls.Compress_ZSTD, sls.Compress_None}
	for i := range 6 {
		lg := testGroup(i)
		if err := c.PutLogsWithCompressType(testProject, testLogstore, lg, compressions[i%3]); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
		want[i%2] = append(want[i%2], lg)
	}

	for shard := range 2 {
		for _, ct := range []int{sls.Compress_LZ4, sls.Compress_ZSTD} {
			got := pullAll(t, c, shard, ct)
			if len(got) != len(want[shard]) {
				t.Fatalf("shard %d compress %d: pulled %d groups, want %d", shard, ct, len(got), len(want[shard]))
			}
			for i := range got {
				sameGroup(t, got[i], want[shard][i])
				if cur := got[i].GetCursor(); cur != EncodeCursor(CursorBase+int64(i)) {
					t.Errorf("shard %d group %d cursor = %s, want %s", shard, i, cur, EncodeCursor(CursorBase+int64(i)))
				}
			}
		}
	}
}

func TestPutLogsRouteByHashKey(t *testing.T) {
	s, addr := startServer(t, 2)
	c := newClient(t, addr, longAK, longSecret, "")

	cases := []struct {
		key   string
		shard int
	}{
		{"00000000000000000000000000000000", 0},
		{"7fffffffffffffffffffffffffffffff", 0},
		{"80000000000000000000000000000000", 1},
		{"ffffffffffffffffffffffffffffffff", 1},
		{"C0", 1}, // short and upper case: padded to c000…0
	}
	for i, tc := range cases {
		key := tc.key
		lg := testGroup(i)
		if err := c.PostLogStoreLogs(testProject, testLogstore, lg, &key); err != nil {
			t.Fatalf("post with key %s: %v", key, err)
		}
		end, err := s.Cursor(testProject, testLogstore, tc.shard, "end")
		if err != nil {
			t.Fatal(err)
		}
		n, err := DecodeCursor(end)
		if err != nil {
			t.Fatal(err)
		}
		gl, _, err := c.PullLogs(testProject, testLogstore, tc.shard, EncodeCursor(n-1), "", 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(gl.LogGroups) != 1 {
			t.Fatalf("key %s: last group of shard %d missing", key, tc.shard)
		}
		sameGroup(t, gl.LogGroups[0], lg)
	}

	// The raw-body variant sends the key unescaped in the URI.
	key := "90000000000000000000000000000000"
	raw, err := testGroup(99).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PostRawLogWithCompressType(testProject, testLogstore, raw, sls.Compress_ZSTD, &key); err != nil {
		t.Fatal(err)
	}
	gl, _, err := c.PullLogs(testProject, testLogstore, 1, EncodeCursor(CursorBase+3), "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(gl.LogGroups) != 1 || gl.LogGroups[0].GetTopic() != "topic-99" {
		t.Fatalf("raw post with key went to the wrong place: %v", gl)
	}

	bad := "not-hex"
	err = c.PostLogStoreLogs(testProject, testLogstore, testGroup(0), &bad)
	wantSLSError(t, err, "ParameterInvalid", 400)
}

func TestGetLogsBytesWithQuery(t *testing.T) {
	s, addr := startServer(t, 1)
	c := newClient(t, addr, longAK, longSecret, "")
	for i := range 5 {
		if _, err := s.Append(testProject, testLogstore, 0, testGroup(i), time.Unix(1700000000, 0)); err != nil {
			t.Fatal(err)
		}
	}
	for _, ct := range []int{sls.Compress_LZ4, sls.Compress_ZSTD} {
		out, meta, err := c.GetLogsBytesWithQuery(&sls.PullLogRequest{
			Project: testProject, Logstore: testLogstore, ShardID: 0,
			Cursor: EncodeCursor(CursorBase + 1), EndCursor: EncodeCursor(CursorBase + 4),
			LogGroupMaxCount: 1000, CompressType: ct,
		})
		if err != nil {
			t.Fatal(err)
		}
		if meta.Count != 3 || meta.RawSize != len(out) || meta.NextCursor != EncodeCursor(CursorBase+4) {
			t.Fatalf("compress %d: meta = %+v (len %d), want count 3, next %s", ct, meta, len(out), EncodeCursor(CursorBase+4))
		}
		if ct == sls.Compress_LZ4 && meta.Netflow >= meta.RawSize {
			t.Errorf("lz4 body of %d bytes is not smaller than raw %d", meta.Netflow, meta.RawSize)
		}
		gl, err := sls.LogsBytesDecode(out)
		if err != nil {
			t.Fatal(err)
		}
		for i, g := range gl.LogGroups {
			sameGroup(t, g, testGroup(i+1))
		}
	}
}
