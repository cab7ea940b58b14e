package e2e

import (
	"encoding/base64"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"sls2siem/internal/localcloud/fcemu"
)

// closedPort returns a loopback port nobody listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// TestBadInputFailsLoudly checks, under both contracts, that bad input ends
// as an invocation error naming what is wrong, never as a success with
// logs missing, and that an empty range is a success with nothing sent.
func TestBadInputFailsLoudly(t *testing.T) {
	for _, contract := range []fcemu.Contract{fcemu.ContractGo1, fcemu.ContractCustom} {
		t.Run(string(contract), func(t *testing.T) {
			c := newCloud(t)
			port := closedPort(t)
			env := []string{"SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT=" + strconv.Itoa(port)}
			fn := c.start(t, contract, c.roleCredentials(), fcemu.Config{Timeout: 20 * time.Second, Env: env})
			begin, end := c.shardRange(t, 0)

			malformed, err := os.ReadFile("../../testdata/events/malformed.json")
			if err != nil {
				t.Fatal(err)
			}
			cases := map[string]struct {
				event []byte
				want  string
			}{
				"malformed event": {malformed, "not valid JSON"},
				"bogus cursor":    {c.event(0, base64.StdEncoding.EncodeToString([]byte("not-a-cursor")), end), "its cursors are not SLS cursors"},
				"no receiver":     {c.event(0, begin, end), "connect to syslog receiver 127.0.0.1:" + strconv.Itoa(port)},
				"unknown shard":   {c.event(7, begin, end), "ShardNotExist"},
			}
			for _, field := range []string{"projectName", "logstoreName", "endpoint", "shardId", "beginCursor", "endCursor"} {
				cases["missing "+field] = struct {
					event []byte
					want  string
				}{withoutSourceField(t, c.event(0, begin, end), field), "field source." + field + " is missing"}
			}
			for name, tc := range cases {
				t.Run(name, func(t *testing.T) {
					res, err := fn.Invoke(t.Context(), tc.event)
					if err != nil {
						t.Fatal(err)
					}
					if res.Err == nil {
						t.Fatalf("invocation succeeded with %s", res.Payload)
					}
					if !strings.Contains(res.Err.Message, tc.want) {
						t.Errorf("error %q does not say %q", res.Err.Message, tc.want)
					}
				})
			}

			t.Run("empty range", func(t *testing.T) {
				res, err := fn.Invoke(t.Context(), c.event(0, end, end))
				if err != nil {
					t.Fatal(err)
				}
				if res.Err != nil {
					t.Fatalf("empty range failed: %v", res.Err)
				}
				if s := decodeSummary(t, res.Payload); s.Logs != 0 || s.LogGroups != 0 {
					t.Errorf("empty range shipped %+v", s)
				}
			})

			t.Run("wrong secret", func(t *testing.T) {
				creds := c.roleCredentials()
				creds.AccessKeySecret = "not-the-secret"
				bad := c.start(t, contract, creds, fcemu.Config{Timeout: 20 * time.Second, Env: env})
				res, err := bad.Invoke(t.Context(), c.event(0, begin, end))
				if err != nil {
					t.Fatal(err)
				}
				if res.Err == nil {
					t.Fatalf("invocation with a wrong secret succeeded: %s", res.Payload)
				}
				for _, want := range []string{"SignatureNotMatch", "HTTP 401"} {
					if !strings.Contains(res.Err.Message, want) {
						t.Errorf("error %q does not say %q", res.Err.Message, want)
					}
				}
			})
		})
	}
}

// withoutSourceField removes source.<field> from an event.
func withoutSourceField(t *testing.T, event []byte, field string) []byte {
	t.Helper()
	s := string(event)
	i := strings.Index(s, `"`+field+`":`)
	if i < 0 {
		t.Fatalf("event has no %s", field)
	}
	j := i + strings.IndexAny(s[i:], ",}")
	if s[j] == ',' {
		j++
	} else if s[i-1] == ',' {
		i--
	}
	return []byte(s[:i] + s[j:])
}
