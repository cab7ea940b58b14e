package ship

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/config"
	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/slsemu"
)

// BenchmarkShipRange ships a 100 000-log range in-process (SLS emulator,
// shipper, discarding TCP sink), for profiling the whole path:
// go test -run '^$' -bench ShipRange -cpuprofile cpu.prof ./internal/ship
func BenchmarkShipRange(b *testing.B) {
	emu := slsemu.New()
	emu.AddCredential(slsemu.Credential{AccessKeyID: creds.AccessKeyID, AccessKeySecret: creds.AccessKeySecret, SecurityToken: creds.SecurityToken})
	endpoint, err := emu.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer emu.Close()
	emu.CreateLogstore("bench-project", "bench-store", 1)
	const groups, perGroup = 1000, 100
	for g := 0; g < groups; g++ {
		lg := &sls.LogGroup{Topic: proto.String("nginx_access"), Source: proto.String("192.168.10.13")}
		for i := 0; i < perGroup; i++ {
			l := &sls.Log{Time: proto.Uint32(1795478400), TimeNs: proto.Uint32(uint32(i))}
			for f := 0; f < 10; f++ {
				l.Contents = append(l.Contents, &sls.LogContent{Key: proto.String("field_" + strconv.Itoa(f)), Value: proto.String("value-" + strconv.Itoa(g*perGroup+i) + "-abcdefghij")})
			}
			lg.Logs = append(lg.Logs, l)
		}
		emu.Append("bench-project", "bench-store", 0, lg, time.Unix(1795478400, 0))
	}
	begin, _ := emu.Cursor("bench-project", "bench-store", 0, "begin")
	end, _ := emu.Cursor("bench-project", "bench-store", 0, "end")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go io.Copy(io.Discard, c)
		}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"SYSLOG_HOST": "127.0.0.1", "SYSLOG_PORT": port, "SYSLOG_FRAMING": "octet-counting",
			"SLS_ALLOWED_ENDPOINTS": localcloud.AllowedPatterns(endpoint), "SLS_HTTPS": "false"}[k]
	}, config.UseTrigger)
	if err != nil {
		b.Fatal(err)
	}
	s := New(cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	defer s.Close()
	ev, _ := json.Marshal(map[string]any{"source": map[string]any{
		"projectName": "bench-project", "logstoreName": "bench-store", "endpoint": endpoint, "shardId": 0, "beginCursor": begin, "endCursor": end,
	}})
	// A first pass warms the emulator's answer cache.
	if _, err := s.Ship(b.Context(), Invocation{Event: ev, Credentials: creds}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sum, err := s.Ship(b.Context(), Invocation{Event: ev, Credentials: creds})
		if err != nil || sum.Logs != groups*perGroup {
			b.Fatal(sum, err)
		}
	}
	b.ReportMetric(float64(b.N*groups*perGroup)/b.Elapsed().Seconds(), "logs/s")
}
