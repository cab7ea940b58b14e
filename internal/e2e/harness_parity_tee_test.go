package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"sls2siem/internal/localcloud"
	"sls2siem/internal/localcloud/sample"
	"sls2siem/internal/localcloud/slsemu"
)

// parityTee is the syslog receiver the binary sends to in the parity
// tests: it keeps the bytes it receives (the wire, for go-syslog) and
// forwards them unchanged to rsyslog and syslog-ng, so that the three
// parsers see the same bytes from one shipment.
type parityTee struct {
	udp   bool
	ln    net.Listener
	pc    net.PacketConn
	dests []string

	mu      sync.Mutex
	conns   []net.Conn      // accepted, closed with the tee
	streams []*bytes.Buffer // one per TCP connection, in accept order
	grams   [][]byte        // UDP datagrams, in arrival order
	errs    []error
	wg      sync.WaitGroup
}

// startParityTee listens on a loopback port (TCP, or UDP when udp) and
// forwards to dests; it stops when the test ends.
func startParityTee(t *testing.T, udp bool, dests ...string) *parityTee {
	t.Helper()
	tee := &parityTee{udp: udp, dests: dests}
	var err error
	if udp {
		tee.pc, err = net.ListenPacket("udp", "127.0.0.1:0")
	} else {
		tee.ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	tee.wg.Add(1)
	if udp {
		go tee.serveUDP()
	} else {
		go tee.serveTCP()
	}
	t.Cleanup(func() {
		if udp {
			tee.pc.Close()
		} else {
			tee.ln.Close()
		}
		tee.mu.Lock()
		for _, c := range tee.conns {
			c.Close()
		}
		tee.mu.Unlock()
		tee.wg.Wait()
	})
	return tee
}

// Port is the tee's port.
func (tee *parityTee) Port() int {
	if tee.udp {
		return tee.pc.LocalAddr().(*net.UDPAddr).Port
	}
	return tee.ln.Addr().(*net.TCPAddr).Port
}

func (tee *parityTee) fail(err error) {
	tee.mu.Lock()
	tee.errs = append(tee.errs, err)
	tee.mu.Unlock()
}

func (tee *parityTee) serveTCP() {
	defer tee.wg.Done()
	for {
		c, err := tee.ln.Accept()
		if err != nil {
			return
		}
		buf := &bytes.Buffer{}
		tee.mu.Lock()
		tee.conns = append(tee.conns, c)
		tee.streams = append(tee.streams, buf)
		tee.mu.Unlock()
		tee.wg.Add(1)
		go tee.relay(c, buf)
	}
}

// relay copies one connection to a connection to each destination,
// recording first so that whatever a receiver got is recorded.
func (tee *parityTee) relay(c net.Conn, rec *bytes.Buffer) {
	defer tee.wg.Done()
	defer c.Close()
	var outs []net.Conn
	for _, d := range tee.dests {
		o, err := net.DialTimeout("tcp", d, 5*time.Second)
		if err != nil {
			tee.fail(err)
			return
		}
		defer o.Close()
		outs = append(outs, o)
	}
	buf := make([]byte, 256<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			tee.mu.Lock()
			rec.Write(buf[:n])
			tee.mu.Unlock()
			for _, o := range outs {
				if _, werr := o.Write(buf[:n]); werr != nil {
					tee.fail(werr)
					return
				}
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				tee.fail(err)
			}
			return
		}
	}
}

func (tee *parityTee) serveUDP() {
	defer tee.wg.Done()
	var outs []net.Conn
	for _, d := range tee.dests {
		o, err := net.Dial("udp", d)
		if err != nil {
			tee.fail(err)
			return
		}
		defer o.Close()
		outs = append(outs, o)
	}
	buf := make([]byte, 64<<10)
	for {
		n, _, err := tee.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		tee.mu.Lock()
		tee.grams = append(tee.grams, bytes.Clone(buf[:n]))
		tee.mu.Unlock()
		for _, o := range outs {
			if _, err := o.Write(buf[:n]); err != nil {
				tee.fail(err)
			}
		}
	}
}

// Frames returns the messages received so far, without their framing
// ("lf", "octet-counting"; ignored for UDP). A partial last frame is left
// out.
func (tee *parityTee) Frames(t testing.TB, framing string) [][]byte {
	t.Helper()
	tee.mu.Lock()
	defer tee.mu.Unlock()
	for _, err := range tee.errs {
		t.Errorf("tee: %v", err)
	}
	if tee.udp {
		return tee.grams
	}
	var out [][]byte
	for _, s := range tee.streams {
		b := s.Bytes()
		for len(b) > 0 {
			if framing == "lf" {
				i := bytes.IndexByte(b, '\n')
				if i < 0 {
					break
				}
				out = append(out, bytes.Clone(b[:i]))
				b = b[i+1:]
				continue
			}
			sp := bytes.IndexByte(b, ' ')
			if sp < 0 {
				break
			}
			n, err := strconv.Atoi(string(b[:sp]))
			if err != nil || n <= 0 {
				t.Fatalf("tee: bad octet count %q", b[:min(len(b), 20)])
			}
			if len(b) < sp+1+n {
				break
			}
			out = append(out, bytes.Clone(b[sp+1:sp+1+n]))
			b = b[sp+1+n:]
		}
	}
	return out
}

// WaitFrames waits until n frames were received and returns them.
func (tee *parityTee) WaitFrames(t testing.TB, framing string, n int, timeout time.Duration) [][]byte {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		f := tee.Frames(t, framing)
		if len(f) >= n || time.Now().After(deadline) {
			return f
		}
		time.Sleep(5 * time.Millisecond) // polling what the relay goroutines record
	}
}

// newParityCloud is newCloud with the given logstores (one project)
// instead of the sample.
func newParityCloud(t *testing.T, stores ...*sample.Logstore) *cloud {
	t.Helper()
	c := &cloud{
		emu:    slsemu.New(),
		data:   stores[0],
		loader: slsemu.Credential{AccessKeyID: "LTAI-loader-parity", AccessKeySecret: "loader-secret-" + randomHex(t)},
		role: slsemu.Credential{AccessKeyID: "STS.e2e", AccessKeySecret: "role-secret-" + randomHex(t),
			SecurityToken: "role-token-" + randomHex(t)},
		output: &syncBuffer{},
	}
	c.emu.AddCredential(c.loader)
	c.emu.AddCredential(c.role)
	var err error
	c.endpoint, err = c.emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.emu.Close() })
	for _, ls := range stores {
		if err := c.emu.CreateLogstore(ls.Project, ls.Logstore, len(ls.Shards)); err != nil {
			t.Fatal(err)
		}
		if err := sample.Put(context.Background(), localcloud.NewSLSClient(c.endpoint, c.loader), ls); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { c.checkNoSecrets(t) })
	return c
}

// storeEvent is an SLS trigger event for the whole of one shard of ls.
func (c *cloud) storeEvent(t *testing.T, ls *sample.Logstore, shard int) []byte {
	t.Helper()
	begin, err := c.emu.Cursor(ls.Project, ls.Logstore, shard, "begin")
	if err != nil {
		t.Fatal(err)
	}
	end, err := c.emu.Cursor(ls.Project, ls.Logstore, shard, "end")
	if err != nil {
		t.Fatal(err)
	}
	ev := map[string]any{
		"cursorTime": 1732500000, "jobName": "parity", "taskId": "task-1", "parameter": map[string]any{},
		"source": map[string]any{
			"projectName": ls.Project, "logstoreName": ls.Logstore, "endpoint": c.endpoint,
			"shardId": shard, "beginCursor": begin, "endCursor": end,
		},
	}
	b, _ := json.Marshal(ev)
	return b
}
