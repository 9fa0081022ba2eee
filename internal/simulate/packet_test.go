package simulate

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

func readAll(b []byte) ([]packet, error) {
	r := bufio.NewReader(bytes.NewReader(b))
	var buf []byte
	var out []packet
	for range 1000 {
		p, err := readPacket(r, &buf)
		if err != nil {
			return out, err
		}
		// copy what aliases buf
		p.Topic, p.Payload, p.Codes = bytes.Clone(p.Topic), bytes.Clone(p.Payload), bytes.Clone(p.Codes)
		out = append(out, p)
	}
	return out, nil
}

func TestReadPacket(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 200) // two-byte remaining length
	tests := []struct {
		name    string
		in      []byte
		want    packet
		wantErr error
	}{
		{"connack ok", []byte{0x20, 2, 0, 0}, packet{Type: pktConnack, Codes: []byte{0, 0}}, nil},
		{"puback", []byte{0x40, 2, 0x12, 0x34}, packet{Type: pktPuback, ID: 0x1234}, nil},
		{"suback", []byte{0x90, 3, 0, 1, 1}, packet{Type: pktSuback, ID: 1, Codes: []byte{1}}, nil},
		{"pingresp", []byte{0xd0, 0}, packet{Type: pktPingresp}, nil},
		{"publish qos0", append(appendPublishHeader(nil, []byte("a/b"), 0, 0, 2), "hi"...),
			packet{Type: pktPublish, Topic: []byte("a/b"), Payload: []byte("hi")}, nil},
		{"publish qos1 long", append(appendPublishHeader(nil, []byte("t"), 1, 7, len(long)), long...),
			packet{Type: pktPublish, Flags: 2, ID: 7, Topic: []byte("t"), Payload: long}, nil},
		{"unknown type kept", []byte{0xf0, 1, 9}, packet{Type: 15}, nil},
		{"eof", nil, packet{}, io.EOF},
		{"truncated length", []byte{0x30, 0x80}, packet{}, io.ErrUnexpectedEOF},
		{"truncated body", []byte{0x30, 5, 0, 1}, packet{}, io.ErrUnexpectedEOF},
		{"length of 5 bytes", []byte{0x30, 0xff, 0xff, 0xff, 0xff, 1}, packet{}, errMalformed},
		{"too large", []byte{0x30, 0xff, 0xff, 0xff, 0x7f}, packet{}, errMalformed},
		{"bad connack", []byte{0x20, 1, 0}, packet{}, errMalformed},
		{"bad puback", []byte{0x40, 3, 0, 1, 2}, packet{}, errMalformed},
		{"short suback", []byte{0x90, 2, 0, 1}, packet{}, errMalformed},
		{"pingresp with body", []byte{0xd0, 1, 0}, packet{}, errMalformed},
		{"publish qos3", []byte{0x36, 3, 0, 1, 'a'}, packet{}, errMalformed},
		{"publish topic past end", []byte{0x30, 3, 0, 5, 'a'}, packet{}, errMalformed},
		{"publish qos1 id 0", []byte{0x32, 5, 0, 1, 'a', 0, 0}, packet{}, errMalformed},
		{"publish without topic length", []byte{0x30, 1, 0}, packet{}, errMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := readAll(tt.in)
			if tt.wantErr != nil {
				if len(ps) != 0 || !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, %v; want error %v", ps, err, tt.wantErr)
				}
				return
			}
			if len(ps) != 1 || !errors.Is(err, io.EOF) {
				t.Fatalf("got %d packets, %v", len(ps), err)
			}
			p := ps[0]
			if p.Type != tt.want.Type || p.Flags != tt.want.Flags || p.ID != tt.want.ID ||
				!bytes.Equal(p.Topic, tt.want.Topic) || !bytes.Equal(p.Payload, tt.want.Payload) || !bytes.Equal(p.Codes, tt.want.Codes) {
				t.Fatalf("got %+v, want %+v", p, tt.want)
			}
		})
	}
}

func TestEncoders(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want []byte
	}{
		{"connect anonymous", connectPacket("c", "", "", 60),
			[]byte{0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, 1, 'c'}},
		{"connect with credentials", connectPacket("c", "u", "p", 30),
			[]byte{0x10, 19, 0, 4, 'M', 'Q', 'T', 'T', 4, 0xc2, 0, 30, 0, 1, 'c', 0, 1, 'u', 0, 1, 'p'}},
		{"subscribe", subscribePacket(1, "a/#", 1), []byte{0x82, 8, 0, 1, 0, 3, 'a', '/', '#', 1}},
		{"remaining length 128", appendRemainingLength(nil, 128), []byte{0x80, 1}},
		{"remaining length 16384", appendRemainingLength(nil, 16384), []byte{0x80, 0x80, 1}},
	}
	for _, tt := range tests {
		if !bytes.Equal(tt.got, tt.want) {
			t.Errorf("%s: % x, want % x", tt.name, tt.got, tt.want)
		}
	}
}

// FuzzReadPacket feeds arbitrary bytes to the packet reader: it must never
// panic, never return a packet larger than its input, and a PUBLISH it
// decodes must re-encode to the same bytes.
func FuzzReadPacket(f *testing.F) {
	f.Add([]byte{0x20, 2, 0, 0, 0x40, 2, 0, 1, 0xd0, 0})
	f.Add(append(appendPublishHeader(nil, []byte("sensors/s1/temperature"), 1, 9, 4), "21.5"...))
	f.Add([]byte{0x90, 3, 0, 1, 0x80})
	f.Add([]byte{0x62, 2, 0, 7, 0x50, 2, 0, 7, 0x70, 2, 0, 7}) // PUBREL, PUBREC, PUBCOMP
	f.Add([]byte{0x30, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		var buf []byte
		for range len(in) + 1 {
			p, err := readPacket(r, &buf)
			if err != nil {
				return
			}
			if len(p.Topic)+len(p.Payload)+len(p.Codes) > len(in) {
				t.Fatalf("packet larger than input")
			}
			if p.Type == pktPublish && p.Flags&0x09 == 0 {
				re := append(appendPublishHeader(nil, p.Topic, p.QoS(), p.ID, len(p.Payload)), p.Payload...)
				q, err := readPacket(bufio.NewReader(bytes.NewReader(re)), new([]byte))
				if err != nil || q.ID != p.ID || !bytes.Equal(q.Topic, p.Topic) || !bytes.Equal(q.Payload, p.Payload) {
					t.Fatalf("PUBLISH does not round-trip: %+v -> %+v, %v", p, q, err)
				}
			}
		}
	})
}
