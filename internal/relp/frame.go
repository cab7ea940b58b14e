package relp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Frame limits of the specification (librelp doc/relp.md, "RELP FRAME").
const (
	maxTxnr    = 999_999_999 // TXNR is 1..999999999, then wraps to 1; 0 marks a hint
	maxDigits  = 9           // TXNR and DATALEN: 1*9DIGIT
	maxCmdLen  = 32          // COMMAND: 1*32ALPHA
	maxDataLen = 999_999_999 // the largest DATALEN that fits in 9 digits
)

// Commands.
const (
	cmdOpen        = "open"
	cmdSyslog      = "syslog"
	cmdClose       = "close"
	cmdRsp         = "rsp"
	cmdServerClose = "serverclose"
)

// knownCommand reports whether cmd is a command of the specification, and
// returns it as a constant (no allocation per frame).
func knownCommand(cmd []byte) (string, bool) {
	for _, k := range [...]string{cmdRsp, cmdServerClose, cmdOpen, cmdSyslog, cmdClose} {
		if string(cmd) == k {
			return k, true
		}
	}
	return "", false
}

// frame is one RELP frame. data is only valid until the next read.
type frame struct {
	txnr uint32
	cmd  string
	data []byte
}

// txnrAt returns the TXNR of the command with index k of a session whose
// first command carried first: consecutive numbers, wrapping from
// 999999999 to 1 (never 0).
func txnrAt(first uint32, k uint64) uint32 {
	return uint32((uint64(first)-1+k)%maxTxnr) + 1
}

// appendHeader appends "TXNR SP COMMAND SP DATALEN", and the SP that
// precedes DATA when datalen > 0.
func appendHeader(b []byte, txnr uint32, cmd string, datalen int) []byte {
	b = strconv.AppendUint(b, uint64(txnr), 10)
	b = append(b, ' ')
	b = append(b, cmd...)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(datalen), 10)
	if datalen > 0 {
		b = append(b, ' ')
	}
	return b
}

// appendFrame appends a whole frame.
func appendFrame(b []byte, txnr uint32, cmd string, data []byte) []byte {
	b = appendHeader(b, txnr, cmd, len(data))
	b = append(b, data...)
	return append(b, '\n')
}

// frameReader parses frames strictly and with bounded memory: TXNR 1-9
// digits, a known command, DATALEN 1-9 digits and at most max, exactly
// DATALEN bytes of data, then LF.
type frameReader struct {
	r    *bufio.Reader
	max  int    // largest DATALEN accepted
	raw  []byte // the first quoteLen bytes of the current frame
	n    int    // bytes of the current frame read so far
	data []byte // reused data buffer
}

func newFrameReader(r io.Reader, max int) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 16<<10), max: max, raw: make([]byte, 0, quoteLen)}
}

// sent returns the first bytes of the last frame read, for error messages.
func (fr *frameReader) sent() []byte { return fr.raw }

func (fr *frameReader) keep(p ...byte) {
	fr.n += len(p)
	if n := quoteLen - len(fr.raw); n > 0 {
		fr.raw = append(fr.raw, p[:min(n, len(p))]...)
	}
}

// fail returns a protocol error quoting the frame read so far and, when
// that is short, what follows it in the buffer.
func (fr *frameReader) fail(format string, args ...any) error {
	sent, more := fr.raw, fr.n > len(fr.raw)
	if n := min(quoteLen+1-len(sent), fr.r.Buffered()); !more && n > 0 {
		if next, err := fr.r.Peek(n); err == nil {
			sent = append(sent[:len(sent):len(sent)], next...)
		}
	}
	return newProtocolError(fmt.Sprintf(format, args...), sent, more, nil)
}

// byte reads one byte inside a frame; the end of the stream there is a
// protocol error (the frame is cut short).
func (fr *frameReader) byte() (byte, error) {
	c, err := fr.r.ReadByte()
	if err != nil {
		return 0, fr.cut(err)
	}
	fr.keep(c)
	return c, nil
}

func (fr *frameReader) cut(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return newProtocolError("connection closed in the middle of a frame", fr.raw, fr.n > len(fr.raw), io.ErrUnexpectedEOF)
	}
	return err
}

// number reads the digits of a TXNR or DATALEN field whose first byte c is
// already read, and returns the byte after them.
func (fr *frameReader) number(c byte, field string) (uint64, byte, error) {
	if !isDigit(c) {
		return 0, 0, fr.fail("%s must start with a digit, got %q", field, c)
	}
	var n uint64
	for digits := 0; isDigit(c); digits++ {
		if digits == maxDigits {
			return 0, 0, fr.fail("%s longer than %d digits", field, maxDigits)
		}
		n = n*10 + uint64(c-'0')
		var err error
		if c, err = fr.byte(); err != nil {
			return 0, 0, err
		}
	}
	return n, c, nil
}

// next reads one frame. At a frame boundary the end of the stream is
// returned as io.EOF and other read errors as they are; everything else
// that is not a valid frame is a protocol error.
func (fr *frameReader) next() (frame, error) {
	fr.raw, fr.n = fr.raw[:0], 0
	c, err := fr.r.ReadByte()
	if err != nil {
		return frame{}, err
	}
	fr.keep(c)

	txnr, c, err := fr.number(c, "TXNR")
	if err != nil {
		return frame{}, err
	}
	if c != ' ' {
		return frame{}, fr.fail("expected SP after TXNR, got %q", c)
	}

	var cmdBuf [maxCmdLen]byte
	cmd := cmdBuf[:0]
	for {
		if c, err = fr.byte(); err != nil {
			return frame{}, err
		}
		if c == ' ' {
			break
		}
		if !isAlpha(c) {
			return frame{}, fr.fail("invalid byte %q in COMMAND", c)
		}
		if len(cmd) == maxCmdLen {
			return frame{}, fr.fail("COMMAND longer than %d letters", maxCmdLen)
		}
		cmd = append(cmd, c)
	}
	if len(cmd) == 0 {
		return frame{}, fr.fail("empty COMMAND")
	}
	name, ok := knownCommand(cmd)
	if !ok {
		return frame{}, fr.fail("unknown command %q", string(cmd)) // a copy: cmdBuf stays on the stack
	}

	if c, err = fr.byte(); err != nil {
		return frame{}, err
	}
	datalen, c, err := fr.number(c, "DATALEN")
	if err != nil {
		return frame{}, err
	}
	f := frame{txnr: uint32(txnr), cmd: name}
	if datalen == 0 {
		if c != '\n' {
			return frame{}, fr.fail("expected LF after DATALEN 0, got %q", c)
		}
		return f, nil
	}
	if c != ' ' {
		return frame{}, fr.fail("expected SP after DATALEN, got %q", c)
	}
	if datalen > uint64(fr.max) {
		return frame{}, fr.fail("DATALEN %d exceeds the limit of %d bytes", datalen, fr.max)
	}
	n := int(datalen)
	if cap(fr.data) < n {
		fr.data = make([]byte, n)
	}
	f.data = fr.data[:n]
	got, err := io.ReadFull(fr.r, f.data)
	fr.keep(f.data[:got]...)
	if err != nil {
		return frame{}, fr.cut(err)
	}
	if c, err = fr.byte(); err != nil {
		return frame{}, err
	}
	if c != '\n' {
		return frame{}, fr.fail("frame longer than its DATALEN %d: expected LF after the data, got %q", n, c)
	}
	return f, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// rsp is the DATA of an rsp frame: CODE [SP TEXT] [LF DATA].
type rsp struct {
	code int
	text []byte
	data []byte
}

// parseRsp parses the DATA of an rsp frame. CODE is exactly 3 digits.
func parseRsp(b []byte) (rsp, error) {
	if len(b) < 3 || !isDigit(b[0]) || !isDigit(b[1]) || !isDigit(b[2]) {
		return rsp{}, errors.New("rsp CODE is not a 3-digit number")
	}
	r := rsp{code: int(b[0]-'0')*100 + int(b[1]-'0')*10 + int(b[2]-'0')}
	b = b[3:]
	if len(b) == 0 {
		return r, nil
	}
	switch b[0] {
	case ' ':
		b = b[1:]
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			r.text = b
			return r, nil
		}
		r.text, r.data = b[:i], b[i+1:]
	case '\n':
		r.data = b[1:]
	default:
		return rsp{}, errors.New("rsp CODE is not a 3-digit number")
	}
	return r, nil
}

// offers are the offers of an open command or its answer: LF-separated
// lines "NAME[=VALUE[,VALUE...]]".
type offers map[string][]string

func parseOffers(b []byte) offers {
	o := offers{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" {
			continue
		}
		name, value, _ := strings.Cut(line, "=")
		var values []string
		if value != "" {
			values = strings.Split(value, ",")
		}
		o[name] = values
	}
	return o
}

func (o offers) has(name, value string) bool {
	for _, v := range o[name] {
		if v == value {
			return true
		}
	}
	return false
}
