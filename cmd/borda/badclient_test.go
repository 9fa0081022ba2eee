package main

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	paho "github.com/eclipse/paho.golang/paho"

	"github.com/borda-edge/borda/internal/testkit"
)

// TestMisbehavingClients sends garbage, oversized packets and truncated
// packets. Each is counted by reason, and a healthy publisher/subscriber
// pair keeps working throughout.
func TestMisbehavingClients(t *testing.T) {
	g := startGateway(t, testConfig(t))
	rec := newReceived()
	sub := v5Client(t, g.mqttAddr(), "healthy-sub", true, rec)
	v5Subscribe(t, sub, "healthy/#", 1)
	pub := v3Client(t, "tcp://"+g.mqttAddr(), "healthy-pub", true, nil)

	tests := []struct {
		name   string
		reason string
		abuse  func(t *testing.T)
	}{
		{"http request instead of mqtt", "malformed_packet", func(t *testing.T) {
			c := rawConnect0(t, g.mqttAddr())
			c.write(t, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		}},
		{"random bytes after connect", "malformed_packet", func(t *testing.T) {
			c := rawConnect(t, g.mqttAddr(), "garbage")
			c.write(t, []byte{0x30, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
		}},
		{"packet larger than max_packet_size", "packet_too_large", func(t *testing.T) {
			c := rawConnect(t, g.mqttAddr(), "huge")
			c.write(t, append([]byte{0x30}, remainingLength(1<<20)...))
		}},
		{"disconnect in the middle of a packet", "truncated_packet", func(t *testing.T) {
			c := rawConnect(t, g.mqttAddr(), "cut")
			p := publishPacket("healthy/cut", bytes.Repeat([]byte("x"), 100), 0)
			c.write(t, p[:20])
			c.conn.Close()
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			series := fmt.Sprintf(`borda_mqtt_connection_errors_total{listener="mqtt",reason="%s"}`, tt.reason)
			before := max(g.metric(t, series), 0)
			tt.abuse(t)
			testkit.Eventually(t, 10*time.Second, series+" to increase", func() bool {
				return g.metric(t, series) > before
			})
			want := rec.count() + 1
			waitToken(t, "healthy publish", pub.Publish("healthy/ping", 1, false, fmt.Sprint(i)))
			if got := rec.wait(t, want)[want-1]; got.payload != fmt.Sprint(i) {
				t.Fatalf("healthy subscriber got %+v", got)
			}
		})
	}
}

// TestMessageSizeLimit: payloads over message_size_limit are refused and
// counted; MQTT 5 publishers are told why (reason code 0x95).
func TestMessageSizeLimit(t *testing.T) {
	cfg := testConfig(t)
	cfg.Broker.MessageSizeLimit = 1024
	g := startGateway(t, cfg)
	rec := newReceived()
	sub := v5Client(t, g.mqttAddr(), "size-sub", true, rec)
	v5Subscribe(t, sub, "size/#", 1)

	big := string(bytes.Repeat([]byte("x"), 1025))
	v3 := v3Client(t, "tcp://"+g.mqttAddr(), "size-v3", true, nil)
	waitToken(t, "v3 publish over limit", v3.Publish("size/v3", 1, false, big))
	v5 := v5Client(t, g.mqttAddr(), "size-v5", true, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := v5.Publish(ctx, &paho.Publish{Topic: "size/v5", Payload: []byte(big), QoS: 1})
	if err == nil || resp == nil || resp.ReasonCode != 0x95 {
		t.Errorf("MQTT 5 publish over limit: resp %+v, err %v; want reason 0x95 (packet too large)", resp, err)
	}
	waitToken(t, "publish at limit", v3.Publish("size/ok", 1, false, big[:1024]))
	if got := rec.wait(t, 1); got[0].topic != "size/ok" {
		t.Fatalf("first delivered message = %+v, want size/ok", got[0])
	}
	if got := g.metric(t, `borda_mqtt_publish_rejected_total{reason="message_too_large"}`); got != 2 {
		t.Fatalf("message_too_large rejections = %v, want 2", got)
	}
	if rec.count() != 1 {
		t.Fatalf("subscriber received %d messages, want 1", rec.count())
	}
}
