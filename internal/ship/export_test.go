package ship

// PlantStartBeforeConnect plants the pre-issue-22 batch start position
// (see plant.go) for the delivery simulator's planted-bug test.
var PlantStartBeforeConnect = &plantStartBeforeConnect
