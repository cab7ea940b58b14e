package slsemu

import (
	"fmt"
	"sync"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

func TestConcurrentPulls(t *testing.T) {
	const groups, readers, page = 1000, 12, 100
	s, addr := startServer(t, 2)
	t0 := time.Unix(1700000000, 0)
	for i := range groups {
		if _, err := s.Append(testProject, testLogstore, 0, testGroup(i), t0); err != nil {
			t.Fatal(err)
		}
	}
	c := newClient(t, addr, longAK, longSecret, "")

	var wg sync.WaitGroup
	errs := make(chan error, readers+1)
	// A writer appends to shard 0 while the readers pull it.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 50 {
			if err := c.PostLogStoreLogs(testProject, testLogstore, testGroup(groups+i), ptr("00")); err != nil {
				errs <- fmt.Errorf("put: %w", err)
				return
			}
		}
	}()
	for r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cursor, end := EncodeCursor(CursorBase), EncodeCursor(CursorBase+groups)
			seen := 0
			for cursor != end {
				gl, meta, err := c.PullLogsWithQuery(&sls.PullLogRequest{
					Project: testProject, Logstore: testLogstore, ShardID: 0,
					Cursor: cursor, EndCursor: end, LogGroupMaxCount: page, CompressType: []int{sls.Compress_LZ4, sls.Compress_ZSTD}[r%2],
				})
				if err != nil {
					errs <- fmt.Errorf("reader %d: %w", r, err)
					return
				}
				for i, g := range gl.LogGroups {
					if want := fmt.Sprintf("topic-%d", seen+i); g.GetTopic() != want {
						errs <- fmt.Errorf("reader %d: group %d has topic %s", r, seen+i, g.GetTopic())
						return
					}
				}
				seen += len(gl.LogGroups)
				if meta.Count != page {
					errs <- fmt.Errorf("reader %d: page of %d groups", r, meta.Count)
					return
				}
				cursor = meta.NextCursor
			}
			if seen != groups {
				errs <- fmt.Errorf("reader %d saw %d groups", r, seen)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	end, err := s.Cursor(testProject, testLogstore, 0, "end")
	if err != nil || end != EncodeCursor(CursorBase+groups+50) {
		t.Errorf("end after concurrent writes = %s, %v", end, err)
	}
}

func ptr[T any](v T) *T { return &v }

func BenchmarkPullLogs(b *testing.B) {
	s, addr := startServer(b, 1)
	t0 := time.Unix(1700000000, 0)
	const groups = 10000
	for i := range groups {
		if _, err := s.Append(testProject, testLogstore, 0, testGroup(i), t0); err != nil {
			b.Fatal(err)
		}
	}
	c := newClient(b, addr, longAK, longSecret, "")
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			start := int64(i*1000) % groups
			if _, _, err := c.PullLogs(testProject, testLogstore, 0, EncodeCursor(CursorBase+start), "", 1000); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
