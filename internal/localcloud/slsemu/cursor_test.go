package slsemu

import (
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

func TestCursorEncoding(t *testing.T) {
	if got, want := EncodeCursor(CursorBase), "MTYwMDAwMDAwMDAwMDAwMDAwMA=="; got != want {
		t.Fatalf("EncodeCursor(CursorBase) = %s, want %s", got, want)
	}
	for _, n := range []int64{0, 1, CursorBase, CursorBase + 123456} {
		got, err := DecodeCursor(EncodeCursor(n))
		if err != nil || got != n {
			t.Fatalf("DecodeCursor(EncodeCursor(%d)) = %d, %v", n, got, err)
		}
	}
	for _, bad := range []string{"", "!!!", "YWJj", "MTYwMA"} { // empty, not base64, "abc", unpadded
		if _, err := DecodeCursor(bad); err == nil {
			t.Errorf("DecodeCursor(%q) succeeded", bad)
		}
	}
}

func TestAppendIsDeterministic(t *testing.T) {
	s := New()
	if err := s.CreateLogstore("p", "l", 2); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLogstore("p", "l", 2); err == nil {
		t.Fatal("creating a logstore twice succeeded")
	}
	t0 := time.Unix(1700000000, 0)
	for shard := range 2 {
		for i := range 3 {
			cur, err := s.Append("p", "l", shard, testGroup(i), t0.Add(time.Duration(i)*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if want := EncodeCursor(CursorBase + int64(i)); cur != want {
				t.Fatalf("shard %d group %d cursor = %s, want %s", shard, i, cur, want)
			}
		}
	}
	if _, err := s.Append("p", "l", 0, testGroup(9), t0); err == nil {
		t.Error("append with a receive time going back succeeded")
	}
	if _, err := s.Append("p", "l", 2, testGroup(9), t0); err == nil {
		t.Error("append to a missing shard succeeded")
	}
	if _, err := s.Append("p", "nope", 0, testGroup(9), t0); err == nil {
		t.Error("append to a missing logstore succeeded")
	}
	if n, err := s.ShardCount("p", "l"); err != nil || n != 2 {
		t.Errorf("ShardCount = %d, %v", n, err)
	}
}

func TestGetCursorAndCursorTime(t *testing.T) {
	s, addr := startServer(t, 1)
	c := newClient(t, addr, stsAK, stsSecret, stsToken)

	// An empty shard: begin and end are both the base cursor.
	for _, from := range []string{"begin", "end", "1700000000"} {
		cur, err := c.GetCursor(testProject, testLogstore, 0, from)
		if err != nil {
			t.Fatal(err)
		}
		if cur != EncodeCursor(CursorBase) {
			t.Errorf("empty shard GetCursor(%s) = %s, want base", from, cur)
		}
	}

	t0 := int64(1700000000)
	for i := range 3 { // received at t0, t0+10, t0+20
		if _, err := s.Append(testProject, testLogstore, 0, testGroup(i), time.Unix(t0+int64(10*i), 0)); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		from string
		want int64
	}{
		{"begin", CursorBase},
		{"end", CursorBase + 3},
		{"1600000000", CursorBase},     // before the first group
		{"1700000000", CursorBase},     // exactly the first receive time
		{"1700000005", CursorBase + 1}, // first group received at or after
		{"1700000010", CursorBase + 1},
		{"1700000011", CursorBase + 2},
		{"1700000021", CursorBase + 3}, // after the last group: the end
	}
	for _, tc := range cases {
		cur, err := c.GetCursor(testProject, testLogstore, 0, tc.from)
		if err != nil {
			t.Fatal(err)
		}
		if cur != EncodeCursor(tc.want) {
			n, _ := DecodeCursor(cur)
			t.Errorf("GetCursor(%s) = base+%d, want base+%d", tc.from, n-CursorBase, tc.want-CursorBase)
		}
		direct, err := s.Cursor(testProject, testLogstore, 0, tc.from)
		if err != nil || direct != cur {
			t.Errorf("Server.Cursor(%s) = %s, %v; HTTP said %s", tc.from, direct, err, cur)
		}
	}

	for i, want := range []int64{t0, t0 + 10, t0 + 20, t0 + 20} { // the end answers the last group's time
		got, err := c.GetCursorTime(testProject, testLogstore, 0, EncodeCursor(CursorBase+int64(i)))
		if err != nil {
			t.Fatal(err)
		}
		if got.Unix() != want {
			t.Errorf("GetCursorTime(base+%d) = %d, want %d", i, got.Unix(), want)
		}
	}
	prev, err := c.GetPrevCursorTime(testProject, testLogstore, 0, EncodeCursor(CursorBase+2))
	if err != nil || prev.Unix() != t0+10 {
		t.Errorf("GetPrevCursorTime(base+2) = %v, %v, want %d", prev.Unix(), err, t0+10)
	}
	// GetCursorTime goes through Client.request, which does not retry.
	_, err = c.GetCursorTime(testProject, testLogstore, 0, EncodeCursor(CursorBase+4))
	wantSLSError(t, err, "InvalidCursor", 400)

	_, err = c.GetCursor(testProject, testLogstore, 0, "yesterday")
	wantSLSError(t, err, "ParameterInvalid", 400)
}

func TestListShards(t *testing.T) {
	_, addr := startServer(t, 4)
	c := newClient(t, addr, longAK, longSecret, "")
	shards, err := c.ListShards(testProject, testLogstore)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ begin, end string }{
		{"00000000000000000000000000000000", "40000000000000000000000000000000"},
		{"40000000000000000000000000000000", "80000000000000000000000000000000"},
		{"80000000000000000000000000000000", "c0000000000000000000000000000000"},
		{"c0000000000000000000000000000000", "ffffffffffffffffffffffffffffffff"},
	}
	if len(shards) != len(want) {
		t.Fatalf("got %d shards, want %d", len(shards), len(want))
	}
	for i, sh := range shards {
		if sh.ShardID != i || sh.Status != "readwrite" || sh.InclusiveBeginKey != want[i].begin ||
			sh.ExclusiveBeginKey != want[i].end || sh.CreateTime == 0 {
			t.Errorf("shard %d = %+v, want keys %v", i, *sh, want[i])
		}
	}
}

func TestKeyRangesOddCount(t *testing.T) {
	begins, ends := keyRanges(3)
	want := []string{"00000000000000000000000000000000", "55555555555555555555555555555555", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}
	for i := range want {
		if begins[i] != want[i] {
			t.Errorf("begin %d = %s, want %s", i, begins[i], want[i])
		}
		if i > 0 && ends[i-1] != begins[i] {
			t.Errorf("end %d = %s, not the next begin %s", i-1, ends[i-1], begins[i])
		}
	}
}

func TestPullRanges(t *testing.T) {
	s, addr := startServer(t, 1)
	c := newClient(t, addr, longAK, longSecret, "")
	for i := range 10 {
		if _, err := s.Append(testProject, testLogstore, 0, testGroup(i), time.Unix(1700000000, 0)); err != nil {
			t.Fatal(err)
		}
	}
	cur := func(i int64) string { return EncodeCursor(CursorBase + i) }
	cases := []struct {
		name        string
		from, to    string
		count       int
		first, n    int
		next        string
		wantLastCur string
	}{
		{"half-open", cur(2), cur(5), 1000, 2, 3, cur(5), cur(4)},
		{"count limit", cur(0), "", 4, 0, 4, cur(4), cur(3)},
		{"count limit inside range", cur(1), cur(9), 3, 1, 3, cur(4), cur(3)},
		{"to shard end", cur(7), "", 1000, 7, 3, cur(10), cur(9)},
		{"end cursor beyond shard end", cur(8), cur(50), 1000, 8, 2, cur(10), cur(9)},
		{"at end cursor", cur(5), cur(5), 10, 0, 0, cur(5), ""},
		{"after end cursor", cur(6), cur(5), 10, 0, 0, cur(6), ""},
		{"at shard end", cur(10), "", 10, 0, 0, cur(10), ""},
		{"below begin is clamped", EncodeCursor(12345), cur(2), 10, 0, 2, cur(2), cur(1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gl, next, err := c.PullLogs(testProject, testLogstore, 0, tc.from, tc.to, tc.count)
			if err != nil {
				t.Fatal(err)
			}
			if len(gl.LogGroups) != tc.n || next != tc.next {
				t.Fatalf("got %d groups, next %s; want %d, next %s", len(gl.LogGroups), next, tc.n, tc.next)
			}
			for i, g := range gl.LogGroups {
				sameGroup(t, g, testGroup(tc.first+i))
			}
			if tc.n > 0 && gl.LogGroups[tc.n-1].GetCursor() != tc.wantLastCur {
				t.Errorf("last group cursor = %s, want %s", gl.LogGroups[tc.n-1].GetCursor(), tc.wantLastCur)
			}
		})
	}

	for _, count := range []int{0, -1, 1001} {
		_, _, err := c.PullLogs(testProject, testLogstore, 0, cur(0), "", count)
		wantSLSError(t, err, "ParameterInvalid", 400)
	}
	for _, bad := range []string{"!!!", "bm90LWEtbnVtYmVy", cur(11)} { // bad base64, "not-a-number", beyond the end
		_, _, err := c.PullLogs(testProject, testLogstore, 0, bad, "", 10)
		wantSLSError(t, err, "InvalidCursor", 400)
	}
	_, _, err := c.PullLogs(testProject, testLogstore, 0, cur(0), "!!!", 10)
	wantSLSError(t, err, "InvalidCursor", 400)
	_, _, err = c.PullLogsWithQuery(&sls.PullLogRequest{
		Project: testProject, Logstore: testLogstore, Cursor: cur(0), LogGroupMaxCount: 10, Query: "* | where a = 'b'",
	})
	wantSLSError(t, err, "ParameterInvalid", 400)
}

func TestStartClose(t *testing.T) {
	s, addr := startServer(t, 1)
	c := newClient(t, addr, longAK, longSecret, "")
	c.RetryTimeOut = 200 * time.Millisecond
	if err := c.PutLogs(testProject, testLogstore, testGroup(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start("127.0.0.1:0"); err == nil {
		t.Fatal("second Start succeeded")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListShards(testProject, testLogstore); err == nil {
		t.Fatal("request after Close succeeded")
	}
	endpoint, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c = newClient(t, endpoint[len("http://"):], longAK, longSecret, "")
	gl, _, err := c.PullLogs(testProject, testLogstore, 0, EncodeCursor(CursorBase), "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(gl.LogGroups) != 1 {
		t.Fatalf("data lost across restart: %d groups", len(gl.LogGroups))
	}
}
