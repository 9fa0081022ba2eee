package mqttmsg

import (
	"bytes"
	"testing"
)

func same(a, b Message) bool {
	return a.Topic == b.Topic && bytes.Equal(a.Payload, b.Payload) && a.Retain == b.Retain && a.QoS == b.QoS
}

func TestRoundTrip(t *testing.T) {
	for _, m := range []Message{
		{Topic: "sensors/a", Payload: []byte(`{"v":1}`)},
		{Topic: "alerts/x", Payload: nil, Retain: true, QoS: 2},
		{Topic: "cmd/stop", Payload: []byte("1"), QoS: 1},
		{Topic: string(bytes.Repeat([]byte("t"), 300)), Payload: []byte{0, 1, 2}},
	} {
		got, err := Decode(Encode(m))
		if err != nil {
			t.Fatalf("%q: %v", m.Topic, err)
		}
		if !same(got, m) {
			t.Fatalf("round trip: got %+v, want %+v", got, m)
		}
	}
	for _, bad := range [][]byte{nil, {1}, {2, 0, 1, 'a'}, {1, 8, 1, 'a'}, {1, 6, 1, 'a'}, {1, 0, 0}, {1, 0, 5, 'a'}, {1, 0, 0x80}} {
		if _, err := Decode(bad); err == nil {
			t.Errorf("decode %v: no error", bad)
		}
	}
}

// Entries queued before the QoS bits existed (flags 0 or 1) still decode.
func TestDecodesOldEntries(t *testing.T) {
	m, err := Decode([]byte{1, 1, 3, 'a', '/', 'b', 'x'})
	if err != nil || m.Topic != "a/b" || string(m.Payload) != "x" || !m.Retain || m.QoS != 0 {
		t.Fatalf("got %+v, %v", m, err)
	}
}

// FuzzDecode: the decoder never panics, and what it accepts encodes back to
// something that decodes to the same message.
func FuzzDecode(f *testing.F) {
	f.Add(Encode(Message{Topic: "sensors/a/b", Payload: []byte("21.5")}))
	f.Add(Encode(Message{Topic: "alerts/door", Retain: true, QoS: 1}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Decode(Encode(m))
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !same(again, m) {
			t.Fatalf("re-decode: got %+v, want %+v", again, m)
		}
	})
}
