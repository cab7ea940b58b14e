package slsapi

import (
	"context"
	"errors"
	"strings"
	"testing"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

func TestSigningFor(t *testing.T) {
	for _, tc := range []struct {
		sig      Signing
		endpoint string
		version  sls.AuthVersionType
		region   string
		err      string
	}{
		// The SDK's default: v1, but v4 for -acdr-ut- regions.
		{Signing{}, "https://cn-hangzhou-intranet.log.aliyuncs.com", sls.AuthV1, "", ""},
		{Signing{}, "http://127.0.0.1:8080", sls.AuthV1, "", ""},
		{Signing{}, "https://xx-test-acdr-ut-1-intranet.log.aliyuncs.com", sls.AuthV4, "xx-test-acdr-ut-1", ""},
		{Signing{Version: "v1"}, "https://xx-test-acdr-ut-1-intranet.log.aliyuncs.com", sls.AuthV1, "", ""},
		// v4: the region set, else the endpoint's.
		{Signing{Version: "v4"}, "https://cn-hangzhou-intranet.log.aliyuncs.com", sls.AuthV4, "cn-hangzhou", ""},
		{Signing{Version: "v4"}, "https://ap-southeast-1.log.aliyuncs.com:443", sls.AuthV4, "ap-southeast-1", ""},
		{Signing{Version: "v4"}, "cn-shanghai-share.log.aliyuncs.com", sls.AuthV4, "cn-shanghai", ""},
		{Signing{Version: "v4", Region: "cn-beijing"}, "https://cn-hangzhou.log.aliyuncs.com", sls.AuthV4, "cn-beijing", ""},
		{Signing{Version: "v4", Region: "cn-hangzhou"}, "http://127.0.0.1:8080", sls.AuthV4, "cn-hangzhou", ""},
		{Signing{Version: "v4"}, "http://127.0.0.1:8080", "", "", "region of SLS endpoint http://127.0.0.1:8080"},
		{Signing{Version: "v4"}, "https://sls.example.com", "", "", "set SLS_REGION"},
		{Signing{Version: "v2"}, "https://cn-hangzhou.log.aliyuncs.com", "", "", `unknown SLS signature version "v2"`},
	} {
		v, region, err := tc.sig.For(tc.endpoint)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%+v for %s: %v, want an error saying %q", tc.sig, tc.endpoint, err, tc.err)
		case tc.err == "" && (err != nil || v != tc.version || region != tc.region):
			t.Errorf("%+v for %s: %s %q %v, want %s %q", tc.sig, tc.endpoint, v, region, err, tc.version, tc.region)
		}
	}
	var re *RegionError
	if _, _, err := (Signing{Version: "v4"}).For("http://127.0.0.1:1"); !errors.As(err, &re) || re.Endpoint != "http://127.0.0.1:1" {
		t.Errorf("want a *RegionError naming the endpoint, got %v", err)
	}
}

func TestCheckRegion(t *testing.T) {
	for _, ok := range []string{"cn-hangzhou", "ap-southeast-1", "cn-shanghai-finance-1", "us-west-1"} {
		if err := CheckRegion(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "hangzhou", "CN-HANGZHOU", "cn_hangzhou", "-cn", "cn-", "cn hangzhou", strings.Repeat("a-", 40) + "a"} {
		if CheckRegion(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestV4AgainstTheEmulator: with v4 the Client signs SLS4-HMAC-SHA256 for
// its region, which the emulator verifies: the right region is served, a
// wrong one is 401 SignatureNotMatch (v1 has no region to get wrong), and
// an endpoint without a region is refused before any request.
func TestV4AgainstTheEmulator(t *testing.T) {
	emu, c := emulator(t)
	emu.SetRegion("cn-hangzhou")
	ctx := context.Background()
	for _, tc := range []struct {
		sig  Signing
		code string // "" for success
	}{
		{Signing{}, ""},
		{Signing{Version: SignatureV1}, ""},
		{Signing{Version: SignatureV4, Region: "cn-hangzhou"}, ""},
		{Signing{Version: SignatureV4, Region: "cn-shanghai"}, "SignatureNotMatch"},
	} {
		client, err := New(c.Endpoint(), creds, NewTransport(local(c.Endpoint())).WithSigning(tc.sig))
		if err != nil {
			t.Fatal(err)
		}
		ids, err := client.ShardIDs(ctx, "proj", "store")
		var ce *CodeError
		switch {
		case tc.code == "" && (err != nil || len(ids) != 2):
			t.Errorf("%+v: %v %v, want the two shards", tc.sig, ids, err)
		case tc.code != "" && (!errors.As(err, &ce) || ce.Code != tc.code):
			t.Errorf("%+v: %v, want %s", tc.sig, err, tc.code)
		}
	}
	_, err := New(c.Endpoint(), creds, NewTransport(local(c.Endpoint())).WithSigning(Signing{Version: SignatureV4}))
	var re *RegionError
	if !errors.As(err, &re) {
		t.Errorf("v4 without a region for %s: %v, want a *RegionError", c.Endpoint(), err)
	}

	// The log reader's SDK client, v4 for an endpoint without a region: the
	// Transport refuses its requests, the *RegionError in their Call.
	noRegion := NewTransport(local(c.Endpoint())).WithSigning(Signing{Version: SignatureV4})
	call := &Call{}
	sdk0 := NewSDK(c.Endpoint(), creds, noRegion.Signing(), ctxTransport{ctx: WithCall(ctx, call), base: noRegion}, CallTimeout, CallTimeout)
	if _, err := sdk0.GetCursor("proj", "store", 0, "begin"); err == nil || !errors.As(call.Refused(), &re) {
		t.Errorf("v4 without a region: %v, refused %v; want the request refused with a *RegionError", err, call.Refused())
	}

	// The SDK client of the log reader signs the same way.
	sdk := NewSDK(c.Endpoint(), creds, Signing{Version: SignatureV4, Region: "cn-hangzhou"}, NewTransport(local(c.Endpoint())), CallTimeout, CallTimeout)
	if sdk.AuthVersion != sls.AuthV4 || sdk.Region != "cn-hangzhou" {
		t.Fatalf("NewSDK: auth %s region %q", sdk.AuthVersion, sdk.Region)
	}
	cursor, err := sdk.GetCursor("proj", "store", 0, "begin")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sdk.PullLogsV2(&sls.PullLogRequest{Project: "proj", Logstore: "store", ShardID: 0, Cursor: cursor, LogGroupMaxCount: 10}); err != nil {
		t.Errorf("PullLogs signed v4: %v", err)
	}
}
