package transport

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestMeasureSettle (SETTLE_MEASURE=1): receivers that accept, read part
// of a batch, and close after a delay; how many confirmations succeed
// although the receiver did not read everything, per settle time.
func TestMeasureSettle(t *testing.T) {
	if os.Getenv("SETTLE_MEASURE") == "" {
		t.Skip("measurement")
	}
	const runs = 40
	batch := []byte(strings.Repeat("x", 2000))
	for _, readFirst := range []int{-1, 0, 20000} {
		for _, delay := range []time.Duration{0, time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond, 100 * time.Millisecond} {
			line := fmt.Sprintf("read %5d then close after %6v:", readFirst, delay)
			for _, settle := range []time.Duration{0, 5 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond} {
				var lost, detected int
				var took time.Duration
				for range runs {
					var readAll atomic.Bool
					ln, _ := net.Listen("tcp", "127.0.0.1:0")
					go func() {
						c, err := ln.Accept()
						if err != nil {
							return
						}
						if readFirst < 0 { // healthy: reads everything, stays open
							io.Copy(io.Discard, c)
							return
						}
						if readFirst > 0 {
							io.ReadFull(c, make([]byte, readFirst))
						}
						time.Sleep(delay)
						c.Close()
					}()
					cfg := Config{Network: NetworkTCP, Address: ln.Addr().String(), Framing: FramingOctetCounting,
						DialTimeout: time.Second, WriteTimeout: time.Second, SettleTime: settle}
					start := time.Now()
					c, err := Dial(context.Background(), &cfg)
					if err != nil {
						t.Fatal(err)
					}
					for range 25 { // 50 KB
						c.Write(batch)
					}
					err = c.Confirm(context.Background())
					took += time.Since(start)
					readAll.Store(readFirst < 0)
					if err == nil && !readAll.Load() {
						lost++
					} else if err != nil {
						detected++
					}
					c.Close()
					ln.Close()
				}
				line += fmt.Sprintf("  settle %v: %d/%d confirmed unread (%d failed), %v/confirm", settle, lost, runs, detected, (took / runs).Round(100*time.Microsecond))
			}
			t.Log(line)
		}
	}
}
