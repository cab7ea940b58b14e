package transport

import (
	"bufio"
	"context"
	"io"
	"net"
	"strconv"
	"testing"
	"time"
)

// benchMessage is a typical formatted message (~300 bytes).
var benchMessage = []byte(`<166>1 2026-12-01T22:43:15.123Z host sls2siem - - [origin@32473 project="p" logstore="s" shard="0" cursor="MTYwMDAwMDAwMDAwMDAwMDAwMA==" index="7"] ||__topic__=nginx_access||__source__=192.168.10.13||field_0=value-12345-abcdefghij||field_1=value-12345-abcdefghij||field_2=value-12345-abcdefghij`)

// discardSink accepts connections and reads everything they carry.
func discardSink(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go io.Copy(io.Discard, c)
		}
	}()
	return ln.Addr().String()
}

// ackingRELPSink is a RELP receiver that acknowledges every command.
func ackingRELPSink(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveAcks(c)
		}
	}()
	return ln.Addr().String()
}

// serveAcks answers every command on c with 200, without allocating per
// frame (benchmarks count the whole process's allocations).
func serveAcks(c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 64<<10)
	w := bufio.NewWriterSize(c, 16<<10)
	var txnr [16]byte
	var out []byte
	for {
		// TXNR SP CMD SP DATALEN [SP DATA] LF
		t, err := r.ReadSlice(' ')
		if err != nil || len(t) > len(txnr) {
			return
		}
		k := copy(txnr[:], t[:len(t)-1])
		cmd, err := r.ReadSlice(' ')
		if err != nil {
			return
		}
		isOpen := string(cmd) == "open "
		n := 0
		for {
			ch, err := r.ReadByte()
			if err != nil {
				return
			}
			if ch < '0' || ch > '9' {
				if ch == ' ' {
					if _, err := r.Discard(n); err != nil {
						return
					}
					if _, err := r.ReadByte(); err != nil { // LF
						return
					}
				}
				break
			}
			n = n*10 + int(ch-'0')
		}
		data := "200 OK"
		if isOpen {
			data = "200 OK\nrelp_version=0\ncommands=syslog"
		}
		out = append(out[:0], txnr[:k]...)
		out = append(out, " rsp "...)
		out = strconv.AppendInt(out, int64(len(data)), 10)
		out = append(out, ' ')
		out = append(out, data...)
		out = append(out, '\n')
		w.Write(out)
		if r.Buffered() == 0 {
			w.Flush()
		}
	}
}

// benchWrite writes b.N messages in batches of 100, flushing after each
// batch and confirming (without waiting) like ship does.
func benchWrite(b *testing.B, cfg Config) {
	ctx := context.Background()
	c, err := Dial(ctx, &cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	b.SetBytes(int64(len(benchMessage)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.Write(benchMessage); err != nil {
			b.Fatal(err)
		}
		if i%100 == 99 {
			if err := c.Flush(); err != nil {
				b.Fatal(err)
			}
			c.Acked()
		}
	}
	if err := c.Confirm(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkWriteTCP: the per-message path over plain TCP (octet-counting).
func BenchmarkWriteTCP(b *testing.B) {
	benchWrite(b, Config{Network: NetworkTCP, Address: discardSink(b), Framing: FramingOctetCounting,
		DialTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
}

// BenchmarkWriteRELP: the per-message path over RELP to a receiver that
// acknowledges every frame.
func BenchmarkWriteRELP(b *testing.B) {
	benchWrite(b, Config{Network: NetworkRELP, Address: ackingRELPSink(b),
		DialTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
}
