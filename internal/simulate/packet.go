package simulate

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MQTT 3.1.1 control packet types (high nibble of the fixed header).
const (
	pktConnect    = 1
	pktConnack    = 2
	pktPublish    = 3
	pktPuback     = 4
	pktPubrec     = 5
	pktPubrel     = 6
	pktPubcomp    = 7
	pktSubscribe  = 8
	pktSuback     = 9
	pktPingreq    = 12
	pktPingresp   = 13
	pktDisconnect = 14
)

// maxPacket bounds the size of a packet the client reads: a subscriber
// counting simulator traffic never needs more, and a corrupt length must not
// make the reader allocate 256 MiB.
const maxPacket = 1 << 20

var errMalformed = errors.New("malformed MQTT packet")

// packet is one decoded control packet. Topic, Payload and Codes alias the
// reader's buffer and are valid until the next readPacket.
type packet struct {
	Type    byte
	Flags   byte   // low nibble of the fixed header
	ID      uint16 // packet identifier (PUBACK, SUBACK, PUBLISH with QoS > 0)
	Topic   []byte // PUBLISH
	Payload []byte // PUBLISH
	Codes   []byte // CONNACK: flags, return code; SUBACK: granted QoS per filter
}

// QoS of a PUBLISH.
func (p *packet) QoS() byte { return (p.Flags >> 1) & 3 }

// readPacket reads one control packet from r, using *buf as scratch space
// (grown when needed, then reused).
func readPacket(r *bufio.Reader, buf *[]byte) (packet, error) {
	h, err := r.ReadByte()
	if err != nil {
		return packet{}, err
	}
	n, err := readRemainingLength(r)
	if err != nil {
		return packet{}, err
	}
	if n > maxPacket {
		return packet{}, fmt.Errorf("%w: %d-byte packet exceeds %d", errMalformed, n, maxPacket)
	}
	if cap(*buf) < n {
		*buf = make([]byte, n)
	}
	body := (*buf)[:n]
	if _, err := io.ReadFull(r, body); err != nil {
		return packet{}, eofIsUnexpected(err)
	}
	return parseBody(h>>4, h&0x0f, body)
}

// readRemainingLength decodes the variable byte integer of the fixed header.
func readRemainingLength(r *bufio.Reader) (int, error) {
	n, shift := 0, 0
	for i := 0; i < 4; i++ {
		b, err := r.ReadByte()
		if err != nil {
			return 0, eofIsUnexpected(err)
		}
		n |= int(b&0x7f) << shift
		if b&0x80 == 0 {
			return n, nil
		}
		shift += 7
	}
	return 0, fmt.Errorf("%w: remaining length longer than 4 bytes", errMalformed)
}

func eofIsUnexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseBody checks the variable header of the packet types this client
// handles. Other types are returned undecoded (the caller ignores them).
func parseBody(typ, flags byte, b []byte) (packet, error) {
	p := packet{Type: typ, Flags: flags}
	switch typ {
	case pktConnack:
		if len(b) != 2 {
			return p, fmt.Errorf("%w: CONNACK of %d bytes", errMalformed, len(b))
		}
		p.Codes = b
	case pktPuback, pktPubrec, pktPubrel, pktPubcomp:
		if len(b) != 2 {
			return p, fmt.Errorf("%w: %s of %d bytes", errMalformed, ackName(typ), len(b))
		}
		p.ID = binary.BigEndian.Uint16(b)
	case pktSuback:
		if len(b) < 3 {
			return p, fmt.Errorf("%w: SUBACK of %d bytes", errMalformed, len(b))
		}
		p.ID, p.Codes = binary.BigEndian.Uint16(b), b[2:]
	case pktPublish:
		return parsePublish(p, b)
	case pktPingresp:
		if len(b) != 0 {
			return p, fmt.Errorf("%w: PINGRESP with a body", errMalformed)
		}
	}
	return p, nil
}

func parsePublish(p packet, b []byte) (packet, error) {
	qos := p.QoS()
	if qos == 3 {
		return p, fmt.Errorf("%w: PUBLISH with QoS 3", errMalformed)
	}
	if len(b) < 2 {
		return p, fmt.Errorf("%w: PUBLISH without a topic", errMalformed)
	}
	tl := int(binary.BigEndian.Uint16(b))
	need := 2 + tl
	if qos > 0 {
		need += 2
	}
	if len(b) < need {
		return p, fmt.Errorf("%w: PUBLISH shorter than its topic", errMalformed)
	}
	p.Topic = b[2 : 2+tl]
	if qos > 0 {
		p.ID = binary.BigEndian.Uint16(b[2+tl:])
		if p.ID == 0 {
			return p, fmt.Errorf("%w: PUBLISH with packet identifier 0", errMalformed)
		}
	}
	p.Payload = b[need:]
	return p, nil
}

// appendRemainingLength appends n as a variable byte integer.
func appendRemainingLength(dst []byte, n int) []byte {
	for {
		b := byte(n & 0x7f)
		n >>= 7
		if n > 0 {
			b |= 0x80
		}
		dst = append(dst, b)
		if n == 0 {
			return dst
		}
	}
}

func appendString(dst []byte, s string) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(s)))
	return append(dst, s...)
}

// connectPacket builds a clean-session MQTT 3.1.1 CONNECT.
func connectPacket(clientID, username, password string, keepAlive uint16) []byte {
	var body []byte
	body = appendString(body, "MQTT")
	flags := byte(0x02) // clean session
	if username != "" {
		flags |= 0x80
	}
	if password != "" {
		flags |= 0x40
	}
	body = append(body, 4, flags)
	body = binary.BigEndian.AppendUint16(body, keepAlive)
	body = appendString(body, clientID)
	if username != "" {
		body = appendString(body, username)
	}
	if password != "" {
		body = appendString(body, password)
	}
	return frame(pktConnect<<4, body)
}

// subscribePacket subscribes to one filter.
func subscribePacket(id uint16, filter string, qos byte) []byte {
	body := binary.BigEndian.AppendUint16(nil, id)
	body = appendString(body, filter)
	return frame(pktSubscribe<<4|0x02, append(body, qos))
}

func frame(header byte, body []byte) []byte {
	out := appendRemainingLength([]byte{header}, len(body))
	return append(out, body...)
}

// appendPublishHeader appends a PUBLISH fixed header, topic and (QoS > 0)
// packet identifier for a payload of payloadLen bytes.
func appendPublishHeader(dst []byte, topic []byte, qos byte, id uint16, payloadLen int) []byte {
	n := 2 + len(topic) + payloadLen
	if qos > 0 {
		n += 2
	}
	dst = append(dst, pktPublish<<4|qos<<1)
	dst = appendRemainingLength(dst, n)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(topic)))
	dst = append(dst, topic...)
	if qos > 0 {
		dst = binary.BigEndian.AppendUint16(dst, id)
	}
	return dst
}

// emptyPacket is a packet without variable header or payload (PINGREQ,
// DISCONNECT).
func emptyPacket(typ byte) [2]byte { return [2]byte{typ << 4, 0} }

func pubackPacket(id uint16) [4]byte {
	return [4]byte{pktPuback << 4, 2, byte(id >> 8), byte(id)}
}

// QoS 2 receiver acknowledgements: PUBREC answers a PUBLISH, PUBCOMP a
// PUBREL.
func pubrecPacket(id uint16) [4]byte  { return [4]byte{pktPubrec << 4, 2, byte(id >> 8), byte(id)} }
func pubcompPacket(id uint16) [4]byte { return [4]byte{pktPubcomp << 4, 2, byte(id >> 8), byte(id)} }

func ackName(typ byte) string {
	switch typ {
	case pktPubrec:
		return "PUBREC"
	case pktPubrel:
		return "PUBREL"
	case pktPubcomp:
		return "PUBCOMP"
	}
	return "PUBACK"
}
