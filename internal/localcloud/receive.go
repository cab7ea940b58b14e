package localcloud

import (
	"context"
	"fmt"
	"io"
	"sync"

	"sls2siem/internal/localcloud/receiver"
)

// DefaultReceiveAddr is where `localcloud -mode receive` (make receiver)
// listens unless told otherwise; docs/local-cloud.md's guide ships to it.
const DefaultReceiveAddr = "127.0.0.1:15514"

// ReceiveOptions configure the embedded receiver as a service.
type ReceiveOptions struct {
	Addr string    // host:port of both the TCP and the UDP listener
	Out  io.Writer // each message, then a newline
	Log  io.Writer // what it does: where it listens, how many it received
}

// Receive serves the embedded syslog receiver on opts.Addr over TCP (LF or
// octet-counting framing, detected per frame; any number of connections at
// once) and UDP until ctx is done, writing every message as one line to
// opts.Out. Once both listeners are up it writes a line starting
// "receiving syslog" to opts.Log; at the end, how many messages it got.
func Receive(ctx context.Context, opts ReceiveOptions) error {
	var mu sync.Mutex
	var werr error
	handle := func(m receiver.Message) {
		mu.Lock()
		defer mu.Unlock()
		if _, err := fmt.Fprintf(opts.Out, "%s\n", m.Raw); err != nil && werr == nil {
			werr = err
		}
	}
	opt := receiver.Options{MaxMessageSize: 16 << 20, Handle: handle}
	tcp, err := receiver.Listen("tcp", opts.Addr, opt)
	if err != nil {
		return fmt.Errorf("local cloud: %w", err)
	}
	defer tcp.Close()
	udp, err := receiver.Listen("udp", tcp.Addr(), opt)
	if err != nil {
		return fmt.Errorf("local cloud: %w", err)
	}
	defer udp.Close()
	fmt.Fprintf(opts.Log, "receiving syslog on tcp and udp %s (TCP framing lf or octet-counting); Ctrl-C stops\n", tcp.Addr())
	<-ctx.Done()
	tcp.Close()
	udp.Close()
	fmt.Fprintf(opts.Log, "received %d messages (tcp %d, udp %d)\n", tcp.Count()+udp.Count(), tcp.Count(), udp.Count())
	mu.Lock()
	defer mu.Unlock()
	if werr != nil {
		return fmt.Errorf("local cloud: write the received messages: %w", werr)
	}
	return nil
}
