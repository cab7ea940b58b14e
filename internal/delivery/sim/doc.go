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
// # Several receivers
//
// A third of the seeds (drawn from the seed's own stream, so that the
// others are the one-receiver schedules they always were) ship to two or
// three receivers (SYSLOG_HOST's list, failover or round-robin, probes
// every 20 ms to 2 s, fail-back after 1 to 3 of them), each with a
// behaviour over the run: healthy, down from the start, killed mid-run
// (its connections reset, dials refused or unanswered for a while),
// flapping (killed and back every 20 ms to 1 s), or accepting and never
// acknowledging (RELP: not even the open, or the open alone; TCP: never
// reading). The instance's health probes dial through the same network,
// recognised by receivers.IsProbe.
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
// acknowledge; no counter is negative. With several receivers, besides:
// a range changes receiver only after a failure (its connection to the
// receiver it leaves has ended, and it changed receivers no more often
// than it reconnected); it switches at most receivers ×
// max(SYSLOG_MAX_RETRIES, 1) times; the logs it reports per receiver sum
// to its logs and each receiver acknowledged at least as many of them;
// a failover range starts on the first receiver that was up.
//
// A failing seed prints itself; `go test ./internal/delivery/sim -run Sim
// -seed N` replays it, and seeds found become regression tests
// (regressionSeeds in sim_test.go).
package sim
