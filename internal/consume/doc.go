// Package consume is the consumer-group driver: it ships a logstore to the
// syslog receiver as one consumer of an SLS consumer group, with the SDK's
// consumer library (heartbeats, shard balancing, server-side checkpoints).
//
// Log groups go through the same pipeline as the trigger handler's: a
// ship.Session per shard (the shared formatter and sender). A shard's
// checkpoint advances only after every log up to it was written, flushed
// and acknowledged by the receiver's TCP stack (Session.Confirm); a failed
// delivery resets the connection, saves no checkpoint and sends the same
// batch again (at-least-once). Run drives a consumer until its context
// ends, then stops it cleanly: the batch in flight finishes, the last
// checkpoints are saved and the shards are released.
package consume
