package logstore

import (
	"fmt"
	"strings"
	"testing"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/localcloud/sample"
)

// sampleList is the sample logstore's shard 0 as one LogGroupList.
func sampleList(t testing.TB) []byte {
	t.Helper()
	ls, err := sample.Load("../../testdata/logstore")
	if err != nil {
		t.Fatal(err)
	}
	list := &sls.LogGroupList{}
	for _, shard := range ls.Shards {
		for _, g := range shard {
			list.LogGroups = append(list.LogGroups, g.SLS())
		}
	}
	raw, err := proto.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// describe renders groups field by field, so that two decodes compare
// exactly (nil and empty alike where the wire cannot tell them apart).
func describe(groups []*sls.LogGroup) string {
	var b strings.Builder
	opt := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return fmt.Sprintf("%q", *p)
	}
	for _, g := range groups {
		fmt.Fprintf(&b, "group cat=%s topic=%s source=%s uuid=%s\n", opt(g.Category), opt(g.Topic), opt(g.Source), opt(g.MachineUUID))
		for _, t := range g.LogTags {
			fmt.Fprintf(&b, " tag %s=%s\n", opt(t.Key), opt(t.Value))
		}
		for _, l := range g.Logs {
			ns := "<nil>"
			if l.TimeNs != nil {
				ns = fmt.Sprint(*l.TimeNs)
			}
			fmt.Fprintf(&b, " log time=%d ns=%s\n", l.GetTime(), ns)
			for _, c := range l.Contents {
				fmt.Fprintf(&b, "  %s=%s\n", opt(c.Key), opt(c.Value))
			}
		}
	}
	return b.String()
}

// differential decodes raw with the SDK and with decoder d and reports
// any difference; both must agree on whether raw is valid.
func differential(t *testing.T, d *decoder, raw []byte) {
	t.Helper()
	var list sls.LogGroupList
	sdkErr := proto.Unmarshal(raw, &list)
	ours, err := d.decode(raw)
	switch {
	case sdkErr != nil && err == nil:
		t.Fatalf("the SDK rejects %x (%v), the decoder accepts it", raw, sdkErr)
	case sdkErr == nil && err != nil:
		t.Fatalf("the SDK accepts %x, the decoder rejects it: %v", raw, err)
	case err != nil:
		if !strings.Contains(err.Error(), "malformed LogGroupList") {
			t.Fatalf("error %q does not say what is wrong", err)
		}
		return
	}
	if got, want := describe(ours), describe(list.LogGroups); got != want {
		t.Fatalf("decoder and SDK differ on %x:\nours:\n%s\nSDK:\n%s", raw, got, want)
	}
}

func TestDecoderMatchesTheSDKOnTheSample(t *testing.T) {
	raw := sampleList(t)
	var d decoder
	differential(t, &d, raw)
	// Twice with the same decoder: recycled memory must not leak between
	// batches.
	differential(t, &d, raw[:0])
	differential(t, &d, raw)
}

func TestDecoderRejectsMalformedInput(t *testing.T) {
	raw := sampleList(t)
	var d decoder
	for _, cut := range []int{1, 2, 3, 10, 100, len(raw) / 2, len(raw) - 1} {
		differential(t, &d, raw[:cut])
	}
	for _, bad := range [][]byte{
		{0x0a, 0x02, 0x0a, 0x00},             // a log without time
		{0x0a, 0x04, 0x0a, 0x02, 0x12, 0x00}, // a content without key and value
		{0x08, 0x01},                         // field 1 as a varint
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	} {
		differential(t, &d, bad)
	}
}

func FuzzDecoderMatchesTheSDK(f *testing.F) {
	raw := sampleList(f)
	f.Add(raw[:2000])
	f.Add([]byte{0x0a, 0x02, 0x0a, 0x00})
	one := &sls.LogGroupList{LogGroups: []*sls.LogGroup{{
		Topic: proto.String("t"), Source: proto.String("s"), Category: proto.String("c"), MachineUUID: proto.String("u"),
		LogTags: []*sls.LogTag{{Key: proto.String("k"), Value: proto.String("v")}},
		Logs: []*sls.Log{{Time: proto.Uint32(1), TimeNs: proto.Uint32(2), Contents: []*sls.LogContent{
			{Key: proto.String("a"), Value: proto.String(strings.Repeat("x", 300))},
		}}},
	}}}
	b, _ := proto.Marshal(one)
	f.Add(b)
	var d decoder
	f.Fuzz(func(t *testing.T, raw []byte) {
		differential(t, &d, raw)
	})
}
