package httpout

import (
	"bytes"
	"testing"
)

func TestEntryRoundTrip(t *testing.T) {
	for _, e := range []Entry{
		{Group: "ns", Points: 3, Payload: []byte("a v=1 1\nb v=2 2\nc v=3 3\n")},
		{Group: "", Points: 1, Payload: []byte{0x0a, 0x00}},
		{Group: string(bytes.Repeat([]byte("g"), 255)), Points: 1 << 20, Payload: []byte("x")},
	} {
		got, err := DecodeEntry(EncodeEntry(e))
		if err != nil || got.Group != e.Group || got.Points != e.Points || !bytes.Equal(got.Payload, e.Payload) {
			t.Errorf("round trip of %q/%d: %+v, %v", e.Group, e.Points, got, err)
		}
	}
}

func TestDecodeEntryErrors(t *testing.T) {
	valid := EncodeEntry(Entry{Group: "ms", Points: 2, Payload: []byte("p")})
	for name, data := range map[string][]byte{
		"empty":         nil,
		"short header":  valid[:4],
		"short group":   valid[:7],
		"newer version": append([]byte{2}, valid[1:]...),
		"no payload":    EncodeEntry(Entry{Group: "ms", Points: 1}),
		"no points":     EncodeEntry(Entry{Group: "ms", Points: 0, Payload: []byte("p")}),
	} {
		if _, err := DecodeEntry(data); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// FuzzDecodeEntry: any input decodes or errors without panicking, and
// what decodes encodes back to the same bytes.
func FuzzDecodeEntry(f *testing.F) {
	f.Add(EncodeEntry(Entry{Group: "ns", Points: 2, Payload: []byte("a v=1 1\nb v=2 2\n")}))
	f.Add([]byte{1, 0, 0, 0, 1, 200, 'x'})
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := DecodeEntry(data)
		if err != nil {
			return
		}
		if again := EncodeEntry(e); !bytes.Equal(again, data) {
			t.Fatalf("re-encoded %x, was %x", again, data)
		}
	})
}
