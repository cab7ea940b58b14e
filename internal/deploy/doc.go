// Package deploy holds no product code. Its tests keep the deployment
// description honest: s.yaml rendered by the real Serverless Devs CLI
// (`s preview`) must validate against the fc3 component's JSON schema, pass
// every variable the code reads through from the environment, and start the
// binary that `make package` puts in the zip with the runtime, command and
// port the binary serves; the RAM policies in deploy/ram, the layer recipe in
// layer/ and the pages docs/deploy.md and docs/operating.md (Troubleshooting)
// must agree with the code.
//
// Its benchmark measures the cold start of the packaged binary under the FC
// emulator, for both runtime contracts.
//
// The tests run `s` from deploy/node_modules (make deploy-deps installs it).
// Without it they skip, unless CI or SLS2SIEM_REQUIRE_RECEIVERS is set (as
// make test does), where they fail.
package deploy
