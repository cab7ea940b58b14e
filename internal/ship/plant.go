package ship

// plantStartBeforeConnect plants, for the delivery simulator's own tests
// only (set through export_test.go, never by configuration), the account
// Deliver kept before issue 22: a batch's start position read from the
// session before it had taken its connection, so 0 for the first batch on
// a pooled connection, which had carried other ranges' messages. The
// simulator must report it.
var plantStartBeforeConnect = false
