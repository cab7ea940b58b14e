package relp

// PlantAckUnflushed plants the pre-issue-22 acknowledgement check (see
// plant.go) for the delivery simulator's planted-bug test.
var PlantAckUnflushed = &plantAckUnflushed
