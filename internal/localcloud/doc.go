// Package localcloud runs the function the way Alibaba Cloud would, on one
// machine: an SLS emulator (slsemu) loaded with a sample logstore through
// the real SDK, the real built binary under the FC emulator (fcemu), driven
// by an SLS-trigger simulator (slstrigger), shipping to an embedded syslog
// receiver (receiver) or to a real one named by SYSLOG_HOST.
//
// It is test and demo infrastructure: nothing on the product path imports it.
package localcloud
