package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/testkit"
)

// TestMosquittoClients uses Debian's mosquitto_pub and mosquitto_sub as an
// independent MQTT implementation, for both protocol versions and QoS 0-2.
func TestMosquittoClients(t *testing.T) {
	pubBin := testkit.RequireCommand(t, "mosquitto_pub", "mosquitto-clients")
	subBin := testkit.RequireCommand(t, "mosquitto_sub", "mosquitto-clients")
	g := startGateway(t, testConfig(t))
	host, port, _ := net.SplitHostPort(g.mqttAddr())

	for _, version := range []string{"mqttv311", "mqttv5"} {
		for _, qos := range []string{"0", "1", "2"} {
			t.Run(version+"/qos"+qos, func(t *testing.T) {
				topic := fmt.Sprintf("sensors/%s-%s/temperature", version, qos)
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				defer cancel()
				sub := exec.CommandContext(ctx, subBin, "-h", host, "-p", port, "-V", version,
					"-q", qos, "-t", "sensors/+/temperature", "-C", "3", "-v", "-i", "sub-"+version+qos)
				out := &syncBuffer{}
				sub.Stdout, sub.Stderr = out, out
				if err := sub.Start(); err != nil {
					t.Fatal(err)
				}
				g.waitSubscribed(t, "sub-"+version+qos)
				for i := range 3 {
					pub := exec.CommandContext(ctx, pubBin, "-h", host, "-p", port, "-V", version,
						"-q", qos, "-t", topic, "-m", fmt.Sprintf(`{"value":%d.5}`, i))
					if b, err := pub.CombinedOutput(); err != nil {
						t.Fatalf("mosquitto_pub: %v: %s", err, b)
					}
				}
				if err := sub.Wait(); err != nil {
					t.Fatalf("mosquitto_sub: %v: %s", err, out)
				}
				want := fmt.Sprintf("%[1]s {\"value\":0.5}\n%[1]s {\"value\":1.5}\n%[1]s {\"value\":2.5}\n", topic)
				if out.String() != want {
					t.Fatalf("mosquitto_sub printed:\n%s\nwant:\n%s", out, want)
				}
			})
		}
	}

	t.Run("retained", func(t *testing.T) {
		pub := exec.Command(pubBin, "-h", host, "-p", port, "-q", "1", "-r", "-t", "devices/gw/status", "-m", "online")
		if b, err := pub.CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_pub: %v: %s", err, b)
		}
		sub := exec.Command(subBin, "-h", host, "-p", port, "-t", "devices/+/status", "-C", "1", "-W", "10", "-v")
		b, err := sub.CombinedOutput()
		if err != nil || strings.TrimSpace(string(b)) != "devices/gw/status online" {
			t.Fatalf("mosquitto_sub: %v: %q", err, b)
		}
	})
}
