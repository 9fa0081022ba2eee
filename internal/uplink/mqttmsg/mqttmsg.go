// Package mqttmsg is the stored form of one MQTT message waiting in a
// durable queue (internal/uplink/queue): the MQTT bridge's outgoing
// messages and the rule actions an attachment publishes to an external
// broker.
package mqttmsg

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Data of a queue entry: version (1), flags (bit 0 retain, bits 1-2 QoS),
// uvarint topic length, topic, payload (the rest). Entries written before
// the QoS bits existed read as QoS 0.
const (
	version     = 1
	flagRetain  = 1
	qosShift    = 1
	qosMask     = 3 << qosShift
	knownFlags  = flagRetain | qosMask
	maxTopicLen = 65535 // MQTT's limit
)

var errShort = errors.New("truncated")

// Message is one publish waiting in a queue.
type Message struct {
	Topic   string
	Payload []byte
	Retain  bool
	QoS     byte // 0..2; users that decide the QoS themselves ignore it
}

// Encode returns the stored form of m (QoS above 2 is stored as 2).
func Encode(m Message) []byte {
	b := make([]byte, 0, 2+binary.MaxVarintLen64+len(m.Topic)+len(m.Payload))
	flags := min(m.QoS, 2) << qosShift
	if m.Retain {
		flags |= flagRetain
	}
	b = append(b, version, flags)
	b = binary.AppendUvarint(b, uint64(len(m.Topic)))
	b = append(b, m.Topic...)
	return append(b, m.Payload...)
}

// Decode reads what Encode wrote; anything else is an error.
func Decode(b []byte) (Message, error) {
	if len(b) < 2 {
		return Message{}, fmt.Errorf("decode message: %w", errShort)
	}
	if b[0] != version {
		return Message{}, fmt.Errorf("decode message: unknown version %d", b[0])
	}
	qos := (b[1] & qosMask) >> qosShift
	if b[1]&^knownFlags != 0 || qos > 2 {
		return Message{}, fmt.Errorf("decode message: unknown flags %#x", b[1])
	}
	n, k := binary.Uvarint(b[2:])
	if k <= 0 {
		return Message{}, fmt.Errorf("decode message: topic length: %w", errShort)
	}
	if n == 0 || n > maxTopicLen {
		return Message{}, fmt.Errorf("decode message: topic length %d out of range", n)
	}
	rest := b[2+k:]
	if uint64(len(rest)) < n {
		return Message{}, fmt.Errorf("decode message: topic: %w", errShort)
	}
	return Message{
		Topic:   string(rest[:n]),
		Payload: append([]byte(nil), rest[n:]...),
		Retain:  b[1]&flagRetain != 0,
		QoS:     qos,
	}, nil
}
