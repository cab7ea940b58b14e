package logstore

import (
	"errors"
	"fmt"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/localcloud/slsemu"
)

// benchRange loads groups×perGroup logs of ten ~30-byte fields.
func benchRange(b *testing.B, groups, perGroup int) Range {
	emu := slsemu.New()
	emu.AddCredential(slsemu.Credential{AccessKeyID: sts.AccessKeyID, AccessKeySecret: sts.AccessKeySecret, SecurityToken: sts.SecurityToken})
	endpoint, err := emu.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { emu.Close() })
	emu.CreateLogstore("proj", "store", 1)
	for g := 0; g < groups; g++ {
		lg := &sls.LogGroup{Topic: proto.String("bench"), Source: proto.String("10.0.0.1"),
			LogTags: []*sls.LogTag{{Key: proto.String("__hostname__"), Value: proto.String("host-1")}}}
		for i := 0; i < perGroup; i++ {
			l := &sls.Log{Time: proto.Uint32(1732500000), TimeNs: proto.Uint32(uint32(i))}
			for f := 0; f < 10; f++ {
				l.Contents = append(l.Contents, &sls.LogContent{Key: proto.String(fmt.Sprintf("field_%02d", f)), Value: proto.String(fmt.Sprintf("value-%d-%d-abcdefghijklmn", g, f))})
			}
			lg.Logs = append(lg.Logs, l)
		}
		emu.Append("proj", "store", 0, lg, time.Unix(1732500000, 0))
	}
	begin, _ := emu.Cursor("proj", "store", 0, "begin")
	end, _ := emu.Cursor("proj", "store", 0, "end")
	return Range{Endpoint: endpoint, Project: "proj", Logstore: "store", Begin: begin, End: end}
}

func BenchmarkPullDecode(b *testing.B) {
	rng := benchRange(b, 1000, 100)
	b.ResetTimer()
	logs := 0
	for i := 0; i < b.N; i++ {
		r := newTestReader(rng, sts, Options{PullCount: 100})
		for {
			batch, err := r.Next(b.Context())
			if errors.Is(err, ErrDone) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			logs += batch.Logs()
			batch.Release()
		}
	}
	b.ReportMetric(float64(logs)/b.Elapsed().Seconds(), "logs/s")
}

// benchList is one pull's worth of raw bytes: 100 groups of 100 logs.
func benchList(b *testing.B) []byte {
	list := &sls.LogGroupList{}
	for g := 0; g < 100; g++ {
		lg := &sls.LogGroup{Topic: proto.String("bench"), Source: proto.String("10.0.0.1"),
			LogTags: []*sls.LogTag{{Key: proto.String("__hostname__"), Value: proto.String("host-1")}}}
		for i := 0; i < 100; i++ {
			l := &sls.Log{Time: proto.Uint32(1732500000), TimeNs: proto.Uint32(uint32(i))}
			for f := 0; f < 10; f++ {
				l.Contents = append(l.Contents, &sls.LogContent{Key: proto.String(fmt.Sprintf("field_%02d", f)), Value: proto.String(fmt.Sprintf("value-%d-%d-abcdefghijklmn", g, f))})
			}
			lg.Logs = append(lg.Logs, l)
		}
		list.LogGroups = append(list.LogGroups, lg)
	}
	raw, err := proto.Marshal(list)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

func BenchmarkDecodeSDK(b *testing.B) {
	raw := benchList(b)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		var list sls.LogGroupList
		if err := proto.Unmarshal(raw, &list); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "logs/s")
}

func BenchmarkDecodeZeroCopy(b *testing.B) {
	raw := benchList(b)
	var d decoder
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.decode(raw); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "logs/s")
}
