// Package sim is the deterministic delivery simulator: it drives the real
// delivery core (ship's retry loop Shipper.Deliver, the ledger, the RELP
// client, the TCP confirmation logic, the transport's connection pool)
// over simulated connections to simulated receivers, under a simulated
// clock, through a fault schedule drawn from a seed, and checks after each
// run that what the shipper answered is true.
//
// # Time
//
// A run executes inside a testing/synctest bubble: time.Now, timers,
// deadlines and sleeps use the bubble's fake clock, which jumps forward
// whenever every goroutine of the bubble is blocked. A simulated second
// costs nothing; what a run does depends on the seed and on the order of
// the events in simulated time, not on the machine's speed.
//
// # Network
//
// Dial (plugged in as transport.Config.Dial through ship.WithDial) returns
// one end of a simulated TCP connection (link): per direction a sender's
// socket buffer, a latency and a receiver's socket buffer. Bytes move into
// the receiver's buffer when they arrive and there is room: that is the
// receiver's TCP stack acknowledging them, which the client end reports
// through Unacked() in place of Linux's SIOCOUTQ. Writes block while the
// send buffer is full, reads while nothing arrived, both up to their
// deadlines. Close sends FIN, or RST when unread data is left or arrives
// later; a reset drops everything in flight and in the buffers.
//
// # Receivers and faults
//
// Each connection gets a receiver (RELP, as rsyslog's imrelp answers, or
// plain TCP with octet-counting framing) and a plan drawn from (seed,
// connection number): refused or unanswered dials, a close right after
// accepting, resets and half-closes at any byte offset, acknowledgements
// delayed, batched and split across reads, rsp 500, serverclose, the
// middlebox that takes bytes and discards them, stalls past the write
// timeout, protocol violations, slow socket writes, and the liar: a
// receiver that acknowledges TXNRs it never received (the frame the
// client's pending socket write cuts in two). Around them the schedule
// sets the ranges (back-to-back, sharing the pooled connections, retried
// like the SLS trigger does), batch sizes, message sizes (truncated and
// dropped ones included), the window, timeouts, backoff and deadlines that
// expire mid-batch.
//
// # Invariants
//
// After every run (Check): a range answered success has every message
// acknowledged by a receiver at least once (RELP: stored and answered 200;
// TCP: read by the receiver, except the documented TCP class of bytes its
// stack acknowledged and it never read); logs counts each message once and
// the other counters match the range; resent is never negative and equals
// the messages written to a socket more than once (plaintext schedules);
// a failed range's logs are a prefix of the range that the receiver did
// acknowledge; no counter is negative.
//
// A failing seed prints itself; `go test ./internal/delivery/sim -run Sim
// -seed N` replays it, and seeds found become regression tests
// (regressionSeeds in sim_test.go).
package sim
