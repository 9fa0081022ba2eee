package main

import (
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/netmon"
	"github.com/borda-edge/borda/internal/netmon/watchdog"
	"github.com/borda-edge/borda/internal/testkit"
	"github.com/borda-edge/borda/internal/uplink/mqttbridge"
)

// TestNetmonPausesUplink: netmon watches one uplink on the loopback
// interface probing a local TCP listener (routes untouched). While it is
// reachable the node is online (retained status on borda/<node>/status,
// /api/v1/health); when the listener goes away the node goes offline and
// the uplink bridge is paused, and back online resumes it.
func TestNetmonPausesUplink(t *testing.T) {
	ln := probeTarget(t)
	cfg := testConfig(t)
	cfg.Netmon.Enabled, cfg.Netmon.ManageRoutes = true, false
	cfg.Netmon.Uplinks = []netmon.UplinkConfig{{Name: "lan", Interface: "lo", Targets: []string{ln.Addr().String()}}}
	cfg.Netmon.Interval, cfg.Netmon.Timeout, cfg.Netmon.FailRounds = 100*time.Millisecond, 100*time.Millisecond, 2
	cfg.Netmon.HoldTime = 200 * time.Millisecond
	cfg.Netmon.Resources.Interval = 0
	b := mqttbridge.DefaultConfig()
	b.Name, b.Address = "cloud", "tcp://127.0.0.1:1" // nobody: the bridge only retries
	b.Out = []mqttbridge.Mapping{{Filter: "sensors/#"}}
	cfg.Uplink.MQTT = []mqttbridge.Config{b}
	g := startGateway(t, cfg)

	testkit.Eventually(t, 10*time.Second, "online in /api/v1/health", func() bool {
		return strings.Contains(httpGet(t, g.httpURL()+"/api/v1/health", 200), `"online":true`)
	})
	rec := newReceived()
	sub := v3Client(t, "tcp://"+g.mqttAddr(), "status-watch", true, rec)
	waitToken(t, "subscribe", sub.Subscribe("borda/+/status", 1, nil))
	var st netmon.Status
	if m := rec.wait(t, 1)[0]; !m.retain || json.Unmarshal([]byte(m.payload), &st) != nil || !st.Online {
		t.Fatalf("retained status %+v", m)
	}

	ln.Close()
	testkit.Eventually(t, 10*time.Second, "offline", func() bool {
		return strings.Contains(httpGet(t, g.httpURL()+"/api/v1/health", 200), `"online":false`)
	})
	paused := `borda_uplink_connect_failures_total{output="cloud"}`
	before := g.metric(t, paused)
	time.Sleep(500 * time.Millisecond) // a retrying bridge fails again within its 500 ms..1 s backoff
	if after := g.metric(t, paused); after != before {
		t.Fatalf("bridge kept trying to connect while offline (%v → %v failures)", before, after)
	}
}

// TestWatchdogEvents: a watched TCP service that goes away is reported on
// borda/<node>/events and in /api/v1/health.
func TestWatchdogEvents(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	svc := watchdog.DefaultService()
	svc.Name, svc.Check, svc.Address, svc.Interval = "plc-gateway", watchdog.CheckTCP, ln.Addr().String(), 50*time.Millisecond
	cfg.Watchdog.Services = []watchdog.ServiceConfig{svc}
	g := startGateway(t, cfg)
	rec := newReceived()
	sub := v3Client(t, "tcp://"+g.mqttAddr(), "events-watch", true, rec)
	waitToken(t, "subscribe", sub.Subscribe("borda/+/events", 1, nil))
	testkit.Eventually(t, 10*time.Second, "service up in /api/v1/health", func() bool {
		return strings.Contains(httpGet(t, g.httpURL()+"/api/v1/health", 200), `"state":"up"`)
	})
	ln.Close()
	if m := rec.wait(t, 1)[0]; !strings.Contains(m.payload, "service_down") || !strings.Contains(m.payload, "plc-gateway") {
		t.Fatalf("event %+v", m)
	}
}

// probeTarget is a loopback TCP listener that accepts and closes every
// connection: a reachable probe target for netmon on lo.
func probeTarget(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln
}
