package deadletter

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"sls2siem/internal/slsapi"
	"sls2siem/internal/trust"
)

var allowed = func() trust.Endpoints {
	e, err := trust.ParseEndpoints("127.0.0.1:8080,*.log.aliyuncs.com", false)
	if err != nil {
		panic(err)
	}
	return e
}()

const (
	keyMarker  = "KEYMARKER-0123456789abcdefghijklmnop" // 36 bytes
	prevMarker = "PREVMARKER-0123456789abcdefghijklmno"
	dlStore    = "sls2siem-deadletter"
)

func keys(t *testing.T, current, previous string) Keys {
	t.Helper()
	k, err := NewKeys(current, previous)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func verifier(k Keys) Verifier { return Verifier{Keys: k, Allowed: allowed, Logstore: dlStore} }

func good() Record {
	return Record{State: StateFailed, Endpoint: "http://127.0.0.1:8080", Project: "demo", Logstore: "audit", Shard: 1,
		BeginCursor: slsapi.Cursor(1600000000000000000), EndCursor: slsapi.Cursor(1600000000000000100),
		NextCursor: slsapi.Cursor(1600000000000000040), CursorTime: 1732500000,
		RequestID: "r1", Error: "boom", LogsWritten: 12, LogsConfirmed: 10, Attempts: 3,
		LastTry: time.Unix(1732500000, 0), NextTry: time.Unix(1732500300, 0), Written: time.Unix(1732500000, 123456789)}
}

// contentsOf is the record as written, signed with k.
func contentsOf(r Record, k Keys) [][2]string { return Contents(r.log(dlStore, k)) }

func TestRoundTrip(t *testing.T) {
	k := keys(t, keyMarker, "")
	r := good()
	got, err := Parse(Topic, contentsOf(r, k), verifier(k))
	if err != nil {
		t.Fatal(err)
	}
	if !got.LastTry.Equal(r.LastTry) || !got.NextTry.Equal(r.NextTry) || !got.Written.Equal(r.Written) {
		t.Fatalf("times %v %v %v, want %v %v %v", got.LastTry, got.NextTry, got.Written, r.LastTry, r.NextTry, r.Written)
	}
	got.LastTry, got.NextTry, got.Written = r.LastTry, r.NextTry, r.Written
	if got != r {
		t.Fatalf("got %+v, want %+v", got, r)
	}
}

// TestOnlySignedRecordsAreAccepted: a record is acted on only when its MAC
// verifies under the current or the previous key, for the logstore it is
// read from; any change of any field, resolved records included, makes it
// unsigned.
func TestOnlySignedRecordsAreAccepted(t *testing.T) {
	k := keys(t, keyMarker, "")
	signed := contentsOf(good(), k)
	for i, kv := range signed {
		if kv[0] == fMAC {
			continue
		}
		forged := append([][2]string(nil), signed...)
		forged[i][1] += "0"
		if kv[0] == fState {
			forged[i][1] = StateResolved
		}
		if _, err := Parse(Topic, forged, verifier(k)); !errors.Is(err, ErrUnsigned) {
			t.Errorf("field %s changed: %v, want ErrUnsigned", kv[0], err)
		}
	}
	attacker := keys(t, strings.Repeat("a", 32), "")
	resolved := good()
	resolved.State = StateResolved
	for name, c := range map[string]struct {
		contents [][2]string
		v        Verifier
	}{
		"another key":                  {contentsOf(resolved, attacker), verifier(k)},
		"no mac":                       {signed[:len(signed)-1], verifier(k)},
		"mac not hex":                  {append(append([][2]string(nil), signed[:len(signed)-1]...), [2]string{fMAC, strings.Repeat("z", 64)}), verifier(k)},
		"another dead-letter logstore": {signed, Verifier{Keys: k, Allowed: allowed, Logstore: "other-deadletter"}},
		"no key configured":            {signed, Verifier{Allowed: allowed, Logstore: dlStore}},
	} {
		_, err := Parse(Topic, c.contents, c.v)
		if !errors.Is(err, ErrUnsigned) || !strings.Contains(err.Error(), "SHIP_DEADLETTER_KEY") {
			t.Errorf("%s: %v, want ErrUnsigned naming SHIP_DEADLETTER_KEY", name, err)
		}
	}
}

// TestRotation: records signed with the previous key are accepted while it
// is set; new records are signed with the current one.
func TestRotation(t *testing.T) {
	old := keys(t, prevMarker, "")
	rotated := keys(t, keyMarker, prevMarker)
	after := keys(t, keyMarker, "")
	byOld := contentsOf(good(), old)
	if _, err := Parse(Topic, byOld, verifier(rotated)); err != nil {
		t.Errorf("a record of the previous key during the rotation: %v", err)
	}
	if _, err := Parse(Topic, byOld, verifier(after)); !errors.Is(err, ErrUnsigned) {
		t.Errorf("a record of the previous key after the rotation: %v, want ErrUnsigned", err)
	}
	byNew := contentsOf(good(), rotated)
	if _, err := Parse(Topic, byNew, verifier(after)); err != nil {
		t.Errorf("a record written during the rotation, read after: %v", err)
	}
}

func TestParseRejects(t *testing.T) {
	k := keys(t, keyMarker, "")
	cases := []struct {
		name  string
		topic string
		edit  func(*Record)
		want  string
	}{
		{"another tool's log", "other", func(*Record) {}, "not a dead-letter record"},
		{"unknown state", Topic, func(r *Record) { r.State = "maybe" }, "field state"},
		{"bad project", Topic, func(r *Record) { r.Project = "x.evil:1?" }, "field project"},
		{"bad logstore", Topic, func(r *Record) { r.Logstore = "" }, "field logstore"},
		{"disallowed endpoint", Topic, func(r *Record) { r.Endpoint = "https://evil.example.com" }, "not allowed by SLS_ALLOWED_ENDPOINTS"},
		{"another port of an allowed host", Topic, func(r *Record) { r.Endpoint = "http://127.0.0.1:8081" }, "not port 8081"},
		{"endpoint with a path", Topic, func(r *Record) { r.Endpoint = "http://127.0.0.1:8080/x" }, "field endpoint"},
		{"bad cursor", Topic, func(r *Record) { r.BeginCursor = "not a cursor" }, "field beginCursor"},
		{"bad next cursor", Topic, func(r *Record) { r.NextCursor = "!!" }, "field nextCursor"},
		{"negative shard", Topic, func(r *Record) { r.Shard = -1 }, "field shard"},
		{"negative count", Topic, func(r *Record) { r.LogsWritten = -1 }, "field logsWritten"},
		{"oversized error", Topic, func(r *Record) { r.Error = strings.Repeat("e", 256<<10) }, "not signed by sls2siem: field error has 262144 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := good()
			tc.edit(&r)
			_, err := Parse(tc.topic, contentsOf(r, k), verifier(k)) // signed: only the field is wrong
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
	extra := append(contentsOf(good(), k), [2]string{"padding", strings.Repeat("x", 1<<10)})
	if _, err := Parse(Topic, extra, verifier(k)); !errors.Is(err, ErrUnsigned) || !strings.Contains(err.Error(), `field "padding" is not a field`) {
		t.Errorf("an unknown field: %v", err)
	}
	twice := append(contentsOf(good(), k), [2]string{fState, StateResolved})
	if _, err := Parse(Topic, twice, verifier(k)); !errors.Is(err, ErrUnsigned) || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("a field given twice: %v", err)
	}
}

// TestRecordsDoNotAliasTheInput: the strings a record keeps are copies, so
// that the pulled answer they were read from can be freed.
func TestRecordsDoNotAliasTheInput(t *testing.T) {
	k := keys(t, keyMarker, "")
	contents := contentsOf(good(), k)
	r, err := Parse(Topic, contents, verifier(k))
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]string{}
	for _, kv := range contents {
		in[kv[0]] = kv[1]
	}
	for name, kept := range map[string]string{fProject: r.Project, fLogstore: r.Logstore, fBeginCursor: r.BeginCursor,
		fEndCursor: r.EndCursor, fNextCursor: r.NextCursor, fRequestID: r.RequestID, fError: r.Error} {
		if kept != "" && unsafeData(kept) == unsafeData(in[name]) {
			t.Errorf("field %s aliases the input", name)
		}
	}
}

func TestKeysNeverPrint(t *testing.T) {
	k := keys(t, keyMarker, prevMarker)
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "keys", k)
	for _, s := range []string{k.String(), k.GoString(), fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s %q", k, k, k, k, k),
		fmt.Sprintf("%+v", struct{ K Keys }{k}), fmt.Sprintf("%+v", &k), logged.String()} {
		if strings.Contains(s, "MARKER") {
			t.Errorf("key material in %q", s)
		}
	}
	if _, err := NewKeys(strings.Repeat("k", MinKeyLen-1), ""); err == nil || strings.Contains(err.Error(), "kkk") {
		t.Errorf("a short key: %v", err)
	}
	if _, err := NewKeys(keyMarker, "short"); err == nil || strings.Contains(err.Error(), "short") {
		t.Errorf("a short previous key: %v", err)
	}
}

func TestScrubRemovesSecrets(t *testing.T) {
	if got := Scrub("token=abcdef123 failed", secretCreds()); strings.Contains(got, "abcdef123") {
		t.Fatalf("Scrub kept the secret: %q", got)
	}
	if got := Scrub(strings.Repeat("é", maxError), secretCreds()); len(got) > maxError+len("…") || !strings.HasSuffix(got, "é…") {
		t.Fatalf("Scrub did not cut on a character boundary within the bound: %d bytes, ends %q", len(got), got[len(got)-8:])
	}
}
