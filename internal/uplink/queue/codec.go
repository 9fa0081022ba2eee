package queue

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Stored value layout (the payload of a segment frame after the 8-byte
// sequence number, see segment.go; the same as the values of the former
// bbolt queue file, which Open migrates):
//
//	[0]      format version (1)
//	[1]      priority
//	[2]      flags (bit 0: Entry.Time is set)
//	[3:11]   append time, Unix ns, big-endian (used for MaxAge)
//	[11:19]  Entry.Time, Unix ns, big-endian (0 when not set)
//	uvarint  key length, then the key, then the data (rest of the value)
const (
	formatV1   = 1
	headerLen  = 19
	flagHasTim = 1
)

var errCorrupt = errors.New("corrupt queue entry")

// record is an entry as stored, with the time it was appended.
type record struct {
	Entry
	appended int64 // Unix ns
}

func encodeRecord(r record) []byte {
	return appendRecord(make([]byte, 0, recordCap(r.Entry)), r)
}

// recordCap is an upper bound of the encoded size of e.
func recordCap(e Entry) int { return headerLen + binary.MaxVarintLen64 + len(e.Key) + len(e.Data) }

// appendRecord appends the encoding of r to dst.
func appendRecord(dst []byte, r record) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, headerLen)...)
	v := dst[start:]
	v[0] = formatV1
	v[1] = byte(r.Priority)
	var tn int64
	if !r.Time.IsZero() {
		v[2] = flagHasTim
		tn = r.Time.UnixNano()
	}
	binary.BigEndian.PutUint64(v[3:], uint64(r.appended))
	binary.BigEndian.PutUint64(v[11:], uint64(tn))
	dst = binary.AppendUvarint(dst, uint64(len(r.Key)))
	dst = append(dst, r.Key...)
	return append(dst, r.Data...)
}

// appendedOf reads the append time from a stored value's header without
// decoding it; 0 (long expired) when the header is unreadable.
func appendedOf(v []byte) int64 {
	if len(v) < headerLen || v[0] != formatV1 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v[3:]))
}

// priorityOf reads the priority from a stored value's header.
func priorityOf(v []byte) (Priority, bool) {
	if len(v) < headerLen || v[0] != formatV1 || Priority(v[1]) > High {
		return 0, false
	}
	return Priority(v[1]), true
}

// decodeRecord parses a stored value; the result does not alias v.
func decodeRecord(v []byte) (record, error) {
	if len(v) < headerLen {
		return record{}, fmt.Errorf("%w: %d bytes, header needs %d", errCorrupt, len(v), headerLen)
	}
	if v[0] != formatV1 {
		return record{}, fmt.Errorf("%w: format version %d", errCorrupt, v[0])
	}
	if Priority(v[1]) > High || v[2]&^flagHasTim != 0 {
		return record{}, fmt.Errorf("%w: priority %d flags %#x", errCorrupt, v[1], v[2])
	}
	r := record{appended: int64(binary.BigEndian.Uint64(v[3:]))}
	r.Priority = Priority(v[1])
	if v[2]&flagHasTim != 0 {
		r.Time = time.Unix(0, int64(binary.BigEndian.Uint64(v[11:])))
	}
	rest := v[headerLen:]
	kl, n := binary.Uvarint(rest)
	if n <= 0 || kl > uint64(len(rest)-n) {
		return record{}, fmt.Errorf("%w: bad key length", errCorrupt)
	}
	rest = rest[n:]
	r.Key = string(rest[:kl])
	r.Data = append([]byte(nil), rest[kl:]...)
	return r, nil
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// seqFromKey is the sequence of a stored key; 0 (never used) when the key
// is not 8 bytes long.
func seqFromKey(k []byte) uint64 {
	if len(k) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(k)
}
