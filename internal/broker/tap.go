package broker

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Tap receives messages published to the broker, in-process, before the
// publisher is acknowledged. For QoS 1 and 2, Ingest must return only once
// the message is safely handed on (it may block: that is the backpressure
// that slows a publisher down when storage cannot keep up); an error means
// the message could not be taken and the publish is not acknowledged.
type Tap interface {
	// Wants reports whether topic is of interest (cheap; called per message).
	Wants(topic string) bool
	Ingest(topic string, payload []byte, qos byte, received time.Time) error
}

// TapHook adapts a Tap, and optionally a Forwarder (nil: none), to a
// mochi-mqtt hook; pass it in Deps.Hooks. One hook does both so that a
// message is stored and queued for the uplink at the same time: the
// publisher waits for the slower of the two, not for their sum.
func TapHook(t Tap, f Forwarder, log *slog.Logger) mqtt.Hook {
	return &tapHook{tap: t, fwd: f, log: log}
}

type tapHook struct {
	mqtt.HookBase
	tap Tap
	fwd Forwarder
	log *slog.Logger // rate-limited
}

func (h *tapHook) ID() string { return "borda-ingest-tap" }

func (h *tapHook) Provides(b byte) bool { return bytes.Contains([]byte{mqtt.OnPublish}, []byte{b}) }

// OnPublish runs before mochi-mqtt sends PUBACK/PUBREC, so a QoS 1/2
// message is acknowledged only after the tap has taken it (and the
// forwarder has queued it). Messages borda publishes itself through the
// inline client (alerts, commands) are not tapped: they are not readings,
// and an alert rule must never see its own alerts as input. They are
// forwarded: borda's alerts go to the cloud too.
func (h *tapHook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	ingest := !cl.Net.Inline && h.tap.Wants(pk.TopicName)
	fwd := h.fwd != nil && h.fwd.Wants(pk.TopicName)
	var forwarded chan error
	switch {
	case fwd && ingest: // both: in parallel
		forwarded = make(chan error, 1)
		go func() { forwarded <- h.forward(cl, pk) }()
	case fwd:
		h.forwarded(cl, pk, h.forward(cl, pk))
	}
	var err error
	if ingest {
		err = h.tap.Ingest(pk.TopicName, pk.Payload, pk.FixedHeader.Qos, time.Now())
	}
	if forwarded != nil {
		h.forwarded(cl, pk, <-forwarded)
	}
	if err == nil {
		return pk, nil
	}
	h.log.Warn("publish not acknowledged: ingest could not take it", "client", cl.ID,
		"topic", pk.TopicName, "error", err)
	if pk.FixedHeader.Qos == 0 {
		return pk, nil // delivered to subscribers; the loss is counted by the tap
	}
	if cl.Properties.ProtocolVersion == 5 {
		return pk, packets.ErrServerBusy // PUBACK/PUBREC with reason 0x89
	}
	// MQTT 3.1.1 has no negative acknowledgement: withholding the ack makes
	// the client send the message again when it reconnects.
	return pk, errors.Join(packets.ErrRejectPacket, err)
}

// forwarded logs a message the uplink could not queue. It is not a
// reason to refuse the publish: local work goes on when the uplink cannot
// queue (disk full); the uplink counted it.
func (h *tapHook) forwarded(cl *mqtt.Client, pk packets.Packet, err error) {
	if err != nil {
		h.log.Warn("uplink could not queue a message; delivered locally only", "client", cl.ID,
			"topic", pk.TopicName, "error", err)
	}
}

func (h *tapHook) forward(cl *mqtt.Client, pk packets.Packet) error {
	origin := ""
	if cl.Net.Inline {
		origin = userProperty(pk, OriginProperty)
	}
	return h.fwd.Forward(context.Background(), pk.TopicName, pk.Payload, pk.FixedHeader.Retain, origin)
}
