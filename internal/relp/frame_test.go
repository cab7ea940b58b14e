package relp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestAppendFrame(t *testing.T) {
	for _, tc := range []struct {
		txnr uint32
		cmd  string
		data string
		want string
	}{
		{1, cmdOpen, "relp_version=0\ncommands=syslog", "1 open 30 relp_version=0\ncommands=syslog\n"},
		{2, cmdSyslog, "<13>1 - - - - - - hi", "2 syslog 20 <13>1 - - - - - - hi\n"},
		{999999999, cmdSyslog, "x", "999999999 syslog 1 x\n"},
		{3, cmdClose, "", "3 close 0\n"}, // DATALEN 0: no SP, no DATA
		{0, cmdServerClose, "", "0 serverclose 0\n"},
	} {
		got := string(appendFrame(nil, tc.txnr, tc.cmd, []byte(tc.data)))
		if got != tc.want {
			t.Errorf("appendFrame(%d, %s, %q) = %q, want %q", tc.txnr, tc.cmd, tc.data, got, tc.want)
		}
		f, err := newFrameReader(strings.NewReader(got), 1<<20).next()
		if err != nil {
			t.Errorf("parse %q: %v", got, err)
			continue
		}
		if f.txnr != tc.txnr || f.cmd != tc.cmd || string(f.data) != tc.data {
			t.Errorf("parse %q = %d %s %q", got, f.txnr, f.cmd, f.data)
		}
	}
}

func TestTxnrAt(t *testing.T) {
	for _, tc := range []struct {
		first uint32
		k     uint64
		want  uint32
	}{
		{1, 0, 1},
		{1, 1, 2},
		{1, 999999998, 999999999},
		{1, 999999999, 1}, // wraps to 1, never 0
		{1, 2*999999999 + 4, 5},
		{999999998, 0, 999999998},
		{999999998, 1, 999999999},
		{999999998, 2, 1},
		{999999998, 3, 2},
	} {
		if got := txnrAt(tc.first, tc.k); got != tc.want {
			t.Errorf("txnrAt(%d, %d) = %d, want %d", tc.first, tc.k, got, tc.want)
		}
	}
}

func TestReadFrames(t *testing.T) {
	in := "1 rsp 93 200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog\n" +
		"2 rsp 6 200 OK\n" +
		"000000003 rsp 0\n" + // leading zeros are digits too
		"0 serverclose 0\n"
	fr := newFrameReader(strings.NewReader(in), 1024)
	want := []frame{
		{1, cmdRsp, []byte("200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog")},
		{2, cmdRsp, []byte("200 OK")},
		{3, cmdRsp, nil},
		{0, cmdServerClose, nil},
	}
	for i, w := range want {
		f, err := fr.next()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if f.txnr != w.txnr || f.cmd != w.cmd || !bytes.Equal(f.data, w.data) {
			t.Fatalf("frame %d = %d %s %q, want %d %s %q", i, f.txnr, f.cmd, f.data, w.txnr, w.cmd, w.data)
		}
	}
	if _, err := fr.next(); err != io.EOF {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}
}

func TestReadFrameMalformed(t *testing.T) {
	long := strings.Repeat("x", 200)
	for _, tc := range []struct {
		name, in, want string
		max            int
		unexpectedEOF  bool
	}{
		{name: "garbage", in: "hello world\n", want: `TXNR must start with a digit, got 'h'`},
		{name: "SP first", in: " 1 rsp 0\n", want: `TXNR must start with a digit`},
		{name: "TXNR 10 digits", in: "1234567890 rsp 0\n", want: "TXNR longer than 9 digits"},
		{name: "TXNR no SP", in: "1\trsp 0\n", want: `expected SP after TXNR, got '\t'`},
		{name: "TXNR negative", in: "-1 rsp 0\n", want: "TXNR must start with a digit"},
		{name: "empty command", in: "1  0\n", want: "empty COMMAND"},
		{name: "digit in command", in: "1 rsp6 200 OK\n", want: `invalid byte '6' in COMMAND`},
		{name: "LF in command", in: "1 rsp\n", want: `invalid byte '\n' in COMMAND`},
		{name: "unknown command", in: "1 hello 0\n", want: `unknown command "hello"`},
		{name: "command 33 letters", in: "1 " + strings.Repeat("a", 33) + " 0\n", want: "COMMAND longer than 32 letters"},
		{name: "DATALEN missing", in: "1 rsp \n", want: `DATALEN must start with a digit, got '\n'`},
		{name: "DATALEN not a number", in: "1 rsp six 200 OK\n", want: `DATALEN must start with a digit, got 's'`},
		{name: "DATALEN 10 digits", in: "1 rsp 1234567890 x\n", want: "DATALEN longer than 9 digits"},
		{name: "DATALEN 0 with SP", in: "1 rsp 0 \n", want: `expected LF after DATALEN 0, got ' '`},
		{name: "DATALEN without SP", in: "1 rsp 6\n200 OK\n", want: `expected SP after DATALEN, got '\n'`},
		{name: "DATALEN over max", in: "1 rsp 1025 " + long, want: "DATALEN 1025 exceeds the limit of 1024 bytes"},
		{name: "DATALEN huge", in: "1 rsp 999999999 x", want: "DATALEN 999999999 exceeds the limit of 1024 bytes"},
		{name: "longer than DATALEN", in: "2 rsp 3 200 OK\n", want: `frame longer than its DATALEN 3: expected LF after the data, got ' '`},
		{name: "shorter than DATALEN", in: "2 rsp 7 200 OK\n3 rsp", want: `frame longer than its DATALEN 7: expected LF after the data, got '3'`},
		{name: "cut in TXNR", in: "12", want: "connection closed in the middle of a frame", unexpectedEOF: true},
		{name: "cut in command", in: "1 rs", want: "connection closed in the middle of a frame", unexpectedEOF: true},
		{name: "cut in data", in: "2 rsp 6 200", want: "connection closed in the middle of a frame", unexpectedEOF: true},
		{name: "cut before LF", in: "2 rsp 6 200 OK", want: "connection closed in the middle of a frame", unexpectedEOF: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			max := tc.max
			if max == 0 {
				max = 1024
			}
			_, err := newFrameReader(strings.NewReader(tc.in), max).next()
			if err == nil {
				t.Fatalf("%q parsed without error", tc.in)
			}
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("%q: %v, want a protocol error", tc.in, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%q: %v\nwant it to contain %s", tc.in, err, tc.want)
			}
			// The error quotes what was received, escaped and truncated.
			q := tc.in
			if len(q) > quoteLen {
				q = q[:quoteLen]
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", q)) {
				t.Fatalf("%q: %v\nwant it to quote %q", tc.in, err, q)
			}
			if errors.Is(err, io.ErrUnexpectedEOF) != tc.unexpectedEOF {
				t.Fatalf("%q: errors.Is(err, io.ErrUnexpectedEOF) = %v", tc.in, !tc.unexpectedEOF)
			}
		})
	}
}

func TestReadFrameQuoteTruncated(t *testing.T) {
	in := strings.Repeat("A", 50) + strings.Repeat("B", 150) + "\n"
	_, err := newFrameReader(strings.NewReader(in), 1024).next()
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if want := fmt.Sprintf("%q...", in[:quoteLen]); !strings.Contains(msg, want) {
		t.Fatalf("%v\nwant it to contain %s", msg, want)
	}
	if strings.Contains(msg, strings.Repeat("B", quoteLen-50+1)) {
		t.Fatalf("quote longer than %d bytes: %v", quoteLen, msg)
	}

	// A long frame whose trailer is wrong: the quote is its first bytes.
	data := strings.Repeat("d", 300)
	in = fmt.Sprintf("2 rsp %d %sX", len(data), data)
	_, err = newFrameReader(strings.NewReader(in), 1024).next()
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q...", in[:quoteLen])) ||
		!strings.Contains(err.Error(), "got 'X'") {
		t.Fatalf("long frame without LF: %v", err)
	}

	// Control bytes and invalid UTF-8 are escaped.
	_, err = newFrameReader(strings.NewReader("\x00\xff\x1b[31m\n"), 1024).next()
	if err == nil || !strings.Contains(err.Error(), `"\x00\xff\x1b[31m\n"`) {
		t.Fatalf("binary garbage: %v", err)
	}
}

func TestReadFrameReadError(t *testing.T) {
	boom := errors.New("connection reset by peer")
	// At a frame boundary and inside a frame, a read error is returned as is.
	for _, in := range []string{"", "2 rsp 6 20"} {
		r := io.MultiReader(strings.NewReader(in), errReader{boom})
		_, err := newFrameReader(r, 1024).next()
		if !errors.Is(err, boom) {
			t.Fatalf("after %q: %v, want %v", in, err, boom)
		}
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestParseRsp(t *testing.T) {
	for _, tc := range []struct {
		in         string
		code       int
		text, data string
	}{
		{"200 OK", 200, "OK", ""},
		{"200", 200, "", ""},
		{"500 error", 500, "error", ""},
		{"500 command disabled", 500, "command disabled", ""},
		{"200 OK\nrelp_version=0\ncommands=syslog", 200, "OK", "relp_version=0\ncommands=syslog"},
		{"200\nrelp_version=0", 200, "", "relp_version=0"},
		{"200 ", 200, "", ""},
	} {
		r, err := parseRsp([]byte(tc.in))
		if err != nil || r.code != tc.code || string(r.text) != tc.text || string(r.data) != tc.data {
			t.Errorf("parseRsp(%q) = %d %q %q, %v; want %d %q %q", tc.in, r.code, r.text, r.data, err, tc.code, tc.text, tc.data)
		}
	}
	for _, in := range []string{"", "20", "2x0 OK", "OK 200", "2000 OK", "200x", " 200 OK", "-20 OK"} {
		if r, err := parseRsp([]byte(in)); err == nil {
			t.Errorf("parseRsp(%q) = %d, want an error", in, r.code)
		}
	}
}

func TestParseOffers(t *testing.T) {
	o := parseOffers([]byte("relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog,eventlog\n\nflag"))
	if !o.has("relp_version", "0") || !o.has("commands", "syslog") || !o.has("commands", "eventlog") ||
		!o.has("relp_software", "1.11.0") {
		t.Fatalf("offers = %v", o)
	}
	if _, ok := o["flag"]; !ok {
		t.Fatalf("offer without value missing: %v", o)
	}
	if parseOffers([]byte("commands=syslogx")).has("commands", "syslog") {
		t.Fatal("syslogx accepted as syslog")
	}
	if parseOffers([]byte("commands=")).has("commands", "syslog") {
		t.Fatal("empty commands accepted")
	}
}

func TestErrorText(t *testing.T) {
	addr := "192.0.2.1:2514"
	for _, tc := range []struct {
		err  *Error
		want string
		is   error
	}{
		{&Error{Addr: addr, Op: "syslog", Code: 500, Text: "error", Err: ErrRefused},
			`relp syslog: receiver 192.0.2.1:2514 refused the syslog command: 500 "error"`, ErrRefused},
		{&Error{Addr: addr, Op: "syslog", Err: ErrServerClose},
			"relp syslog: receiver 192.0.2.1:2514 closed the RELP session (serverclose)", ErrServerClose},
		{&Error{Addr: addr, Op: "wait", Err: fmt.Errorf("%w: 3 of 5 frames acknowledged", ErrTimeout)},
			"relp wait: receiver 192.0.2.1:2514: timed out waiting for the RELP receiver: 3 of 5 frames acknowledged", ErrTimeout},
		{&Error{Addr: addr, Op: "syslog", Err: newProtocolError("garbage", []byte("hi\n"), false, nil)},
			`relp syslog: receiver 192.0.2.1:2514: RELP protocol violation: garbage; it sent "hi\n"`, ErrProtocol},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %s\nwant      %s", got, tc.want)
		}
		if !errors.Is(tc.err, tc.is) {
			t.Errorf("%v is not %v", tc.err, tc.is)
		}
	}
}

// FuzzParseFrame feeds arbitrary bytes to the frame parser: it must never
// panic, never accept a frame outside the limits, and every frame it
// accepts must encode to a frame that parses back to the same.
func FuzzParseFrame(f *testing.F) {
	for _, s := range []string{
		"1 rsp 6 200 OK\n",
		"1 rsp 93 200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog\n",
		"0 serverclose 0\n",
		"3 rsp 0\n",
		"2 rsp 9 500 error\n",
		"2 syslog 5 hello\n3 close 0\n",
		"999999999 rsp 6 200 OK\n1 rsp 6 200 OK\n",
		"hello world\n",
		"1234567890 rsp 0\n",
		"1 rsp 3 200 OK\n",
		"1 rsp 999999999 ",
		"1 rsp 0 \n",
		"1 rsp6 200\n",
		"",
		"\x00\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		const max = 4096
		fr := newFrameReader(bytes.NewReader(in), max)
		for range 64 {
			fm, err := fr.next()
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrProtocol) {
					t.Fatalf("unexpected error type %T: %v", err, err)
				}
				if len(err.Error()) > 512 {
					t.Fatalf("error of %d bytes: quote not bounded", len(err.Error()))
				}
				return
			}
			if fm.txnr > maxTxnr || len(fm.data) > max {
				t.Fatalf("accepted frame out of limits: %d %s %d bytes", fm.txnr, fm.cmd, len(fm.data))
			}
			if _, ok := knownCommand([]byte(fm.cmd)); !ok {
				t.Fatalf("accepted unknown command %q", fm.cmd)
			}
			enc := appendFrame(nil, fm.txnr, fm.cmd, fm.data)
			back, err := newFrameReader(bufio.NewReader(bytes.NewReader(enc)), max).next()
			if err != nil || back.txnr != fm.txnr || back.cmd != fm.cmd || !bytes.Equal(back.data, fm.data) {
				t.Fatalf("%q does not parse back: %v", enc, err)
			}
			if _, err := parseRsp(fm.data); err == nil {
				parseOffers(fm.data)
			}
		}
	})
}
