package mqttbridge

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Data of a queue entry: version (1), flags (bit 0 retain), uvarint topic
// length, topic, payload (the rest).
const (
	codecVersion = 1
	flagRetain   = 1
	knownFlags   = flagRetain
	maxTopicLen  = 65535 // MQTT's limit
)

var errShort = errors.New("truncated")

// message is one local publish waiting in the queue.
type message struct {
	Topic   string
	Payload []byte
	Retain  bool
}

func encodeMessage(m message) []byte {
	b := make([]byte, 0, 2+binary.MaxVarintLen64+len(m.Topic)+len(m.Payload))
	var flags byte
	if m.Retain {
		flags |= flagRetain
	}
	b = append(b, codecVersion, flags)
	b = binary.AppendUvarint(b, uint64(len(m.Topic)))
	b = append(b, m.Topic...)
	return append(b, m.Payload...)
}

func decodeMessage(b []byte) (message, error) {
	if len(b) < 2 {
		return message{}, fmt.Errorf("decode message: %w", errShort)
	}
	if b[0] != codecVersion {
		return message{}, fmt.Errorf("decode message: unknown version %d", b[0])
	}
	if b[1]&^knownFlags != 0 {
		return message{}, fmt.Errorf("decode message: unknown flags %#x", b[1])
	}
	n, k := binary.Uvarint(b[2:])
	if k <= 0 {
		return message{}, fmt.Errorf("decode message: topic length: %w", errShort)
	}
	if n == 0 || n > maxTopicLen {
		return message{}, fmt.Errorf("decode message: topic length %d out of range", n)
	}
	rest := b[2+k:]
	if uint64(len(rest)) < n {
		return message{}, fmt.Errorf("decode message: topic: %w", errShort)
	}
	return message{
		Topic:   string(rest[:n]),
		Payload: append([]byte(nil), rest[n:]...),
		Retain:  b[1]&flagRetain != 0,
	}, nil
}
