package queue

import (
	"bytes"
	"testing"
	"time"
)

func TestCodecRoundTrip(t *testing.T) {
	tests := []record{
		{},
		{Entry: Entry{Priority: High, Key: "site1/sensors/t", Data: []byte("21.5"), Time: time.Unix(0, 1_700_000_000_123)}, appended: 42},
		{Entry: Entry{Priority: Low, Key: "", Data: bytes.Repeat([]byte{0}, 300)}, appended: -1},
		{Entry: Entry{Key: string(make([]byte, 200)), Time: time.Unix(-5, 0)}},
	}
	for _, r := range tests {
		checkRoundTrip(t, r)
	}
}

func checkRoundTrip(t *testing.T, r record) {
	t.Helper()
	got, err := decodeRecord(encodeRecord(r))
	if err != nil {
		t.Fatalf("decode(encode(%+v)): %v", r, err)
	}
	if got.Priority != r.Priority || got.Key != r.Key || !bytes.Equal(got.Data, r.Data) ||
		!got.Time.Equal(r.Time) || got.appended != r.appended {
		t.Fatalf("round trip: got %+v, want %+v", got, r)
	}
}

// FuzzDecode feeds arbitrary stored values: decoding never panics, and a
// value that decodes re-encodes to one that decodes to the same record.
func FuzzDecode(f *testing.F) {
	f.Add(encodeRecord(record{Entry: Entry{Priority: High, Key: "a/b", Data: []byte("x"), Time: time.Unix(1, 2)}, appended: 3}))
	f.Fuzz(func(t *testing.T, v []byte) {
		r, err := decodeRecord(v)
		if err != nil {
			return
		}
		checkRoundTrip(t, r)
	})
}

// FuzzRoundTrip builds records from fuzzed fields.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint8(1), "k", []byte("d"), int64(1), true, int64(2))
	f.Fuzz(func(t *testing.T, prio uint8, key string, data []byte, tn int64, hasTime bool, appended int64) {
		r := record{Entry: Entry{Priority: Priority(prio % numPriorities), Key: key, Data: data}, appended: appended}
		if data == nil {
			r.Data = []byte{}
		}
		if hasTime {
			r.Time = time.Unix(0, tn)
			if r.Time.IsZero() {
				return
			}
		}
		checkRoundTrip(t, r)
	})
}
