package ledger

// PlantOldAccount plants the pre-issue-22 account (see plant.go) for the
// delivery simulator's planted-bug test.
var PlantOldAccount = &plantOldAccount
