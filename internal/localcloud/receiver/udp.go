package receiver

import (
	"errors"
	"log/slog"
	"net"
)

func (r *Receiver) udpLoop() {
	defer r.wg.Done()
	buf := make([]byte, r.maxSize+1)
	for {
		n, from, err := r.pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			slog.Warn("receiver: udp read", "addr", r.Addr(), "err", err)
			continue
		}
		if n > r.maxSize {
			slog.Warn("receiver: dropping oversize datagram", "remote", from.String(), "max", r.maxSize)
			continue
		}
		if n == 0 {
			continue
		}
		r.deliver(append([]byte(nil), buf[:n]...), from.String())
	}
}
