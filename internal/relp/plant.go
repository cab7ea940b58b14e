package relp

// plantAckUnflushed plants, for the delivery simulator's own tests only
// (set through export_test.go, never by configuration), the check this
// package made before issue 22: an answer counted for any registered
// command, even one whose frame was still in the write buffer. The
// simulator must report it.
var plantAckUnflushed = false
