package broker

import (
	"strconv"
	"strings"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/storage"
	boltstore "github.com/mochi-mqtt/server/v2/hooks/storage/bolt"
	"github.com/mochi-mqtt/server/v2/packets"
)

// sessionStore is mochi-mqtt's bbolt storage hook with repairs. First, the
// upstream hook (v2.7.9) stores queued messages without their packet
// identifier, so after a restart they would be resent with identifier 0,
// which clients reject as a protocol violation. The identifier is the
// last part of the storage key ("IFM_<client>:<packet id>"), so it is
// restored from there when the messages are loaded.
type sessionStore struct {
	*boltstore.Hook
}

func (s sessionStore) StoredInflightMessages() ([]storage.Message, error) {
	msgs, err := s.Hook.StoredInflightMessages()
	for i := range msgs {
		if msgs[i].PacketID != 0 {
			continue
		}
		idx := strings.LastIndexByte(msgs[i].ID, ':')
		if n, perr := strconv.ParseUint(msgs[i].ID[idx+1:], 10, 16); perr == nil {
			msgs[i].PacketID = uint16(n)
		}
	}
	return msgs, err
}

// OnQosPublish skips the PUBACK that answers an inbound QoS 1 publish.
// mochi records it as in flight and completes it right after sending it;
// storing it costs two bbolt transactions per message (about 40 % of
// borda's CPU at 20,000 QoS 1 messages/s) and protects nothing: a lost
// PUBACK is answered by the client's own resend. Everything else (outbound
// messages, QoS 2 PUBREC state) is stored as upstream does.
func (s sessionStore) OnQosPublish(cl *mqtt.Client, pk packets.Packet, sent int64, resends int) {
	if pk.FixedHeader.Type == packets.Puback {
		return
	}
	s.Hook.OnQosPublish(cl, pk, sent, resends)
}

// OnQosComplete ignores the completion of those PUBACKs. mochi builds its
// own acks with Created set; a PUBACK decoded from a client (completing an
// outbound message, which is stored) has Created zero. Without this the
// inbound ack for packet id N would also delete the stored outbound
// message that happens to use id N for the same client.
func (s sessionStore) OnQosComplete(cl *mqtt.Client, pk packets.Packet) {
	if pk.FixedHeader.Type == packets.Puback && pk.Created != 0 {
		return
	}
	s.Hook.OnQosComplete(cl, pk)
}
