package logstore

import (
	"encoding/binary"
	"errors"
	"io"
)

// The protobuf wire format, read exactly as the SDK's generated (gogo)
// decoder reads it, so that both accept and reject the same inputs.

var (
	errOverflow      = errors.New("varint overflows 64 bits")
	errInvalidLength = errors.New("negative length")
	errEndGroup      = errors.New("unexpected end of group")
	errIllegalTag    = errors.New("illegal tag")
	errWireType      = errors.New("illegal wire type")
)

// varint reads a base-128 varint of at most ten bytes.
func varint(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; ; i++ {
		if i >= 10 {
			return 0, 0, errOverflow
		}
		if i >= len(b) {
			return 0, 0, io.ErrUnexpectedEOF
		}
		c := b[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, i + 1, nil
		}
	}
}

// tag reads a field tag. An end-group tag or a field number ≤ 0 is an
// error, as in the SDK.
func tag(b []byte) (num int32, typ int, n int, err error) {
	v, n, err := varint(b)
	if err != nil {
		return 0, 0, 0, err
	}
	num, typ = int32(v>>3), int(v&7)
	if typ == 4 {
		return 0, 0, 0, errEndGroup
	}
	if num <= 0 {
		return 0, 0, 0, errIllegalTag
	}
	return num, typ, n, nil
}

// bytesField reads a length-delimited value (b starts after the tag).
func bytesField(b []byte) ([]byte, int, error) {
	if len(b) > 0 && b[0] < 0x80 { // one-byte length: the common case
		n := int(b[0])
		if 1+n > len(b) {
			return nil, 0, io.ErrUnexpectedEOF
		}
		return b[1 : 1+n], 1 + n, nil
	}
	v, n, err := varint(b)
	if err != nil {
		return nil, 0, err
	}
	length := int(v)
	if length < 0 || n+length < 0 {
		return nil, 0, errInvalidLength
	}
	if n+length > len(b) {
		return nil, 0, io.ErrUnexpectedEOF
	}
	return b[n : n+length], n + length, nil
}

// fixed32 reads a little-endian 32-bit value.
func fixed32(b []byte) (uint32, int, error) {
	if len(b) < 4 {
		return 0, 0, io.ErrUnexpectedEOF
	}
	return binary.LittleEndian.Uint32(b), 4, nil
}

// skip returns the length of the unknown field starting at b (its tag
// included), following the SDK's skip: groups nest by depth alone.
func skip(b []byte) (int, error) {
	i, depth := 0, 0
	for i < len(b) {
		v, n, err := varint(b[i:])
		if err != nil {
			return 0, err
		}
		i += n
		switch v & 7 {
		case 0:
			_, n, err := varint(b[i:])
			if err != nil {
				return 0, err
			}
			i += n
		case 1:
			i += 8
		case 2:
			l, n, err := varint(b[i:])
			if err != nil {
				return 0, err
			}
			i += n
			if int(l) < 0 {
				return 0, errInvalidLength
			}
			i += int(l)
		case 3:
			depth++
		case 4:
			if depth == 0 {
				return 0, errEndGroup
			}
			depth--
		case 5:
			i += 4
		default:
			return 0, errWireType
		}
		if i < 0 {
			return 0, errInvalidLength
		}
		if depth == 0 {
			if i > len(b) {
				return 0, io.ErrUnexpectedEOF
			}
			return i, nil
		}
	}
	return 0, io.ErrUnexpectedEOF
}
