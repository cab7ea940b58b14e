package slsemu

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

func TestNotExistErrors(t *testing.T) {
	_, addr := startServer(t, 2)
	c := newClient(t, addr, longAK, longSecret, "")
	begin := EncodeCursor(CursorBase)

	type call func(project, logstore string, shard int) error
	calls := map[string]call{
		"ListShards": func(p, l string, _ int) error { _, err := c.ListShards(p, l); return err },
		"GetCursor":  func(p, l string, sh int) error { _, err := c.GetCursor(p, l, sh, "begin"); return err },
		"PullLogs":   func(p, l string, sh int) error { _, _, err := c.PullLogs(p, l, sh, begin, "", 10); return err },
		"PutLogs":    func(p, l string, _ int) error { return c.PutLogs(p, l, testGroup(0)) },
		"GetCursorTime": func(p, l string, sh int) error {
			_, err := c.GetCursorTime(p, l, sh, begin)
			return err
		},
	}
	for name, do := range calls {
		t.Run(name, func(t *testing.T) {
			se := wantSLSError(t, do("nosuchproject", testLogstore, 0), "ProjectNotExist", 404)
			if se.Message != "The Project does not exist: nosuchproject" {
				t.Errorf("message = %q", se.Message)
			}
			wantSLSError(t, do(testProject, "nosuchstore", 0), "LogStoreNotExist", 404)
			if name != "ListShards" && name != "PutLogs" {
				wantSLSError(t, do(testProject, testLogstore, 2), "ShardNotExist", 400)
				wantSLSError(t, do(testProject, testLogstore, -1), "ShardNotExist", 400)
			}
		})
	}
}

func TestAuthentication(t *testing.T) {
	s, addr := startServer(t, 1)
	list := func(c *sls.Client) error {
		_, err := c.ListShards(testProject, testLogstore)
		return err
	}

	if err := list(newClient(t, addr, stsAK, stsSecret, stsToken)); err != nil {
		t.Fatalf("STS credential with its token: %v", err)
	}
	if err := newClient(t, addr, stsAK, stsSecret, stsToken).PutLogs(testProject, testLogstore, testGroup(0)); err != nil {
		t.Fatalf("STS credential PutLogs: %v", err)
	}
	if err := list(newClient(t, addr, longAK, longSecret, "")); err != nil {
		t.Fatalf("long-term credential: %v", err)
	}

	cases := []struct {
		name                string
		ak, secret, token   string
		code                string
		status              int32
		wantMessageContains string
	}{
		{"unknown AccessKeyId", "LTAI-unknown", longSecret, "", "Unauthorized", 401, "AccessKeyId not found: LTAI-unknown"},
		{"STS without token", stsAK, stsSecret, "", "Unauthorized", 401, stsAK},
		{"STS with wrong token", stsAK, stsSecret, "wrong-token", "Unauthorized", 401, stsAK},
		{"long-term with a token", longAK, longSecret, stsToken, "Unauthorized", 401, longAK},
		{"wrong secret", longAK, "not-the-secret", "", "SignatureNotMatch", 401, longAK},
		{"STS wrong secret", stsAK, "not-the-secret", stsToken, "SignatureNotMatch", 401, stsAK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, addr, tc.ak, tc.secret, tc.token)
			se := wantSLSError(t, list(c), tc.code, tc.status)
			if !strings.Contains(se.Message, tc.wantMessageContains) {
				t.Errorf("message %q does not contain %q", se.Message, tc.wantMessageContains)
			}
			// Writes are refused the same way.
			wantSLSError(t, c.PutLogs(testProject, testLogstore, testGroup(0)), tc.code, tc.status)
		})
	}

	t.Run("skewed clock", func(t *testing.T) {
		for _, skew := range []time.Duration{-16 * time.Minute, 16 * time.Minute} {
			rt := resigning(dialTo(t, addr), longAK, longSecret, time.Now().Add(skew))
			c := newClientWith(t, rt, longAK, longSecret, "")
			wantSLSError(t, list(c), "RequestTimeExpired", 400)
		}
		// Within 15 minutes the re-signed request is accepted, which shows
		// the re-signing itself is sound.
		rt := resigning(dialTo(t, addr), longAK, longSecret, time.Now().Add(-10*time.Minute))
		if err := list(newClientWith(t, rt, longAK, longSecret, "")); err != nil {
			t.Fatalf("10 minutes of skew: %v", err)
		}
	})

	t.Run("tampered body", func(t *testing.T) {
		c := newClientWith(t, tampering(dialTo(t, addr)), longAK, longSecret, "")
		before := s.Requests(OpPutLogs)
		wantSLSError(t, c.PutLogs(testProject, testLogstore, testGroup(0)), "ParameterInvalid", 400)
		if n := s.Requests(OpPutLogs) - before; n != 1 {
			t.Errorf("a 400 was tried %d times", n)
		}
	})
}

// TestRawErrorResponse checks the wire format of an error without the SDK.
func TestRawErrorResponse(t *testing.T) {
	_, addr := startServer(t, 1)
	resp, err := http.Get("http://" + addr + "/logstores/store/shards")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 400 || resp.Header.Get("x-log-requestid") == "" ||
		resp.Header.Get("Content-Type") != "application/json" ||
		string(body) != `{"errorCode":"MissingDate","errorMessage":"Date does not exist in http header."}` {
		t.Fatalf("got %d %v %s", resp.StatusCode, resp.Header, body)
	}
}

func TestInjectedFaults(t *testing.T) {
	s, addr := startServer(t, 1)
	c := newClient(t, addr, longAK, longSecret, "")
	if _, err := s.Append(testProject, testLogstore, 0, testGroup(0), time.Now()); err != nil {
		t.Fatal(err)
	}
	begin := EncodeCursor(CursorBase)

	t.Run("GET retried on 5xx", func(t *testing.T) {
		s.InjectFault(Fault{Op: OpPullLogs, Status: 500, Code: "InternalServerError", Message: "boom", Times: 1})
		before := s.Requests(OpPullLogs)
		gl, _, err := c.PullLogs(testProject, testLogstore, 0, begin, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(gl.LogGroups) != 1 {
			t.Fatalf("got %d groups after the retry", len(gl.LogGroups))
		}
		if n := s.Requests(OpPullLogs) - before; n != 2 {
			t.Fatalf("PullLogs served %d times, want 2 (one fault, one retry)", n)
		}
	})

	t.Run("4xx not retried", func(t *testing.T) {
		s.InjectFault(Fault{Op: OpGetCursor, Status: 403, Code: "ReadQuotaExceed", Message: "slow down"})
		before := s.Requests(OpGetCursor)
		_, err := c.GetCursor(testProject, testLogstore, 0, "end")
		se := wantSLSError(t, err, "ReadQuotaExceed", 403)
		if se.Message != "slow down" {
			t.Errorf("message = %q", se.Message)
		}
		if n := s.Requests(OpGetCursor) - before; n != 1 {
			t.Fatalf("GetCursor served %d times, want 1", n)
		}
		if _, err := c.GetCursor(testProject, testLogstore, 0, "end"); err != nil {
			t.Fatalf("fault outlived its Times: %v", err)
		}
	})

	t.Run("POST not retried on 504", func(t *testing.T) {
		s.InjectFault(Fault{Op: OpPutLogs, Status: 504, Code: "ServerBusy"})
		wantSLSError(t, c.PutLogs(testProject, testLogstore, testGroup(1)), "ServerBusy", 504)
	})

	t.Run("filters", func(t *testing.T) {
		s.InjectFault(Fault{Op: OpListShards, Logstore: "other", Status: 500, Times: -1})
		if _, err := c.ListShards(testProject, testLogstore); err != nil {
			t.Fatalf("fault for another logstore applied: %v", err)
		}
		s.ClearFaults()
	})

	t.Run("GET retries give up", func(t *testing.T) {
		s.InjectFault(Fault{Op: OpListShards, Status: 503, Code: "ServerBusy", Times: -1})
		defer s.ClearFaults()
		c := newClient(t, addr, longAK, longSecret, "")
		c.RetryTimeOut = 300 * time.Millisecond
		_, err := c.ListShards(testProject, testLogstore)
		var se *sls.Error
		if err == nil || !strings.Contains(err.Error(), "ServerBusy") {
			t.Fatalf("err = %v, want the last ServerBusy mentioned", err)
		}
		// The SDK wraps the last error in a ClientError once the retry
		// deadline passes: the injected status is no longer visible.
		if errors.As(err, &se) && se.HTTPCode == 503 {
			t.Fatalf("err = %+v: expected the SDK to hide the 503 after retrying", se)
		}
	})

	t.Run("delay only", func(t *testing.T) {
		s.InjectFault(Fault{Op: OpGetCursor, Delay: 50 * time.Millisecond})
		start := time.Now()
		if _, err := c.GetCursor(testProject, testLogstore, 0, "begin"); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 50*time.Millisecond {
			t.Fatalf("delayed request took %v", d)
		}
	})
}
