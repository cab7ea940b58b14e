// Package sample holds the sample SLS logstore used by the local cloud and
// the tests: a deterministic generator of realistic security logs, a
// human-readable on-disk format, and a loader that writes the data into an
// SLS endpoint through the official SDK.
//
// A logstore directory holds two kinds of files:
//
//	logstore.json   {"project":"sls2siem-demo","logstore":"audit","shards":2}
//	shard-N.jsonl   one LogGroup per line, in the order the shard receives them
//
// Each line of a shard file looks like
//
//	{"topic":"..","source":"..","tags":[["k","v"]],"logs":[{"time":1732500000,"timeNs":123456789,"contents":[["k","v"]]}]}
//
// Pairs are JSON arrays so that their order and repeated keys survive.
// timeNs is omitted when it is zero. Write produces exactly the bytes that
// Load accepts, so the committed data can be regenerated with
//
//	go run ./internal/localcloud/sample/gen -seed 20261124 -shards 2 -groups 100 -out testdata/logstore
package sample
