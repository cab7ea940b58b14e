package slsemu

import (
	"encoding/hex"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

// putLogs serves PutLogs: POST /logstores/{ls} and /logstores/{ls}/shards/lb
// write to the shards in turn; POST /logstores/{ls}/shards/route?key=K
// writes to the shard whose key range holds K. The body is one serialized
// LogGroup, compressed as x-log-compresstype says (lz4, zstd, deflate or
// none), of x-log-bodyrawsize bytes uncompressed.
func (s *Server) putLogs(rq *request) *apiError {
	ls, e := s.findLogstore(rq.project, rq.logstore)
	if e != nil {
		return e
	}
	if ct := rq.r.Header.Get("Content-Type"); mediaType(ct) != "application/x-protobuf" {
		return errorf(415, codeInvalidContentType, "Content-Type %s is unsupported.", ct)
	}
	raw := rq.body
	if ctype := rq.r.Header.Get("x-log-compresstype"); ctype != "" {
		switch ctype {
		case "lz4", "zstd", "deflate":
		default:
			return errorf(400, codeInvalidCompressType, "x-log-compresstype %s is unsupported.", ctype)
		}
		rs := rq.r.Header.Get("x-log-bodyrawsize")
		if rs == "" {
			return errorf(400, codeMissingBodyRawSize, "x-log-bodyrawsize does not exist in header when it is necessary.")
		}
		rawSize, err := strconv.Atoi(rs)
		if err != nil || rawSize < 0 || rawSize > maxBodySize {
			return errorf(400, codeInvalidBodyRawSize, "x-log-bodyrawsize is invalid.")
		}
		if raw, err = decompress(ctype, rq.body, rawSize); err != nil {
			return errorf(400, codePostBodyUncompress, "Cannot uncompress the body: %v.", err)
		}
	}
	var lg sls.LogGroup
	if err := lg.Unmarshal(raw); err != nil {
		return errorf(400, codePostBodyInvalid, "The body is not a valid LogGroup: %v.", err)
	}

	var sh *shard
	if rq.shard == "route" {
		key := rq.query.Get("key")
		if sh = ls.routeShard(key); sh == nil {
			return errorf(400, codeParameterInvalid, "Hash key %q is invalid.", key)
		}
	} else {
		sh = ls.shards[(ls.lb.Add(1)-1)%uint64(len(ls.shards))]
	}
	if _, err := sh.append(raw, time.Now().Unix(), false); err != nil {
		return internalError(err)
	}
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

// routeShard returns the shard whose key range holds the hex hash key, or
// nil if the key is not hex. Keys shorter than 32 digits are padded with
// zeros on the right; the last shard also holds the key ffff…f.
func (ls *logstore) routeShard(key string) *shard {
	key = strings.ToLower(key)
	if key == "" || len(key) > 32 {
		return nil
	}
	key += strings.Repeat("0", 32-len(key))
	if _, err := hex.DecodeString(key); err != nil {
		return nil
	}
	for i, sh := range ls.shards {
		if key >= sh.beginKey && (key < sh.endKey || i == len(ls.shards)-1) {
			return sh
		}
	}
	return nil
}

// mediaType returns the media type of a Content-Type value without
// parameters.
func mediaType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ct
	}
	return mt
}
