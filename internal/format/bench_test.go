package format

import (
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"
)

// Benchmarks: one 10-field log (plus the group's topic, source and tags)
// per iteration, so ns/op is ns/log and allocs/op is allocs/log.

func benchEncode(b *testing.B, o Options) {
	g := testGroup()
	l := &sls.Log{Time: proto.Uint32(1732500000), TimeNs: proto.Uint32(5), Contents: pairs(tenFields()...)}
	if o.Hostname == "" {
		o.Hostname = "host"
	}
	if o.AppName == "" {
		o.AppName = "app"
	}
	o.Facility, o.Severity, o.EscapeBreaks, o.MaxSize = 1, 6, true, 65536
	enc := NewEncoder(o)
	grp := enc.NewGroup(g, "")
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = enc.Append(buf[:0], grp, 3, l)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkEncodeRFC5424KV(b *testing.B) { benchEncode(b, Options{}) }

func BenchmarkEncodeRFC5424JSON(b *testing.B) { benchEncode(b, Options{Body: BodyJSON}) }

func BenchmarkEncodeRFC5424CEF(b *testing.B) {
	benchEncode(b, Options{Body: BodyCEF, Vendor: "Alibaba Cloud", Product: "SLS", Version: "1.0",
		EventIDKeys: []string{"eventName"}, EventNameKeys: []string{"eventName"}})
}

func BenchmarkEncodeRFC5424LEEF(b *testing.B) {
	benchEncode(b, Options{Body: BodyLEEF, Vendor: "Alibaba Cloud", Product: "SLS", Version: "1.0",
		EventIDKeys: []string{"eventName"}})
}

func BenchmarkEncodeRFC3164KV(b *testing.B) { benchEncode(b, Options{Syntax: SyntaxRFC3164}) }

// Everything on: mapped header fields, structured data, origin, a time
// zone with an offset, BOM.
func BenchmarkEncodeRFC5424KVMapped(b *testing.B) {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		b.Fatal(err)
	}
	benchEncode(b, Options{
		Location: loc, BOM: true, Origin: true,
		SeverityKeys: []string{"errorCode"}, HostnameKeys: []string{"__tag__:__hostname__"},
		AppNameKeys: []string{"__topic__"}, MsgIDKeys: []string{"eventName"},
		SDID: "fields@32473", SDKeys: []string{"sourceIpAddress", "userIdentity.userName"},
	})
}
