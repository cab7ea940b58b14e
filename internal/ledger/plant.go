package ledger

// plantOldAccount plants, for the delivery simulator's own tests only
// (set through export_test.go, never by configuration), the account this
// package kept before issue 22: a batch's acknowledged messages counted
// without bound (a position from another connection made partial exceed
// the batch), and resent taken as everything pending at each failure,
// written to the socket or not. The simulator must report it.
var plantOldAccount = false
