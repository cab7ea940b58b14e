package slsemu

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	consumer "github.com/aliyun/aliyun-log-go-sdk/consumer"
)

const testRegion = "cn-hangzhou"

// newV4Client is newClient signing with V4 (SLS4-HMAC-SHA256) for region,
// the way the Go SDK v0.1.127 does with AuthVersion v4.
func newV4Client(t testing.TB, rt http.RoundTripper, ak, secret, token, region string) *sls.Client {
	t.Helper()
	c := newClientWith(t, rt, ak, secret, token)
	c.AuthVersion = sls.AuthV4
	c.Region = region
	return c
}

// TestSignatureV4GoSDK drives every emulated operation with the Go SDK
// signing V4, with a long-term and an STS credential.
func TestSignatureV4GoSDK(t *testing.T) {
	for _, cred := range []Credential{{longAK, longSecret, ""}, {stsAK, stsSecret, stsToken}} {
		t.Run(cred.AccessKeyID, func(t *testing.T) {
			s, addr := startServer(t, 2)
			c := newV4Client(t, dialTo(t, addr), cred.AccessKeyID, cred.AccessKeySecret, cred.SecurityToken, testRegion)

			var want [2][]*sls.LogGroup
			for i, ct := range []int{sls.Compress_LZ4, sls.Compress_ZSTD, sls.Compress_None, sls.Compress_LZ4} {
				lg := testGroup(i)
				if err := c.PutLogsWithCompressType(testProject, testLogstore, lg, ct); err != nil {
					t.Fatalf("PutLogs %d: %v", i, err)
				}
				want[i%2] = append(want[i%2], lg)
			}
			shards, err := c.ListShards(testProject, testLogstore)
			if err != nil || len(shards) != 2 {
				t.Fatalf("ListShards = %v, %v", shards, err)
			}
			for shard := range 2 {
				got := pullAll(t, c, shard, sls.Compress_LZ4)
				if len(got) != len(want[shard]) {
					t.Fatalf("shard %d: pulled %d groups, want %d", shard, len(got), len(want[shard]))
				}
				for i := range got {
					sameGroup(t, got[i], want[shard][i])
				}
				begin, _ := s.Cursor(testProject, testLogstore, shard, "begin")
				if _, err := c.GetCursorTime(testProject, testLogstore, shard, begin); err != nil {
					t.Fatalf("GetCursorTime: %v", err)
				}
			}

			if err := c.CreateConsumerGroup(testProject, testLogstore, sls.ConsumerGroup{ConsumerGroupName: testGroupName, Timeout: 60}); err != nil {
				t.Fatalf("CreateConsumerGroup: %v", err)
			}
			if got, err := c.HeartBeat(testProject, testLogstore, testGroupName, "w", []int{}); err != nil || len(got) != 2 {
				t.Fatalf("HeartBeat = %v, %v; want both shards", got, err)
			}
			end, _ := s.Cursor(testProject, testLogstore, 1, "end")
			if err := c.UpdateCheckpoint(testProject, testLogstore, testGroupName, "w", 1, end, false); err != nil {
				t.Fatalf("UpdateCheckpoint: %v", err)
			}
			cps, err := c.GetCheckpoint(testProject, testLogstore, testGroupName)
			if err != nil || len(cps) != 2 || cps[1].CheckPoint != end {
				t.Fatalf("GetCheckpoint = %+v, %v; want shard 1 at %s", cps, err, end)
			}
		})
	}
}

// TestSignatureV4Refusals: what a V4 request is refused for, and why.
func TestSignatureV4Refusals(t *testing.T) {
	s, addr := startServer(t, 1)
	list := func(c *sls.Client) error { _, err := c.ListShards(testProject, testLogstore); return err }
	tr := dialTo(t, addr)

	wantSLSError(t, list(newV4Client(t, tr, longAK, "not-the-secret", "", testRegion)), "SignatureNotMatch", 401)
	wantSLSError(t, list(newV4Client(t, tr, stsAK, "not-the-secret", stsToken, testRegion)), "SignatureNotMatch", 401)
	wantSLSError(t, list(newV4Client(t, tr, "LTAI-unknown", longSecret, "", testRegion)), "Unauthorized", 401)
	wantSLSError(t, list(newV4Client(t, tr, stsAK, stsSecret, "", testRegion)), "Unauthorized", 401)

	t.Run("region", func(t *testing.T) {
		s.SetRegion("cn-shanghai")
		defer s.SetRegion("")
		se := wantSLSError(t, list(newV4Client(t, tr, longAK, longSecret, "", testRegion)), "SignatureNotMatch", 401)
		if !strings.Contains(se.Message, "cn-shanghai") {
			t.Errorf("message %q does not name the region", se.Message)
		}
		if err := list(newV4Client(t, tr, longAK, longSecret, "", "cn-shanghai")); err != nil {
			t.Fatalf("the server's own region: %v", err)
		}
	})

	t.Run("skewed clock", func(t *testing.T) {
		for _, skew := range []time.Duration{-16 * time.Minute, 16 * time.Minute} {
			c := newV4Client(t, resigningV4(tr, longAK, longSecret, testRegion, time.Now().Add(skew)), longAK, longSecret, "", testRegion)
			wantSLSError(t, list(c), "RequestTimeExpired", 400)
		}
		c := newV4Client(t, resigningV4(tr, longAK, longSecret, testRegion, time.Now().Add(-10*time.Minute)), longAK, longSecret, "", testRegion)
		if err := list(c); err != nil {
			t.Fatalf("10 minutes of skew: %v", err)
		}
	})

	t.Run("tampered body", func(t *testing.T) {
		c := newV4Client(t, tampering(tr), longAK, longSecret, "", testRegion)
		se := wantSLSError(t, c.PutLogs(testProject, testLogstore, testGroup(0)), "ParameterInvalid", 400)
		if !strings.Contains(se.Message, "x-log-content-sha256") {
			t.Errorf("message = %q", se.Message)
		}
	})
}

// TestSDKConsumerLibraryV4 runs the SDK's consumer library signing V4: it
// consumes the shard once and saves its checkpoint at the end.
func TestSDKConsumerLibraryV4(t *testing.T) {
	s, addr := startServer(t, 1)
	var want []string
	for i := range 5 {
		lg := testGroup(i)
		if _, err := s.Append(testProject, testLogstore, 0, lg, time.Now()); err != nil {
			t.Fatal(err)
		}
		want = append(want, lg.GetTopic())
	}
	w := startSDKConsumer(t, addr, "v4", func(cfg *consumer.LogHubConfig) {
		cfg.AuthVersion = sls.AuthV4
		cfg.Region = testRegion
	})
	defer w.worker.StopAndWait()
	end, _ := s.Cursor(testProject, testLogstore, 0, "end")
	waitState(t, s, "the checkpoint at the shard's end", func(st ConsumerGroupState) bool { return st.Checkpoints[0] == end })
	if got := strings.Join(w.consumed()[0], ","); got != strings.Join(want, ",") {
		t.Fatalf("consumed %s, want %s", got, strings.Join(want, ","))
	}
}

// resigningV4 returns a transport that re-signs each request with V4 as the
// SDK would at the given time, to imitate a client with a skewed clock.
func resigningV4(base http.RoundTripper, ak, secret, region string, at time.Time) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		var body []byte
		if r.Body != nil && r.Body != http.NoBody {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				return nil, err
			}
			body = b
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		h := map[string]string{}
		for k, v := range r.Header {
			switch k {
			case "Authorization", "X-Log-Date", "X-Log-Content-Sha256", "Content-Length":
			default:
				h[k] = v[0]
			}
		}
		h["x-log-date"] = at.UTC().Format("20060102T150405Z")
		if err := sls.NewSignerV4(ak, secret, region).Sign(r.Method, r.URL.RequestURI(), h, body); err != nil {
			return nil, err
		}
		r.Header = make(http.Header)
		for k, v := range h {
			r.Header.Set(k, v)
		}
		return base.RoundTrip(r)
	})
}

// v1Request is a raw request signed with the Go SDK's v1 signer, to which a
// test may then do what some client or proxy does after signing.
type v1Request struct {
	method, uri string // uri as signed: path and query
	body        []byte
	headers     map[string]string
}

// newV1Request signs method uri (and body, sent as JSON) with the long-term
// credential and the given Date.
func newV1Request(t *testing.T, method, uri string, body []byte, date time.Time) *v1Request {
	t.Helper()
	h := map[string]string{
		"x-log-apiversion":  "0.6.0",
		"x-log-bodyrawsize": "0",
		"Date":              date.UTC().Format(http.TimeFormat),
	}
	if body != nil {
		h["Content-Type"] = "application/json"
	}
	if err := sls.NewSignerV1(longAK, longSecret).Sign(method, uri, h, body); err != nil {
		t.Fatal(err)
	}
	return &v1Request{method: method, uri: uri, body: body, headers: h}
}

// send sends the request to the emulator at addr, with sentURI as the
// request URI (the signed one if empty) and extra headers set after
// signing, and returns the status and the decoded error (zero on success).
func (v *v1Request) send(t *testing.T, addr, sentURI string, extra map[string]string) (int, errorBody, []byte) {
	t.Helper()
	if sentURI == "" {
		sentURI = v.uri
	}
	req, err := http.NewRequest(v.method, "http://"+addr+sentURI, bytes.NewReader(v.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = testProject + "." + testEndpoint
	for k, val := range v.headers {
		req.Header.Set(k, val)
	}
	for k, val := range extra {
		req.Header.Set(k, val)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var eb errorBody
	if resp.StatusCode != http.StatusOK {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" || json.Unmarshal(b, &eb) != nil || eb.Code == "" {
			t.Fatalf("%s %s: %d with %s body %q, want an SLS JSON error", v.method, sentURI, resp.StatusCode, ct, b)
		}
		if resp.Header.Get("x-log-requestid") == "" {
			t.Errorf("%s %s: error without x-log-requestid", v.method, sentURI)
		}
	}
	return resp.StatusCode, eb, b
}

func wantStatus(t *testing.T, what string, status int, eb errorBody, wantStatus int, wantCode string) {
	t.Helper()
	if status != wantStatus || eb.Code != wantCode {
		t.Errorf("%s: %d %s (%s), want %d %s", what, status, eb.Code, eb.Message, wantStatus, wantCode)
	}
}

// TestSignatureV1Rules checks the v1 rules of the API reference against raw
// requests signed by the Go SDK's signer.
func TestSignatureV1Rules(t *testing.T) {
	s, addr := startServer(t, 1)
	if _, err := s.Append(testProject, testLogstore, 0, testGroup(0), time.Now()); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	shards := "/logstores/" + testLogstore + "/shards"

	t.Run("headers outside the signature", func(t *testing.T) {
		r := newV1Request(t, "GET", shards, nil, now)
		st, eb, _ := r.send(t, addr, "", map[string]string{
			"User-Agent": "another-client/1.0", "Accept": "application/json", "Accept-Encoding": "lz4",
			"X-Forwarded-For": "10.0.0.1", "Connection": "keep-alive",
		})
		wantStatus(t, "unsigned headers added after signing", st, eb, 200, "")
		st, eb, _ = r.send(t, addr, "", map[string]string{"x-log-extra": "1"})
		wantStatus(t, "an x-log- header added after signing", st, eb, 401, "SignatureNotMatch")
		st, eb, _ = r.send(t, addr, "", map[string]string{"x-acs-extra": "1"})
		wantStatus(t, "an x-acs- header added after signing", st, eb, 401, "SignatureNotMatch")
		st, eb, _ = r.send(t, addr, "", map[string]string{"Date": now.Add(time.Second).UTC().Format(http.TimeFormat)})
		wantStatus(t, "Date changed after signing", st, eb, 401, "SignatureNotMatch")
	})

	t.Run("x-log-date", func(t *testing.T) {
		// Signed with a Date an hour off: x-log-date, outside the
		// signature, is the time checked.
		r := newV1Request(t, "GET", shards, nil, now.Add(-time.Hour))
		st, eb, _ := r.send(t, addr, "", nil)
		wantStatus(t, "Date an hour off", st, eb, 400, "RequestTimeExpired")
		st, eb, _ = r.send(t, addr, "", map[string]string{"x-log-date": now.UTC().Format(http.TimeFormat)})
		wantStatus(t, "x-log-date now", st, eb, 200, "")
		r = newV1Request(t, "GET", shards, nil, now)
		st, eb, _ = r.send(t, addr, "", map[string]string{"x-log-date": now.Add(-time.Hour).UTC().Format(http.TimeFormat)})
		wantStatus(t, "x-log-date an hour off", st, eb, 400, "RequestTimeExpired")
		st, eb, _ = r.send(t, addr, "", map[string]string{"x-log-date": "yesterday"})
		wantStatus(t, "x-log-date malformed", st, eb, 400, "InvalidDateFormat")
		st, eb, _ = r.send(t, addr, "", map[string]string{"Date": "", "x-log-date": now.UTC().Format(http.TimeFormat)})
		wantStatus(t, "x-log-date without Date", st, eb, 400, "MissingDate")
	})

	t.Run("cursor escaping", func(t *testing.T) {
		begin := EncodeCursor(CursorBase)
		escaped := strings.ReplaceAll(begin, "=", "%3D")
		uri := shards + "/0?cursor=" + escaped + "&type=cursor_time"
		r := newV1Request(t, "GET", uri, nil, now)
		for _, sent := range []string{uri, shards + "/0?cursor=" + begin + "&type=cursor_time", shards + "/0?type=cursor_time&cursor=" + escaped} {
			st, eb, body := r.send(t, addr, sent, nil)
			wantStatus(t, sent, st, eb, 200, "")
			if st == 200 && !strings.Contains(string(body), "cursor_time") {
				t.Errorf("%s: body %s", sent, body)
			}
		}
	})

	t.Run("repeated parameter", func(t *testing.T) {
		r := newV1Request(t, "GET", shards+"/0?from=begin&from=end&type=cursor", nil, now)
		st, eb, body := r.send(t, addr, "", nil)
		wantStatus(t, "from twice", st, eb, 200, "")
		if want := `{"cursor":"` + EncodeCursor(CursorBase) + `"}`; st == 200 && string(body) != want {
			t.Errorf("from=begin&from=end answered %s, want the first value's %s", body, want)
		}
	})

	t.Run("boolean case", func(t *testing.T) {
		c := newClient(t, addr, longAK, longSecret, "")
		createGroup(t, c, 60)
		body := []byte(`{"shard":0,"checkpoint":"` + EncodeCursor(CursorBase+1) + `"}`)
		for _, v := range []string{"True", "TRUE", "true", "1"} {
			uri := "/logstores/" + testLogstore + "/consumergroups/" + testGroupName + "?forceSuccess=" + v + "&type=checkpoint"
			st, eb, _ := newV1Request(t, "POST", uri, body, now).send(t, addr, "", nil)
			wantStatus(t, "forceSuccess="+v, st, eb, 200, "")
		}
		for _, v := range []string{"False", "0"} {
			uri := "/logstores/" + testLogstore + "/consumergroups/" + testGroupName + "?forceSuccess=" + v + "&type=checkpoint"
			st, eb, _ := newV1Request(t, "POST", uri, body, now).send(t, addr, "", nil)
			wantStatus(t, "forceSuccess="+v+" without a consumer", st, eb, 400, "ParameterInvalid")
		}
		uri := "/logstores/" + testLogstore + "/consumergroups/" + testGroupName + "?forceSuccess=maybe&type=checkpoint"
		st, eb, _ := newV1Request(t, "POST", uri, body, now).send(t, addr, "", nil)
		wantStatus(t, "forceSuccess=maybe", st, eb, 400, "ParameterInvalid")
	})
}

// TestUnimplementedOperations: operations the emulator does not implement
// answer SLS JSON errors (never HTML, never a crash); the query API answers
// as the service does for a logstore without an index.
func TestUnimplementedOperations(t *testing.T) {
	_, addr := startServer(t, 1)
	now := time.Now()
	c := newClient(t, addr, longAK, longSecret, "")

	_, err := c.GetLogs(testProject, testLogstore, "", now.Add(-time.Hour).Unix(), now.Unix(), "*", 10, 0, false)
	wantSLSError(t, err, "IndexConfigNotExist", 400)
	_, err = c.GetHistograms(testProject, testLogstore, "", now.Add(-time.Hour).Unix(), now.Unix(), "*")
	wantSLSError(t, err, "IndexConfigNotExist", 400)
	_, err = c.GetLogs(testProject, "nosuchstore", "", now.Add(-time.Hour).Unix(), now.Unix(), "*", 10, 0, false)
	wantSLSError(t, err, "LogStoreNotExist", 404)
	_, err = c.GetLogs("nosuchproject", testLogstore, "", now.Add(-time.Hour).Unix(), now.Unix(), "*", 10, 0, false)
	wantSLSError(t, err, "ProjectNotExist", 404)
	_, err = c.GetIndex(testProject, testLogstore)
	wantSLSError(t, err, "ParameterInvalid", 400)
	_, err = c.SplitShard(testProject, testLogstore, 0, "40000000000000000000000000000000")
	wantSLSError(t, err, "ParameterInvalid", 400)
	_, err = c.GetProject(testProject)
	wantSLSError(t, err, "ParameterInvalid", 400)

	for _, op := range []struct{ method, uri, code string }{
		{"POST", "/logstores/" + testLogstore + "/logs", "IndexConfigNotExist"},
		{"GET", "/logs?query=*", "IndexConfigNotExist"},
		{"DELETE", "/logstores/" + testLogstore, "ParameterInvalid"},
		{"GET", "/no/such/path", "ParameterInvalid"},
	} {
		var body []byte
		if op.method == "POST" {
			body = []byte(`{}`)
		}
		st, eb, _ := newV1Request(t, op.method, op.uri, body, now).send(t, addr, "", nil)
		wantStatus(t, op.method+" "+op.uri, st, eb, 400, op.code)
	}

	// The read-only logstore operations are served.
	names, err := c.ListLogStore(testProject)
	if err != nil || len(names) != 1 || names[0] != testLogstore {
		t.Fatalf("ListLogStore = %v, %v", names, err)
	}
	ls, err := c.GetLogStore(testProject, testLogstore)
	if err != nil || ls.Name != testLogstore || ls.ShardCount != 1 {
		t.Fatalf("GetLogStore = %+v, %v", ls, err)
	}
	_, err = c.GetLogStore(testProject, "nosuchstore")
	wantSLSError(t, err, "LogStoreNotExist", 404)
}
