// Package format turns SLS logs into syslog messages: it flattens a log the
// way Alibaba's reference function does (loggroups_to_flattern_list), writes
// the seed's "||key=value" body, and puts an RFC 5424 header in front.
//
// Encoders append to a caller-owned buffer and allocate nothing per log in
// steady state.
package format
