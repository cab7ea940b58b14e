// Package nodesdk drives the SLS emulator with Alibaba's Node.js SDKs,
// @alicloud/log and @alicloud/sls20201230, unmodified: the emulator's
// second and third official clients after the Go SDK. Its test serves the
// local cloud as `localcloud -mode serve` does, runs testdata/suite.js with
// the machine's node and compares every answer the Node.js clients got
// with what the Go SDK gets on the same data.
//
// The suite's packages are pinned in testdata/package-lock.json and
// installed by `make nodesdk-deps` (scripts/install-nodesdk.sh), which
// `make test` runs. Without node or the packages the test skips, saying
// so, unless SLS2SIEM_REQUIRE_RECEIVERS=1 (set by make test) or CI is set:
// then it fails.
//
// docs/local-cloud.md lists what each client reaches, how, and the
// differences between the clients the suite revealed.
package nodesdk
