package broker

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	boltstore "github.com/mochi-mqtt/server/v2/hooks/storage/bolt"
	"github.com/mochi-mqtt/server/v2/packets"
	"go.etcd.io/bbolt"
)

// TestSessionStoreInflight: outbound messages are stored and removed by the
// client's PUBACK; the PUBACK answering an inbound QoS 1 publish is never
// stored, and completing it does not delete an outbound message that uses
// the same packet id.
func TestSessionStoreInflight(t *testing.T) {
	s := sessionStore{new(boltstore.Hook)}
	opts := &boltstore.Options{Path: filepath.Join(t.TempDir(), "b.db"), Options: &bbolt.Options{Timeout: time.Second, NoSync: true}}
	if err := s.Init(opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	cl := &mqtt.Client{ID: "c1"}
	now := time.Now().Unix()
	outbound := func(id uint16) packets.Packet {
		return packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, PacketID: id,
			TopicName: "a/b", Payload: []byte("x"), Created: now}
	}
	ownAck := func(id uint16) packets.Packet { // what mochi builds for an inbound publish
		return packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: id, Created: now}
	}
	clientAck := func(id uint16) packets.Packet { // decoded from the client
		return packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: id}
	}
	steps := []struct {
		name string
		do   func()
		want []uint16
	}{
		{"outbound 5 and 6 stored", func() { s.OnQosPublish(cl, outbound(5), now, 0); s.OnQosPublish(cl, outbound(6), now, 0) }, []uint16{5, 6}},
		{"inbound ack 7 not stored", func() { s.OnQosPublish(cl, ownAck(7), now, 0) }, []uint16{5, 6}},
		{"own ack 5 completes: outbound 5 kept", func() { s.OnQosPublish(cl, ownAck(5), now, 0); s.OnQosComplete(cl, ownAck(5)) }, []uint16{5, 6}},
		{"client acks 5: removed", func() { s.OnQosComplete(cl, clientAck(5)) }, []uint16{6}},
	}
	for _, st := range steps {
		st.do()
		msgs, err := s.StoredInflightMessages()
		if err != nil {
			t.Fatal(err)
		}
		var ids []uint16
		for _, m := range msgs {
			ids = append(ids, m.PacketID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, st.want) {
			t.Fatalf("%s: stored packet ids %v, want %v", st.name, ids, st.want)
		}
	}
}
