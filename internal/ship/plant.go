package ship

// plantStartBeforeConnect plants, for the delivery simulator's own tests
// only (set through export_test.go, never by configuration), the account
// Deliver kept before issue 22: a batch's start position read from the
// session before it had taken its connection, so 0 for the first batch on
// a pooled connection, which had carried other ranges' messages. The
// simulator must report it.
var plantStartBeforeConnect = false

// plantSwitchSkipsUnconfirmed plants, for the simulator's tests only, the
// switch that claims early: after a failure the next receiver resumes
// after the batches written to the failed one, as if the failed
// connection had delivered what it was handed.
var plantSwitchSkipsUnconfirmed = false

// plantReceiverPerBatch plants, for the simulator's tests only, a range
// that changes receivers without a failure: the session hands its
// connection back after every batch and takes the next receiver for the
// next one (round-robin per batch instead of per range).
var plantReceiverPerBatch = false
