package main

import (
	"fmt"
	"testing"
)

// TestRetainedSurvivesRestart: a retained message published before a
// restart is delivered to a new subscriber after it.
func TestRetainedSurvivesRestart(t *testing.T) {
	cfg := testConfig(t)
	g := startGateway(t, cfg)
	pub := v3Client(t, "tcp://"+g.mqttAddr(), "retain-pub", true, nil)
	waitToken(t, "publish retained", pub.Publish("devices/d1/status", 1, true, `{"value":1}`))
	v5 := v5Client(t, g.mqttAddr(), "retain-pub5", true, nil)
	v5Publish(t, v5, "devices/d2/status", `{"value":0}`, 2, true)
	pub.Disconnect(100)
	g.stop(t)

	g2 := startGateway(t, cfg)
	for _, proto := range []string{"v3", "v5"} {
		rec := newReceived()
		if proto == "v3" {
			c := v3Client(t, "tcp://"+g2.mqttAddr(), "retain-sub3", true, rec)
			waitToken(t, "subscribe", c.Subscribe("devices/+/status", 1, nil))
		} else {
			c := v5Client(t, g2.mqttAddr(), "retain-sub5", true, rec)
			v5Subscribe(t, c, "devices/+/status", 2)
		}
		got := map[string]msg{}
		for _, m := range rec.wait(t, 2) {
			got[m.topic] = m
		}
		if m := got["devices/d1/status"]; m.payload != `{"value":1}` || !m.retain {
			t.Errorf("%s: d1 retained = %+v", proto, m)
		}
		if m := got["devices/d2/status"]; m.payload != `{"value":0}` || !m.retain {
			t.Errorf("%s: d2 retained = %+v", proto, m)
		}
	}
}

// TestPersistentSessionSurvivesRestart: messages published while a
// persistent-session subscriber is offline are queued, survive a gateway
// restart, and are delivered when the subscriber comes back.
func TestPersistentSessionSurvivesRestart(t *testing.T) {
	for _, proto := range []string{"v3", "v5"} {
		t.Run(proto, func(t *testing.T) {
			cfg := testConfig(t)
			g := startGateway(t, cfg)
			id := "persistent-" + proto
			if proto == "v3" {
				c := v3Client(t, "tcp://"+g.mqttAddr(), id, false, nil)
				waitToken(t, "subscribe", c.Subscribe("alerts/#", 1, nil))
				c.Disconnect(100)
			} else {
				c := v5Client(t, g.mqttAddr(), id, false, nil)
				v5Subscribe(t, c, "alerts/#", 2)
				v5Disconnect(t, c)
			}
			pub := v5Client(t, g.mqttAddr(), "offline-pub-"+proto, true, nil)
			const n = 5
			for i := range n {
				v5Publish(t, pub, "alerts/critical", fmt.Sprintf("alert %d", i), 1, false)
			}
			v5Disconnect(t, pub)
			g.stop(t)

			g2 := startGateway(t, cfg)
			rec := newReceived()
			if proto == "v3" {
				v3Client(t, "tcp://"+g2.mqttAddr(), id, false, rec)
			} else {
				v5Client(t, g2.mqttAddr(), id, false, rec)
			}
			// Every queued message arrives exactly once. Their order is not
			// checked: mochi-mqtt v2.7.9 resends a resumed session's queue
			// sorted by creation second only (see internal/broker/README.md).
			got := rec.wait(t, n)
			seen := map[string]bool{}
			for _, m := range got {
				if m.topic != "alerts/critical" || m.qos != 1 || seen[m.payload] {
					t.Fatalf("unexpected or duplicate message %+v in %v", m, got)
				}
				seen[m.payload] = true
			}
			for i := range n {
				if !seen[fmt.Sprintf("alert %d", i)] {
					t.Fatalf("alert %d missing: %v", i, got)
				}
			}
			if extra := rec.count(); extra != n {
				t.Fatalf("received %d messages, want %d", extra, n)
			}
		})
	}
}
