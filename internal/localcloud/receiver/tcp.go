package receiver

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
)

// maxLenDigits bounds the octet count (RFC 6587 MSG-LEN) to keep it in an int.
const maxLenDigits = 9

func (r *Receiver) acceptLoop() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			slog.Warn("receiver: accept", "addr", r.Addr(), "err", err)
			continue
		}
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			c.Close()
			return
		}
		r.conns[c] = struct{}{}
		r.wg.Add(1)
		r.mu.Unlock()
		go r.serveConn(c)
	}
}

func (r *Receiver) serveConn(c net.Conn) {
	defer r.wg.Done()
	defer func() {
		r.mu.Lock()
		delete(r.conns, c)
		r.mu.Unlock()
		c.Close()
	}()
	remote := c.RemoteAddr().String()
	br := bufio.NewReaderSize(c, 64<<10)
	for {
		msg, err := readFrame(br, r.maxSize)
		if msg != nil {
			r.deliver(msg, remote)
		}
		if err == nil {
			continue
		}
		if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
			slog.Warn("receiver: closing connection", "remote", remote, "err", err)
		}
		return
	}
}

// errFraming marks a frame the receiver cannot decode; the connection is closed.
var errFraming = errors.New("framing error")

// readFrame reads one frame from br and returns its message. A frame that
// starts with a digit is octet-counted; any other frame ends at LF, which is
// stripped. Empty LF-terminated frames are skipped. At the end of the stream a
// final unterminated LF frame is returned together with io.EOF.
func readFrame(br *bufio.Reader, maxSize int) ([]byte, error) {
	for {
		b, err := br.Peek(1)
		if err != nil {
			return nil, err
		}
		if b[0] >= '0' && b[0] <= '9' {
			return readOctetCounted(br, maxSize)
		}
		msg, err := readLine(br, maxSize)
		if len(msg) == 0 && err == nil {
			continue
		}
		return msg, err
	}
}

func readOctetCounted(br *bufio.Reader, maxSize int) ([]byte, error) {
	var digits []byte
	for {
		c, err := br.ReadByte()
		if err != nil {
			return nil, fmt.Errorf("%w: octet count: %w", errFraming, unexpectedEOF(err))
		}
		if c == ' ' {
			break
		}
		if c < '0' || c > '9' || len(digits) == maxLenDigits {
			return nil, fmt.Errorf("%w: bad octet count %q", errFraming, append(digits, c))
		}
		digits = append(digits, c)
	}
	if len(digits) == 0 || digits[0] == '0' {
		return nil, fmt.Errorf("%w: bad octet count %q", errFraming, digits)
	}
	n, _ := strconv.Atoi(string(digits))
	if n > maxSize {
		return nil, fmt.Errorf("%w: frame of %d bytes exceeds the maximum of %d", errFraming, n, maxSize)
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(br, msg); err != nil {
		return nil, fmt.Errorf("%w: frame of %d bytes: %w", errFraming, n, unexpectedEOF(err))
	}
	return msg, nil
}

func readLine(br *bufio.Reader, maxSize int) ([]byte, error) {
	var msg []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if err == nil {
			chunk = chunk[:len(chunk)-1] // the LF
		}
		if len(msg)+len(chunk) > maxSize {
			return nil, fmt.Errorf("%w: line exceeds the maximum of %d bytes", errFraming, maxSize)
		}
		msg = append(msg, chunk...)
		switch {
		case err == nil:
			return msg, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(msg) > 0:
			return msg, io.EOF
		default:
			return nil, err
		}
	}
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
