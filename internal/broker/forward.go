package broker

import (
	"context"

	"github.com/mochi-mqtt/server/v2/packets"
)

// OriginProperty is the MQTT 5 user property that names which uplink
// output a message came in from (PublishFrom). Forwarders use it so a
// cloud message is never sent back to the cloud it came from.
const OriginProperty = "borda-origin"

// Forwarder takes local publishes for other systems (the uplink's MQTT
// bridges) before the publisher is acknowledged (TapHook calls it). Forward must return once
// the message is durably queued. Its failures are its own to count: the
// publish is acknowledged anyway, so local work never stops because the
// uplink cannot take a message (disk full).
type Forwarder interface {
	// Wants reports whether topic is of interest (cheap; called per message).
	Wants(topic string) bool
	// Forward takes one message; origin is the output it came in from
	// ("" for messages published locally).
	Forward(ctx context.Context, topic string, payload []byte, retain bool, origin string) error
}

func userProperty(pk packets.Packet, key string) string {
	for _, p := range pk.Properties.User {
		if p.Key == key {
			return p.Val
		}
	}
	return ""
}

// PublishFrom publishes through the inline client like Server().Publish,
// marking the message with its origin (an uplink output's name) so the
// Forwarder does not send it back where it came from. Subscribers see the
// mark as a user property.
func (b *Broker) PublishFrom(origin, topic string, payload []byte, retain bool, qos byte) error {
	pk := packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: qos, Retain: retain},
		TopicName:   topic,
		Payload:     payload,
		PacketID:    uint16(qos), // the inbound id is not used for inline publishes; it must be valid
		Properties:  packets.Properties{User: []packets.UserProperty{{Key: OriginProperty, Val: origin}}},
	}
	return b.server.InjectPacket(b.origin, pk) //nolint:wrapcheck // mochi's errors name the packet
}
