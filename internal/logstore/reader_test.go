package logstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/localcloud/slsemu"
	"sls2siem/internal/secret"
	"sls2siem/internal/slsapi"
	"sls2siem/internal/trust"
)

var sts = secret.Credentials{AccessKeyID: "STS.reader", AccessKeySecret: "reader-secret", SecurityToken: "reader-token"}

// emulator starts the SLS emulator with one logstore holding groups log
// groups of three logs each on shard 0.
func emulator(t *testing.T, groups int) (*slsemu.Server, Range) {
	t.Helper()
	emu := slsemu.New()
	emu.AddCredential(slsemu.Credential{AccessKeyID: sts.AccessKeyID, AccessKeySecret: sts.AccessKeySecret, SecurityToken: sts.SecurityToken})
	endpoint, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	if err := emu.CreateLogstore("proj", "store", 2); err != nil {
		t.Fatal(err)
	}
	for g := 0; g < groups; g++ {
		lg := &sls.LogGroup{Topic: proto.String("t"), Source: proto.String("s")}
		for i := 0; i < 3; i++ {
			lg.Logs = append(lg.Logs, &sls.Log{Time: proto.Uint32(uint32(1732500000 + g)), Contents: []*sls.LogContent{
				{Key: proto.String("n"), Value: proto.String(string(rune('a'+g%26)) + string(rune('0'+i)))},
			}})
		}
		if _, err := emu.Append("proj", "store", 0, lg, time.Unix(int64(1732500000+g), 0)); err != nil {
			t.Fatal(err)
		}
	}
	begin, _ := emu.Cursor("proj", "store", 0, "begin")
	end, _ := emu.Cursor("proj", "store", 0, "end")
	return emu, Range{Endpoint: endpoint, Project: "proj", Logstore: "store", Shard: 0, Begin: begin, End: end}
}

func readAll(ctx context.Context, r *Reader) ([]*sls.LogGroup, int, error) {
	var all []*sls.LogGroup
	pulls := 0
	for {
		b, err := r.Next(ctx)
		if errors.Is(err, ErrDone) {
			return all, pulls, nil
		}
		if err != nil {
			return all, pulls, err
		}
		pulls++
		all = append(all, b.Groups...)
	}
}

func TestReadsTheWholeRangeInOrder(t *testing.T) {
	_, rng := emulator(t, 50)
	r := newTestReader(rng, sts, Options{PullCount: 7})
	groups, pulls, err := readAll(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 50 || pulls != 8 {
		t.Fatalf("read %d groups in %d pulls, want 50 in 8", len(groups), pulls)
	}
	for g, lg := range groups {
		if lg.GetLogs()[0].GetTime() != uint32(1732500000+g) {
			t.Fatalf("group %d out of order", g)
		}
	}
	if r.Cursor() != rng.End {
		t.Errorf("reader stopped at %s, want the end cursor %s", r.Cursor(), rng.End)
	}
}

func TestReadsAPartialRange(t *testing.T) {
	emu, rng := emulator(t, 20)
	from, err := emu.Cursor("proj", "store", 0, "1732500005")
	if err != nil {
		t.Fatal(err)
	}
	rng.End = from
	groups, _, err := readAll(t.Context(), newTestReader(rng, sts, Options{PullCount: 100}))
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 5 {
		t.Fatalf("[begin, cursor of group 5) gave %d groups, want 5", len(groups))
	}
}

func TestEmptyRange(t *testing.T) {
	_, rng := emulator(t, 3)
	rng.Begin = rng.End
	groups, pulls, err := readAll(t.Context(), newTestReader(rng, sts, Options{}))
	if err != nil || len(groups) != 0 || pulls != 0 {
		t.Fatalf("empty range: %d groups, %d pulls, %v", len(groups), pulls, err)
	}
}

func TestErrorsNameTheSLSCode(t *testing.T) {
	_, rng := emulator(t, 3)
	cases := map[string]struct {
		mutate func(*Range, *secret.Credentials)
		code   string
	}{
		"wrong secret":  {func(r *Range, c *secret.Credentials) { c.AccessKeySecret = "wrong" }, "SignatureNotMatch"},
		"wrong token":   {func(r *Range, c *secret.Credentials) { c.SecurityToken = "wrong" }, "Unauthorized"},
		"bad cursor":    {func(r *Range, c *secret.Credentials) { r.Begin = "bm90LWEtY3Vyc29y" }, "InvalidCursor"},
		"no logstore":   {func(r *Range, c *secret.Credentials) { r.Logstore = "nope" }, "LogStoreNotExist"},
		"no project":    {func(r *Range, c *secret.Credentials) { r.Project = "nope" }, "ProjectNotExist"},
		"no such shard": {func(r *Range, c *secret.Credentials) { r.Shard = 9 }, "ShardNotExist"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rng, creds := rng, sts
			tc.mutate(&rng, &creds)
			_, err := newTestReader(rng, creds, Options{}).Next(t.Context())
			var ce *slsapi.CodeError
			if !errors.As(err, &ce) || ce.Code != tc.code {
				t.Fatalf("error %v, want SLS code %s", err, tc.code)
			}
			for _, secret := range []string{sts.AccessKeySecret, sts.SecurityToken, "wrong"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q leaks a credential", err)
				}
			}
		})
	}
}

func TestTransientServerErrorsAreRetried(t *testing.T) {
	emu, rng := emulator(t, 10)
	emu.InjectFault(slsemu.Fault{Op: slsemu.OpPullLogs, Status: 503, Code: "ServerBusy", Times: 2})
	groups, _, err := readAll(t.Context(), newTestReader(rng, sts, Options{}))
	if err != nil || len(groups) != 10 {
		t.Fatalf("after two 503s: %d groups, %v", len(groups), err)
	}
}

func TestDeadlineStopsRetries(t *testing.T) {
	emu, rng := emulator(t, 10)
	emu.InjectFault(slsemu.Fault{Op: slsemu.OpPullLogs, Status: 500, Code: "InternalServerError", Times: -1})
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	_, err := newTestReader(rng, sts, Options{}).Next(ctx)
	if err == nil {
		t.Fatal("pull succeeded against a failing server")
	}
	// The SDK stops retrying by the deadline it was given (it may stop a
	// little earlier, when its next backoff would not fit) and the error
	// carries the server's last answer.
	if msg := err.Error(); !strings.Contains(msg, "InternalServerError") && !strings.Contains(msg, "stopped before the invocation deadline") {
		t.Fatalf("error %q says neither the server's error nor the deadline", err)
	}
}

// localFor admits the emulator at endpoint (http://127.0.0.1:PORT), as
// SLS_ALLOWED_ENDPOINTS=127.0.0.1:PORT does, and no other port.
func localFor(endpoint string) trust.Endpoints {
	e, err := trust.ParseEndpoints(strings.TrimPrefix(endpoint, "http://"), false)
	if err != nil {
		panic(err)
	}
	return e
}

func newTestReader(rng Range, creds secret.Credentials, opts Options) *Reader {
	if opts.Transport == nil {
		opts.Transport = slsapi.NewTransport(localFor(rng.Endpoint))
	}
	return NewReader(rng, creds, opts)
}
