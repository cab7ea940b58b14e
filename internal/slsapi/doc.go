// Package slsapi is the one way sls2siem talks to the Simple Log Service
// API: the guarded HTTP transport every SLS request goes through (the
// allow-list of endpoints, direct dialling of IP and localhost endpoints,
// bounded answers), the one constructor of the official SDK's client, the
// metadata calls the commands make (ListShards, GetCursor, GetCursorTime,
// GetLogStore, consumer-group checkpoints, PutLogs), the SLS cursor codec,
// and the errors they fail with (*CodeError for an SLS error code,
// *UnreachableError for an endpoint that cannot be reached).
//
// Bounds. The SDK retries network errors and 5xx answers on its own for as
// long as its retry window lasts; left alone, a wrong endpoint takes 20 to
// 30 seconds to fail. Here:
//
//   - connecting to an endpoint (DNS, TCP, TLS handshake) is bounded by
//     DialTimeout and TLSHandshakeTimeout, and a failure to connect is
//     final: the SDK is not let to retry it, and the call fails at once with
//     one line naming the endpoint (*UnreachableError);
//   - a metadata call, the SDK's retries of 5xx answers and of broken
//     connections included, ends within CallTimeout;
//   - a PullLogs call of the log reader (internal/logstore) has its own,
//     longer bounds (PullTimeout, PullRetryWindow), within the invocation's
//     deadline.
package slsapi
