package ship

// PlantStartBeforeConnect plants the pre-issue-22 batch start position
// (see plant.go) for the delivery simulator's planted-bug test.
var PlantStartBeforeConnect = &plantStartBeforeConnect

// PlantSwitchSkipsUnconfirmed and PlantReceiverPerBatch plant the two
// receiver-switch bugs of plant.go for the simulator's planted-bug tests.
var (
	PlantSwitchSkipsUnconfirmed = &plantSwitchSkipsUnconfirmed
	PlantReceiverPerBatch       = &plantReceiverPerBatch
)
