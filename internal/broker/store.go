package broker

import (
	"strconv"
	"strings"

	"github.com/mochi-mqtt/server/v2/hooks/storage"
	boltstore "github.com/mochi-mqtt/server/v2/hooks/storage/bolt"
)

// sessionStore is mochi-mqtt's bbolt storage hook with one repair: the
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
