package slsemu

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Shared zstd codecs; EncodeAll and DecodeAll are safe for concurrent use.
var (
	zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
		if err != nil {
			panic(fmt.Sprintf("slsemu: zstd encoder: %v", err)) // static options cannot fail
		}
		return e
	})
	zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
		d, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxBodySize), zstd.WithDecodeAllCapLimit(true))
		if err != nil {
			panic(fmt.Sprintf("slsemu: zstd decoder: %v", err)) // static options cannot fail
		}
		return d
	})
)

// acceptedEncoding returns the first encoding of an Accept-Encoding header
// the emulator produces ("lz4", "zstd" or "deflate"), or "" for none.
func acceptedEncoding(h string) string {
	for _, part := range strings.Split(h, ",") {
		name, _, _ := strings.Cut(part, ";")
		switch name = strings.ToLower(strings.TrimSpace(name)); name {
		case "lz4", "zstd", "deflate":
			return name
		}
	}
	return ""
}

// compress encodes raw as the service does for the encoding: lz4 is a raw
// LZ4 block, zstd a zstd frame and deflate a zlib stream.
func compress(encoding string, raw []byte) ([]byte, error) {
	switch encoding {
	case "lz4":
		dst := make([]byte, lz4.CompressBlockBound(len(raw)))
		n, err := lz4.CompressBlock(raw, dst, nil)
		if err != nil {
			return nil, fmt.Errorf("lz4 compress: %w", err)
		}
		return dst[:n], nil
	case "zstd":
		return zstdEncoder().EncodeAll(raw, make([]byte, 0, len(raw)/2+64)), nil
	case "deflate":
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		if _, err := w.Write(raw); err != nil {
			return nil, fmt.Errorf("deflate compress: %w", err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("deflate compress: %w", err)
		}
		return b.Bytes(), nil
	case "":
		return raw, nil
	}
	return nil, fmt.Errorf("unknown encoding %q", encoding)
}

// decompress decodes body compressed with compressType ("lz4", "zstd",
// "deflate") into exactly rawSize bytes.
func decompress(compressType string, body []byte, rawSize int) ([]byte, error) {
	var out []byte
	switch compressType {
	case "lz4":
		out = make([]byte, rawSize)
		n, err := lz4.UncompressBlock(body, out)
		if err != nil {
			return nil, fmt.Errorf("lz4 uncompress: %w", err)
		}
		out = out[:n]
	case "zstd":
		var err error
		out, err = zstdDecoder().DecodeAll(body, make([]byte, 0, rawSize))
		if err != nil {
			return nil, fmt.Errorf("zstd uncompress: %w", err)
		}
	case "deflate":
		r, err := zlib.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("deflate uncompress: %w", err)
		}
		out, err = io.ReadAll(io.LimitReader(r, int64(rawSize)+1))
		if err != nil {
			return nil, fmt.Errorf("deflate uncompress: %w", err)
		}
	default:
		return nil, fmt.Errorf("unknown compress type %q", compressType)
	}
	if len(out) != rawSize {
		return nil, errors.New("uncompressed size does not match x-log-bodyrawsize")
	}
	return out, nil
}
