package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.golang/paho"
	"go.uber.org/goleak"
)

// TestPublishSubscribe sends messages between an MQTT 3.1.1 and an MQTT 5
// client, both ways, at every QoS, and checks order, payload and QoS.
func TestPublishSubscribe(t *testing.T) {
	g := startGateway(t, testConfig(t))
	for _, qos := range []byte{0, 1, 2} {
		for _, dir := range []string{"v3->v5", "v5->v3"} {
			t.Run(fmt.Sprintf("%s/qos%d", dir, qos), func(t *testing.T) {
				topic := fmt.Sprintf("sensors/%s-q%d/temperature", strings.ReplaceAll(dir, "->", "-"), qos)
				rec := newReceived()
				const n = 25
				id := fmt.Sprintf("%s-%d", dir, qos)
				if dir == "v3->v5" {
					sub := v5Client(t, g.mqttAddr(), "sub-"+id, true, rec)
					v5Subscribe(t, sub, "sensors/+/temperature", qos)
					pub := v3Client(t, "tcp://"+g.mqttAddr(), "pub-"+id, true, nil)
					for i := range n {
						waitToken(t, "publish", pub.Publish(topic, qos, false, fmt.Sprintf(`{"value":%d}`, i)))
					}
				} else {
					sub := v3Client(t, "tcp://"+g.mqttAddr(), "sub-"+id, true, rec)
					waitToken(t, "subscribe", sub.Subscribe("sensors/+/temperature", qos, nil))
					pub := v5Client(t, g.mqttAddr(), "pub-"+id, true, nil)
					for i := range n {
						v5Publish(t, pub, topic, fmt.Sprintf(`{"value":%d}`, i), qos, false)
					}
				}
				got := rec.wait(t, n)
				for i, m := range got {
					want := fmt.Sprintf(`{"value":%d}`, i)
					if m.topic != topic || m.payload != want || m.qos != qos {
						t.Fatalf("message %d = %+v, want topic %s payload %s qos %d", i, m, topic, want, qos)
					}
				}
			})
		}
	}
}

// TestWebSocketListener publishes over MQTT-over-WebSocket to a TCP subscriber.
func TestWebSocketListener(t *testing.T) {
	g := startGateway(t, testConfig(t))
	rec := newReceived()
	sub := v5Client(t, g.mqttAddr(), "tcp-sub", true, rec)
	v5Subscribe(t, sub, "ws/#", 1)
	pub := v3Client(t, "ws://"+g.wsAddr(), "ws-pub", true, nil)
	waitToken(t, "publish over websocket", pub.Publish("ws/hello", 1, false, "over websocket"))
	if got := rec.wait(t, 1)[0]; got.payload != "over websocket" {
		t.Fatalf("got %+v", got)
	}
}

// TestHTTPEndpoints checks /healthz, /readyz and that /metrics carries the
// broker, Go runtime and process metrics.
func TestHTTPEndpoints(t *testing.T) {
	g := startGateway(t, testConfig(t))
	if body := httpGet(t, g.httpURL()+"/healthz", http.StatusOK); !strings.Contains(body, "ok") {
		t.Fatalf("/healthz = %s", body)
	}
	if body := httpGet(t, g.httpURL()+"/readyz", http.StatusOK); !strings.Contains(body, "ready") {
		t.Fatalf("/readyz = %s", body)
	}
	rec := newReceived()
	sub := v5Client(t, g.mqttAddr(), "metrics-sub", true, rec)
	v5Subscribe(t, sub, "m/#", 0)
	pub := v3Client(t, "tcp://"+g.mqttAddr(), "metrics-pub", true, nil)
	waitToken(t, "publish", pub.Publish("m/retained", 1, true, "r"))
	rec.wait(t, 1)

	want := map[string]float64{
		"borda_mqtt_clients_connected":       2,
		"borda_mqtt_retained_messages":       1,
		"borda_mqtt_subscriptions":           1,
		"borda_mqtt_messages_received_total": 1,
		"borda_mqtt_messages_sent_total":     1,
	}
	for series, v := range want {
		if got := g.metric(t, series); got < v {
			t.Errorf("%s = %v, want >= %v", series, got, v)
		}
	}
	for _, series := range []string{"borda_mqtt_received_bytes_total", "borda_mqtt_sent_bytes_total",
		"go_goroutines", "process_resident_memory_bytes", `borda_mqtt_messages_dropped_total{reason="inflight_quota"}`} {
		if got := g.metric(t, series); got < 0 {
			t.Errorf("%s missing from /metrics", series)
		}
	}
}

// TestShutdownLeavesNoGoroutines starts and stops a gateway with clients
// connected and checks every goroutine it started has ended.
func TestShutdownLeavesNoGoroutines(t *testing.T) {
	opts := []goleak.Option{goleak.IgnoreCurrent()}
	g := startGateway(t, testConfig(t))
	rec := newReceived()
	c := v5Client(t, g.mqttAddr(), "leak-sub", true, rec)
	v5Subscribe(t, c, "x", 1)
	v5Publish(t, c, "x", "y", 1, false)
	rec.wait(t, 1)
	_ = c.Disconnect(&paho.Disconnect{})
	g.stop(t)
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := goleak.Find(opts...)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
