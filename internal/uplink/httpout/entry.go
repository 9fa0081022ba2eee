package httpout

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A queue entry's Data is one Append call's points in wire form, ready to
// be concatenated with other entries of the same group into one request:
//
//	version (1) | points uint32 big-endian | group length (1) | group | payload
//
// The group says how the payload must be sent (influx: the timestamp
// precision); entries of different groups never share a request.
const (
	entryV1        = 1
	entryHeaderLen = 1 + 4 + 1
	maxGroupLen    = 255
)

// Entry is a decoded queue entry.
type Entry struct {
	Group   string
	Points  int
	Payload []byte // aliases the encoded data
}

var errShortEntry = errors.New("entry shorter than its header")

// beginEntry appends an entry header with a zero point count to dst; the
// caller appends the payload and sets the count with finishEntry.
func beginEntry(dst []byte, group string) []byte {
	if len(group) > maxGroupLen {
		group = group[:maxGroupLen]
	}
	dst = append(dst, entryV1, 0, 0, 0, 0, byte(len(group)))
	return append(dst, group...)
}

// finishEntry sets the point count of the entry starting at data[0].
func finishEntry(data []byte, points int) {
	binary.BigEndian.PutUint32(data[1:5], uint32(points))
}

// EncodeEntry returns the queue data for a payload.
func EncodeEntry(e Entry) []byte {
	b := beginEntry(make([]byte, 0, entryHeaderLen+len(e.Group)+len(e.Payload)), e.Group)
	finishEntry(b, e.Points)
	return append(b, e.Payload...)
}

// DecodeEntry parses queue data written by EncodeEntry (or Output.Append).
func DecodeEntry(data []byte) (Entry, error) {
	if len(data) < entryHeaderLen {
		return Entry{}, errShortEntry
	}
	if data[0] != entryV1 {
		return Entry{}, fmt.Errorf("entry version %d is not %d (written by a newer borda?)", data[0], entryV1)
	}
	points := binary.BigEndian.Uint32(data[1:5])
	gl := int(data[5])
	if len(data) < entryHeaderLen+gl {
		return Entry{}, errShortEntry
	}
	e := Entry{Group: string(data[entryHeaderLen : entryHeaderLen+gl]), Points: int(points),
		Payload: data[entryHeaderLen+gl:]}
	if e.Points < 1 || len(e.Payload) == 0 {
		return Entry{}, fmt.Errorf("entry with %d points and %d payload bytes", e.Points, len(e.Payload))
	}
	return e, nil
}
