package receiver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxMessageSize is the largest message accepted when
// Options.MaxMessageSize is zero.
const DefaultMaxMessageSize = 64 << 10

// Message is one received syslog message.
type Message struct {
	Raw      []byte    // the message without its framing; owned by the handler
	Network  string    // "tcp" or "udp"
	Remote   string    // the sender's address
	Received time.Time // when the message was read
}

// Options configure a Receiver.
type Options struct {
	TLS            *tls.Config   // TCP only; nil means plain TCP
	MaxMessageSize int           // zero means DefaultMaxMessageSize
	Handle         func(Message) // called for each message, one call at a time; may be nil
}

// Receiver is a listening syslog receiver.
type Receiver struct {
	network string
	maxSize int
	handle  func(Message)

	ln net.Listener   // TCP
	pc net.PacketConn // UDP

	count    atomic.Int64
	handleMu sync.Mutex // serialises handle
	wg       sync.WaitGroup

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{}
}

// Listen starts a receiver on network ("tcp" or "udp") and addr,
// for example "127.0.0.1:0".
func Listen(network, addr string, opts Options) (*Receiver, error) {
	r := &Receiver{
		maxSize: opts.MaxMessageSize,
		handle:  opts.Handle,
		conns:   make(map[net.Conn]struct{}),
	}
	if r.maxSize <= 0 {
		r.maxSize = DefaultMaxMessageSize
	}
	switch {
	case strings.HasPrefix(network, "tcp"):
		r.network = "tcp"
		ln, err := net.Listen(network, addr)
		if err != nil {
			return nil, fmt.Errorf("receiver: listen %s %s: %w", network, addr, err)
		}
		if opts.TLS != nil {
			ln = tls.NewListener(ln, opts.TLS)
		}
		r.ln = ln
		r.wg.Add(1)
		go r.acceptLoop()
	case strings.HasPrefix(network, "udp"):
		if opts.TLS != nil {
			return nil, errors.New("receiver: TLS is not supported over udp")
		}
		r.network = "udp"
		pc, err := net.ListenPacket(network, addr)
		if err != nil {
			return nil, fmt.Errorf("receiver: listen %s %s: %w", network, addr, err)
		}
		r.pc = pc
		r.wg.Add(1)
		go r.udpLoop()
	default:
		return nil, fmt.Errorf("receiver: unsupported network %q", network)
	}
	return r, nil
}

// Addr returns the host:port the receiver is bound to.
func (r *Receiver) Addr() string {
	if r.ln != nil {
		return r.ln.Addr().String()
	}
	return r.pc.LocalAddr().String()
}

// Count returns the number of messages received and handled so far.
func (r *Receiver) Count() int64 { return r.count.Load() }

// Close stops listening, closes all connections and waits until every
// running handler call has returned.
func (r *Receiver) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	var err error
	if r.ln != nil {
		err = r.ln.Close()
	} else {
		err = r.pc.Close()
	}
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
	if err != nil {
		return fmt.Errorf("receiver: close: %w", err)
	}
	return nil
}

// CloseConnections closes all live TCP connections but keeps listening.
// Senders see their connection drop and may reconnect.
func (r *Receiver) CloseConnections() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.conns {
		c.Close()
	}
}

// deliver hands one message to the handler and counts it.
func (r *Receiver) deliver(raw []byte, remote string) {
	m := Message{Raw: raw, Network: r.network, Remote: remote, Received: time.Now()}
	r.handleMu.Lock()
	if r.handle != nil {
		r.handle(m)
	}
	r.count.Add(1)
	r.handleMu.Unlock()
}
