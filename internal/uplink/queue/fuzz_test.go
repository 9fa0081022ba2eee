package queue

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"reflect"
	"testing"
	"time"
)

// FuzzSegment feeds arbitrary segment contents: parsing never panics,
// stops at the first bad frame, and every frame it accepts re-encodes to
// the same bytes.
func FuzzSegment(f *testing.F) {
	seg := appendSegHeader(nil, Low, 7)
	seg = appendFrame(seg, 8, record{Entry: Entry{Key: "k", Data: []byte("v"), Time: time.Unix(1, 2)}, appended: 3})
	f.Add(seg)
	f.Add(seg[:len(seg)-1])
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := parseSegHeader(b, Low); err != nil {
			return
		}
		for off := segHeaderLen; off < len(b); {
			size, seq, value, err := parseFrame(b[off:])
			if err != nil {
				return
			}
			if again := appendRawFrame(nil, seq, value); !bytes.Equal(again, b[off:off+size]) {
				t.Fatalf("frame at %d re-encodes to %x, was %x", off, again, b[off:off+size])
			}
			_, _ = decodeRecord(value)
			off += size
		}
	})
}

// FuzzCheckpoint feeds arbitrary checkpoint bodies (what follows the
// magic and version, before the checksum, which the fuzzer could not
// match): decoding never panics nor allocates beyond the input's size,
// and what decodes re-encodes to the same checkpoint.
func FuzzCheckpoint(f *testing.F) {
	for _, c := range []*checkpoint{{}, {lastSeq: 9, prio: [numPriorities]ckPrio{
		{readSeg: 2, readOff: 100, live: []ckEntry{{seq: 3, seg: 1, off: 24, size: 40}}, gone: []uint64{7, 8}},
		{readSeg: 1, readOff: 24},
	}}} {
		b := encodeCheckpoint(c)
		f.Add(b[len(ckMagic)+1 : len(b)-4])
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		b := append([]byte(ckMagic), checkpointVersion)
		b = append(b, body...)
		b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
		c, err := decodeCheckpoint(b)
		if err != nil {
			return
		}
		again, err := decodeCheckpoint(encodeCheckpoint(c))
		if err != nil || !reflect.DeepEqual(normalize(again), normalize(c)) {
			t.Fatalf("round trip: %+v, %v; was %+v", again, err, c)
		}
	})
}

// normalize makes empty lists nil for comparison.
func normalize(c *checkpoint) *checkpoint {
	for p := range c.prio {
		if len(c.prio[p].live) == 0 {
			c.prio[p].live = nil
		}
		if len(c.prio[p].gone) == 0 {
			c.prio[p].gone = nil
		}
	}
	return c
}
