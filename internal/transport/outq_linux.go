package transport

import (
	"net"
	"syscall"
	"unsafe"
)

// outqSupported: Linux tells how much of the send queue is unacknowledged.
const outqSupported = true

// unacked returns how many bytes written to the socket the peer has not
// acknowledged yet (Linux SIOCOUTQ, which shares TIOCOUTQ's number).
func unacked(c net.Conn) (int, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int32
	var serr error
	err = rc.Control(func(fd uintptr) {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&n))); e != 0 {
			serr = e
		}
	})
	if err == nil {
		err = serr
	}
	return int(n), err
}
