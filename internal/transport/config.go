package transport

import (
	"errors"
	"net"
	"slices"
	"strconv"
	"time"

	"sls2siem/internal/field"
	"sls2siem/internal/relp"
)

// Networks lists every network, in the order users are told them.
var Networks = []string{NetworkTCP, NetworkUDP, NetworkTLS, NetworkRELP, NetworkRELPTLS}

// Bounds of the timeouts (Validate refuses others).
const (
	MaxDialTimeout  = 5 * time.Minute
	MaxWriteTimeout = 10 * time.Minute
	MaxIdleTimeout  = 24 * time.Hour
	MaxRELPWindow   = 65536
)

// Software is the RELP relp_software offer of sls2siem.
const Software = "sls2siem,1,https://github.com/sls2siem"

// DefaultConfig is the configuration of network before it is given an
// address (and, for tls and relp-tls, a TLS configuration): octet-counting
// framing over TLS (RFC 5425), LF framing over TCP, a RELP window of 128
// messages, a 5 s dial timeout, a 10 s write timeout, pooled connections
// closed after 5 minutes idle.
func DefaultConfig(network string) Config {
	c := Config{Network: network, Software: Software, DialTimeout: 5 * time.Second,
		WriteTimeout: 10 * time.Second, IdleTimeout: 5 * time.Minute}
	switch network {
	case NetworkTCP:
		c.Framing = FramingLF
	case NetworkTLS:
		c.Framing = FramingOctetCounting
	case NetworkRELP, NetworkRELPTLS:
		c.RELPWindow = relp.DefaultWindow
	}
	return c
}

// DefaultPort is the receiver's port when none is given: 514, or 20514
// for RELP (rsyslog's imrelp examples).
func DefaultPort(network string) int {
	if isRELP(network) {
		return 20514
	}
	return 514
}

// MaxUDPMessage is the largest syslog message one UDP datagram carries
// (65 535 less the IP and UDP headers).
const MaxUDPMessage = 65507

// MessageLimits are the default and the largest message size in bytes
// (frame excluded) for network: a UDP datagram's limit and rsyslog's
// default maxMessageSize for RELP (imrelp acknowledges a longer message
// and stores it cut, so the shipper cuts it first).
func MessageLimits(network string) (def, most int) {
	switch {
	case network == NetworkUDP:
		return 2048, MaxUDPMessage
	case isRELP(network):
		return 8 * 1024, 16 << 20
	}
	return 64 * 1024, 16 << 20
}

// Validate reports every problem of the configuration at once, as
// *field.Error values joined.
func (c *Config) Validate() error {
	var errs []error
	if !slices.Contains(Networks, c.Network) {
		errs = append(errs, field.Errorf("Network", "is %q: want tcp, udp, tls, relp or relp-tls", c.Network))
	}
	if host, port, err := net.SplitHostPort(c.Address); err != nil || host == "" {
		errs = append(errs, field.Errorf("Address", "is %q: want host:port", c.Address))
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		errs = append(errs, field.Errorf("Address", "has port %q: want 1 to 65535", port))
	}
	errs = append(errs, c.validateFraming()...)
	switch {
	case isRELP(c.Network) && (c.RELPWindow < 1 || c.RELPWindow > MaxRELPWindow):
		errs = append(errs, field.Errorf("RELPWindow", "is %d: want 1 to %d", c.RELPWindow, MaxRELPWindow))
	case !isRELP(c.Network) && c.RELPWindow != 0:
		errs = append(errs, field.Errorf("RELPWindow", "is set but {Network} is %s: it applies only to relp and relp-tls", c.Network))
	}
	switch {
	case isTLS(c.Network) && c.TLS == nil:
		errs = append(errs, field.Errorf("TLS", "is not set but {Network} is %s", c.Network))
	case !isTLS(c.Network) && c.TLS != nil:
		errs = append(errs, field.Errorf("TLS", "is set but {Network} is %s: TLS applies only to tls and relp-tls", c.Network))
	}
	for _, d := range []struct {
		name     string
		v, bound time.Duration
	}{{"DialTimeout", c.DialTimeout, MaxDialTimeout}, {"WriteTimeout", c.WriteTimeout, MaxWriteTimeout}, {"IdleTimeout", c.IdleTimeout, MaxIdleTimeout}} {
		if d.v < time.Millisecond || d.v > d.bound {
			errs = append(errs, field.Errorf(d.name, "is %s: want a duration from 1ms to %s", d.v, d.bound))
		}
	}
	return errors.Join(errs...)
}

func (c *Config) validateFraming() []error {
	switch {
	case isRELP(c.Network) && c.Framing != "":
		return []error{field.Errorf("Framing", "is %q but {Network} is %s: RELP frames every message itself; leave {Framing} unset", c.Framing, c.Network)}
	case (c.Network == NetworkTCP || c.Network == NetworkTLS) && c.Framing != FramingLF && c.Framing != FramingOctetCounting:
		return []error{field.Errorf("Framing", "is %q: want %s or %s", c.Framing, FramingLF, FramingOctetCounting)}
	}
	return nil
}
