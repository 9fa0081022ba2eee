package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/borda-edge/borda/internal/testkit"
)

// TestInflightAndQueueLimits: a subscriber that never acknowledges gets at
// most max_inflight_messages at once; max_queued_messages more are held;
// the rest are dropped and counted as inflight_quota.
func TestInflightAndQueueLimits(t *testing.T) {
	cfg := testConfig(t)
	cfg.Broker.MaxInflightMessages = 2
	cfg.Broker.MaxQueuedMessages = 5
	g := startGateway(t, cfg)
	c := rawConnect(t, g.mqttAddr(), "never-acks")
	c.subscribe(t, "q/#", 1)

	const sent = 10
	for i := range sent {
		if err := g.broker.Server().Publish("q/x", []byte(fmt.Sprint(i)), false, 1); err != nil {
			t.Fatal(err)
		}
	}
	series := `borda_mqtt_messages_dropped_total{reason="inflight_quota"}`
	testkit.Eventually(t, 10*time.Second, "quota drops", func() bool { return g.metric(t, series) == sent-5 })

	got := 0
	for {
		hdr, _, err := c.tryRead(300 * time.Millisecond)
		if err != nil {
			break
		}
		if hdr>>4 == 3 {
			got++
		}
	}
	if got != cfg.Broker.MaxInflightMessages {
		t.Fatalf("client received %d unacknowledged messages, want max_inflight_messages = %d", got, cfg.Broker.MaxInflightMessages)
	}
	if v := g.metric(t, "borda_mqtt_inflight_messages"); v != 5 {
		t.Fatalf("inflight gauge = %v, want 5 (max_queued_messages)", v)
	}
}

// TestSlowSubscriberDropsAreCounted: a subscriber that stops reading its
// socket fills its pending-write buffer; further messages to it are dropped,
// counted and logged, while other subscribers are unaffected.
func TestSlowSubscriberDropsAreCounted(t *testing.T) {
	cfg := testConfig(t)
	cfg.Broker.MaxClientWritesPending = 16
	cfg.Broker.MessageSizeLimit = 8192
	g := startGateway(t, cfg)
	slow := rawConnect(t, g.mqttAddr(), "slow")
	slow.subscribe(t, "load/#", 0)
	rec := newReceived()
	fast := v5Client(t, g.mqttAddr(), "fast", true, rec)
	v5Subscribe(t, fast, "load/marker", 0)

	payload := bytes.Repeat([]byte("x"), 8000)
	series := `borda_mqtt_messages_dropped_total{reason="client_writes_pending"}`
	// Bounded: 20,000 x 8 kB = 160 MB at most, far beyond any socket buffer.
	for i := 0; i < 200 && g.metric(t, series) <= 0; i++ {
		for range 100 {
			_ = g.broker.Server().Publish("load/bulk", payload, false, 0)
		}
	}
	if g.metric(t, series) <= 0 {
		t.Fatal("no client_writes_pending drops counted")
	}
	if err := g.broker.Server().Publish("load/marker", []byte("still here"), false, 0); err != nil {
		t.Fatal(err)
	}
	if m := rec.wait(t, 1)[0]; m.payload != "still here" {
		t.Fatalf("fast subscriber got %+v", m)
	}
	testkit.Eventually(t, 5*time.Second, "drop log line", func() bool {
		return strings.Contains(g.logs.String(), "message to client dropped: client_writes_pending")
	})
}

// TestMessageExpiryDropsAreCounted: queued messages for an offline
// persistent session expire after message_expiry and are counted.
func TestMessageExpiryDropsAreCounted(t *testing.T) {
	cfg := testConfig(t)
	cfg.Broker.MessageExpiry = time.Second
	g := startGateway(t, cfg)
	c := v5Client(t, g.mqttAddr(), "offline", false, nil)
	v5Subscribe(t, c, "exp/#", 1)
	v5Disconnect(t, c)
	for i := range 3 {
		if err := g.broker.Server().Publish("exp/x", []byte(fmt.Sprint(i)), false, 1); err != nil {
			t.Fatal(err)
		}
	}
	series := `borda_mqtt_messages_dropped_total{reason="expired"}`
	testkit.Eventually(t, 10*time.Second, "3 expired drops", func() bool { return g.metric(t, series) == 3 })
}

// TestMaxConnections: past max_connections a client is refused (CONNACK
// "server unavailable") and counted; connected clients keep working.
func TestMaxConnections(t *testing.T) {
	cfg := testConfig(t)
	cfg.Broker.MaxConnections = 2
	g := startGateway(t, cfg)
	rec := newReceived()
	sub := v5Client(t, g.mqttAddr(), "one", true, rec)
	v5Subscribe(t, sub, "mc/#", 0)
	pub := v3Client(t, "tcp://"+g.mqttAddr(), "two", true, nil)

	c := rawConnect0(t, g.mqttAddr())
	c.write(t, packet(0x10, append(append(mqttString("MQTT"), 4, 0x02, 0, 60), mqttString("three")...)))
	if hdr, ack := c.read(t, 5*time.Second); hdr != 0x20 || ack[1] != 0x03 {
		t.Fatalf("third client: CONNACK %x %x, want return code 3 (server unavailable)", hdr, ack)
	}
	series := `borda_mqtt_connection_errors_total{listener="mqtt",reason="max_connections"}`
	testkit.Eventually(t, 5*time.Second, series, func() bool { return g.metric(t, series) == 1 })
	waitToken(t, "publish", pub.Publish("mc/x", 0, false, "ok"))
	rec.wait(t, 1)
}

// TestPublishRateLimit: with max_publish_rate 10/s, a MQTT 5 client that
// publishes 40 QoS 1 messages at once gets the burst (10, plus what refills
// meanwhile) accepted and the rest refused with reason 0x96; every refusal
// is counted and refused messages reach no subscriber.
func TestPublishRateLimit(t *testing.T) {
	cfg := testConfig(t)
	cfg.Broker.MaxPublishRate = 10
	g := startGateway(t, cfg)
	rec := newReceived()
	sub := v5Client(t, g.mqttAddr(), "rate-sub", true, rec)
	v5Subscribe(t, sub, "rate/#", 1)
	pub := v5Client(t, g.mqttAddr(), "rate-pub", true, nil)
	const sent = 40
	accepted, refused := 0, 0
	for i := range sent {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		resp, err := pub.Publish(ctx, &paho.Publish{Topic: "rate/x", Payload: []byte(fmt.Sprint(i)), QoS: 1})
		cancel()
		if resp == nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		switch rc := resp.ReasonCode; rc { // paho returns an error too for codes >= 0x80
		case 0:
			accepted++
		case 0x96:
			refused++
		default:
			t.Fatalf("publish %d: reason code %#x", i, rc)
		}
	}
	if accepted < 10 || refused < 10 || accepted+refused != sent {
		t.Fatalf("accepted %d, refused %d of %d with a 10/s limit", accepted, refused, sent)
	}
	if got := g.metric(t, `borda_mqtt_publish_rejected_total{reason="publish_rate"}`); got != float64(refused) {
		t.Fatalf("publish_rate rejections counted %v, want %d", got, refused)
	}
	rec.wait(t, accepted)
	time.Sleep(200 * time.Millisecond)
	if n := rec.count(); n != accepted {
		t.Fatalf("subscriber got %d messages, want the %d accepted", n, accepted)
	}
}
