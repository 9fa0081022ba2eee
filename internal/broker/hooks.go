package broker

import (
	"bytes"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// guardHook enforces borda's limits that mochi-mqtt has no option for and
// makes every message the broker gives up on visible in metrics and logs.
type guardHook struct {
	mqtt.HookBase
	cfg     Config
	metrics *metrics
	log     *slog.Logger // rate-limited
	now     func() time.Time
	rates   sync.Map // *mqtt.Client → *rate.Limiter (max_publish_rate)
}

func (h *guardHook) ID() string { return "borda-guard" }

func (h *guardHook) Provides(b byte) bool {
	return bytes.Contains([]byte{
		mqtt.OnConnect,
		mqtt.OnPacketRead,
		mqtt.OnPublish,
		mqtt.OnPublishDropped,
		mqtt.OnQosDropped,
		mqtt.OnPacketIDExhausted,
		mqtt.OnRetainedExpired,
		mqtt.OnClientExpired,
		mqtt.OnDisconnect,
	}, []byte{b})
}

// OnConnect caps the number of QoS 1/2 messages in flight to the client
// (max_inflight_messages). MQTT 5 clients may ask for fewer with Receive
// Maximum; MQTT 3.1.1 clients have no say, as with Mosquitto.
func (h *guardHook) OnConnect(cl *mqtt.Client, _ packets.Packet) error {
	limit := uint16(h.cfg.MaxInflightMessages)
	if rm := cl.Properties.Props.ReceiveMaximum; rm == 0 || rm > limit {
		cl.Properties.Props.ReceiveMaximum = limit
		cl.State.Inflight.ResetSendQuota(int32(limit))
	}
	return nil
}

// OnPacketRead counts PUBLISH packets whose topic name mochi-mqtt will
// discard without telling anyone (wildcards or empty topic in a publish).
func (h *guardHook) OnPacketRead(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if pk.FixedHeader.Type == packets.Publish && !cl.Net.Inline &&
		pk.Properties.TopicAlias == 0 && !mqtt.IsValidFilter(pk.TopicName, true) {
		h.metrics.rejected.WithLabelValues(rejectInvalidTopic).Inc()
		h.log.Warn("publish to an invalid topic name discarded", "client", cl.ID, "topic", pk.TopicName)
	}
	return pk, nil
}

// OnPublish refuses payloads over message_size_limit. Like Mosquitto, an
// MQTT 3.1.1 publisher is still acknowledged (it cannot be told why) and
// an MQTT 5 publisher at QoS 1/2 gets reason code 0x95 (packet too large).
func (h *guardHook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline {
		return pk, nil
	}
	if !h.allowRate(cl) {
		return h.refuseRate(cl, pk)
	}
	if len(pk.Payload) <= h.cfg.MessageSizeLimit {
		return pk, nil
	}
	h.metrics.rejected.WithLabelValues(rejectTooLarge).Inc()
	h.log.Warn("publish over message_size_limit refused", "client", cl.ID, "topic", pk.TopicName,
		"bytes", len(pk.Payload), "limit", h.cfg.MessageSizeLimit)
	if cl.Properties.ProtocolVersion == 5 && pk.FixedHeader.Qos > 0 {
		return pk, packets.ErrPacketTooLarge
	}
	return pk, packets.CodeSuccessIgnore
}

// allowRate takes one message from the client's max_publish_rate bucket.
func (h *guardHook) allowRate(cl *mqtt.Client) bool {
	if h.cfg.MaxPublishRate <= 0 {
		return true
	}
	v, ok := h.rates.Load(cl)
	if !ok {
		burst := max(1, int(h.cfg.MaxPublishRate))
		v, _ = h.rates.LoadOrStore(cl, rate.NewLimiter(rate.Limit(h.cfg.MaxPublishRate), burst))
	}
	return v.(*rate.Limiter).Allow()
}

// refuseRate drops a message over max_publish_rate: MQTT 5 QoS 1/2
// publishers get PUBACK/PUBREC 0x96; others are acknowledged as usual (3.1.1
// has no way to say why), like an oversized message.
func (h *guardHook) refuseRate(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	h.metrics.rejected.WithLabelValues(rejectRate).Inc()
	h.log.Warn("publish over max_publish_rate refused", "client", cl.ID, "topic", pk.TopicName,
		"limit_per_second", h.cfg.MaxPublishRate)
	if cl.Properties.ProtocolVersion == 5 && pk.FixedHeader.Qos > 0 {
		return pk, packets.ErrMessageRateTooHigh
	}
	return pk, packets.CodeSuccessIgnore
}

// OnDisconnect forgets the client's publish-rate bucket.
func (h *guardHook) OnDisconnect(cl *mqtt.Client, _ error, _ bool) { h.rates.Delete(cl) }

// OnPublishDropped: the client's pending-write buffer was full.
func (h *guardHook) OnPublishDropped(cl *mqtt.Client, pk packets.Packet) {
	h.dropped(dropWritesPending, cl, pk)
}

// OnPacketIDExhausted: the client has 65535 messages unacknowledged.
func (h *guardHook) OnPacketIDExhausted(cl *mqtt.Client, pk packets.Packet) {
	h.dropped(dropPacketIDs, cl, pk)
}

// OnQosDropped: a QoS 1/2 message held for a client was discarded, either
// because it expired or because the client's session ended.
func (h *guardHook) OnQosDropped(cl *mqtt.Client, pk packets.Packet) {
	if pk.FixedHeader.Type != packets.Publish {
		return // an acknowledgement of ours, not a message
	}
	if cl.IsTakenOver() {
		return // moved to the client's new connection, not dropped
	}
	now := h.now().Unix()
	maxAge := int64(h.cfg.MessageExpiry / time.Second)
	expired := (pk.ProtocolVersion == 5 && pk.Expiry > 0 && pk.Expiry < now) ||
		(maxAge > 0 && now-pk.Created > maxAge)
	if expired {
		h.dropped(dropExpired, cl, pk)
		return
	}
	h.dropped(dropSessionEnded, cl, pk)
}

func (h *guardHook) OnRetainedExpired(filter string) {
	h.metrics.retainedExpired.Inc()
	h.log.Info("retained message expired", "topic", filter)
}

func (h *guardHook) OnClientExpired(cl *mqtt.Client) {
	h.metrics.sessionsExpired.Inc()
	h.log.Info("persistent session expired", "client", cl.ID)
}

func (h *guardHook) dropped(reason string, cl *mqtt.Client, pk packets.Packet) {
	h.metrics.drops[reason].Add(1)
	h.log.Warn("message to client dropped: "+reason, "client", cl.ID,
		"topic", pk.TopicName, "qos", pk.FixedHeader.Qos)
}
