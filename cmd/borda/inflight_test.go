package main

import (
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/hooks/storage/bolt"
	"github.com/mochi-mqtt/server/v2/packets"
	"go.etcd.io/bbolt"
)

// TestInboundAckKeepsOutboundInflight: a client holds an unacknowledged
// QoS 1 message from the broker (packet id N) and publishes its own QoS 1
// message with the same id N. The broker's PUBACK must neither be stored
// nor remove the stored outbound message: after the client goes away,
// broker.db holds exactly that message for its persistent session.
// (mochi-mqtt keeps one in-memory in-flight map for both directions and
// drops id N from it on an inbound publish by design; what is stored is
// what survives for the session.)
func TestInboundAckKeepsOutboundInflight(t *testing.T) {
	cfg := testConfig(t)
	g := startGateway(t, cfg)
	c := rawConnectPersistent(t, g.mqttAddr(), "collide")
	c.subscribe(t, "out/t", 1)
	pub := v3Client(t, "tcp://"+g.mqttAddr(), "collide-pub", true, nil)
	waitToken(t, "publish", pub.Publish("out/t", 1, false, "to collide"))
	hdr, body := c.read(t, 5*time.Second) // not acknowledged on purpose
	if hdr>>4 != 3 {
		t.Fatalf("got packet %x, want PUBLISH", hdr)
	}
	tl := int(binary.BigEndian.Uint16(body))
	pid := binary.BigEndian.Uint16(body[2+tl:])

	in := append(mqttString("in/x"), byte(pid>>8), byte(pid))
	c.write(t, packet(0x32, append(in, "from collide"...)))
	if hdr, ack := c.read(t, 5*time.Second); hdr != 0x40 || binary.BigEndian.Uint16(ack) != pid {
		t.Fatalf("PUBACK = %x %x, want for id %d", hdr, ack, pid)
	}
	c.conn.Close()
	g.stop(t)

	h := new(bolt.Hook)
	if err := h.Init(&bolt.Options{Path: filepath.Join(cfg.DataDir, "broker.db"),
		Options: &bbolt.Options{Timeout: time.Second}}); err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	msgs, err := h.StoredInflightMessages()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Client != "collide" || msgs[0].FixedHeader.Type != packets.Publish || msgs[0].TopicName != "out/t" {
		t.Fatalf("stored in-flight messages %+v, want only the outbound PUBLISH to collide", msgs)
	}
}
