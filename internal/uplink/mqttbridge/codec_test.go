package mqttbridge

import (
	"bytes"
	"testing"
)

func TestCodecRoundTrip(t *testing.T) {
	for _, m := range []message{
		{Topic: "sensors/a", Payload: []byte(`{"v":1}`)},
		{Topic: "alerts/x", Payload: nil, Retain: true},
		{Topic: string(bytes.Repeat([]byte("t"), 300)), Payload: []byte{0, 1, 2}},
	} {
		got, err := decodeMessage(encodeMessage(m))
		if err != nil {
			t.Fatalf("%q: %v", m.Topic, err)
		}
		if got.Topic != m.Topic || !bytes.Equal(got.Payload, m.Payload) || got.Retain != m.Retain {
			t.Fatalf("round trip: got %+v, want %+v", got, m)
		}
	}
	for _, bad := range [][]byte{nil, {1}, {2, 0, 1, 'a'}, {1, 2, 1, 'a'}, {1, 0, 0}, {1, 0, 5, 'a'}, {1, 0, 0x80}} {
		if _, err := decodeMessage(bad); err == nil {
			t.Errorf("decode %v: no error", bad)
		}
	}
}

// FuzzDecode: the decoder never panics, and what it accepts encodes back to
// something that decodes to the same message.
func FuzzDecode(f *testing.F) {
	f.Add(encodeMessage(message{Topic: "sensors/a/b", Payload: []byte("21.5")}))
	f.Add(encodeMessage(message{Topic: "alerts/door", Retain: true}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil {
			return
		}
		again, err := decodeMessage(encodeMessage(m))
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if again.Topic != m.Topic || !bytes.Equal(again.Payload, m.Payload) || again.Retain != m.Retain {
			t.Fatalf("re-decode: got %+v, want %+v", again, m)
		}
	})
}
