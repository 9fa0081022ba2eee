package main

import (
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/attach"
	"github.com/borda-edge/borda/internal/simulate/simtest"
	"github.com/borda-edge/borda/internal/testkit"
	"github.com/borda-edge/borda/internal/uplink/mqttbridge"
)

// borda attached to a site's existing broker (no listeners of its own)
// treats the site's readings like the embedded broker's: the seed's rule
// fires and its alert is published back to the site's broker, the reading
// is stored, and the MQTT bridge forwards it to the cloud.
func TestAttachedBrokerRulesStoreAndBridge(t *testing.T) {
	site := simtest.StartMosquitto(t, simtest.Options{})
	cloud := simtest.StartMosquitto(t, simtest.Options{})
	alerts := simtest.NewReceiver(t, site.Addr, "alerts/#")
	bridged := simtest.NewReceiver(t, cloud.Addr, "site-a/#")

	cfg := testConfig(t)
	cfg.Broker.Listeners = nil // attach-only
	a := attach.DefaultConfig()
	a.Name, a.Address, a.ClientID = "site", "mqtt://"+site.Addr, "borda-site"
	a.Subscriptions, a.Actions = []string{"sensors/#"}, true
	a.Backoff.Min, a.Backoff.Max = 50*time.Millisecond, 200*time.Millisecond
	cfg.Attach = []attach.Config{a}
	b := mqttbridge.DefaultConfig()
	b.Name, b.Address = "cloud", "tcp://"+cloud.Addr
	b.Out = []mqttbridge.Mapping{{Filter: "sensors/#", AddPrefix: "site-a/", QoS: 1}}
	b.Backoff.Min, b.Backoff.Max = 50*time.Millisecond, 200*time.Millisecond
	cfg.Uplink.MQTT = []mqttbridge.Config{b}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, cfg)
	testkit.Eventually(t, 10*time.Second, "attached", func() bool { return g.attached[0].Connected() })
	time.Sleep(200 * time.Millisecond) // the subscription goes out after the connection

	pub := v3Client(t, "tcp://"+site.Addr, "site-device", true, nil)
	waitToken(t, "publish", pub.Publish("sensors/s1/temperature", 1, false, `{"value":85,"location":"hall"}`))

	testkit.Eventually(t, 10*time.Second, "alert on the site's broker", func() bool {
		for _, m := range alerts.Arrivals() {
			if m.Topic == "alerts/critical" && strings.Contains(m.Payload, "HIGH_TEMPERATURE") {
				return true
			}
		}
		return false
	})
	testkit.Eventually(t, 10*time.Second, "reading bridged to the cloud", func() bool {
		for _, m := range bridged.Arrivals() {
			if m.Topic == "site-a/sensors/s1/temperature" {
				return true
			}
		}
		return false
	})
	testkit.Eventually(t, 10*time.Second, "reading stored", func() bool {
		res := promQuery(t, g, `sensors_temperature{device_id="s1"}`)
		return len(res) == 1 && res[0].Value[1] == "85"
	})
}
