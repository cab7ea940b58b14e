// Package slsemu is an in-memory emulator of the Alibaba Cloud Log Service
// (SLS) data plane, faithful enough that the official Go SDK
// (github.com/aliyun/aliyun-log-go-sdk v0.1.127) cannot tell it from the real
// service for the calls it supports.
//
// It serves, over plain HTTP:
//
//	ListShards     GET  /logstores/{ls}/shards
//	GetCursor      GET  /logstores/{ls}/shards/{id}?type=cursor&from=begin|end|<unix>
//	GetCursorTime  GET  /logstores/{ls}/shards/{id}?type=cursor_time&cursor=C
//	PullLogs       GET  /logstores/{ls}/shards/{id}?type=logs&cursor=C&count=N[&end_cursor=E]
//	PutLogs        POST /logstores/{ls}, /logstores/{ls}/shards/lb,
//	                    /logstores/{ls}/shards/route?key=<hex>
//	ListLogStores  GET  /logstores
//	GetLogStore    GET  /logstores/{ls}
//
// and the consumer-group API (consumer_api.go). The query API (GetLogs,
// GetHistograms, GetLogsV2, GetProjectLogs) answers as the service does for
// a logstore without an index; every other operation answers 400
// ParameterInvalid. docs/local-cloud.md has the table of operations.
//
// The project is the first label of the request's Host header, as the SDKs
// send "<project>.<endpoint>". Every request must carry a valid signature,
// version 1 (HMAC-SHA1 or HMAC-SHA256) or V4 (SLS4-HMAC-SHA256), made with
// a credential registered by [Server.AddCredential] (auth.go cites the
// rules); errors are JSON bodies {"errorCode","errorMessage"} with the HTTP
// statuses the service uses, so the SDKs return them as their own error
// types (*sls.Error in Go).
//
// Cursors are deterministic: the first log group of every shard has the
// cursor number [CursorBase], the next one CursorBase+1, and so on; the
// cursor string is the standard base64 encoding of the decimal number, as
// the service and the SDK use.
//
// Log groups are stored serialized, once, at append time; a pull
// concatenates them into a LogGroupList without re-marshalling, so its cost
// depends only on the size of the answer.
package slsemu
