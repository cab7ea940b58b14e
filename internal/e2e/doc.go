// Package e2e holds the end-to-end tests: the built binary under the FC
// emulator against the SLS emulator and real receivers (rsyslog, syslog-ng).
//
// The real receivers are started by the test harness (harness_*_test.go) on
// free loopback ports with certificates generated at test time. They are
// installed by scripts/install-receivers.sh ("make test-deps"); without them
// the tests that need them are skipped, or fail when CI is set or
// SLS2SIEM_REQUIRE_RECEIVERS=1.
package e2e
