package alerts

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/broker"
	"github.com/borda-edge/borda/internal/telemetry"
)

type nopPublisher struct{}

func (nopPublisher) Publish(string, []byte, bool, byte) error { return nil }

// benchNotify measures Notify with the default action (render the seed's
// JSON, publish to alerts/critical at QoS 2) plus the history enqueue; a
// goroutine empties the history queue as Run's worker would.
func benchNotify(b *testing.B, pub Publisher) {
	d, err := New(DefaultConfig(), Deps{Registry: prometheus.NewRegistry(), Publisher: pub, DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range d.historyQ {
		}
	}()
	a := alertAt(0, "sensor-001", t0, telemetry.AlertFiring)
	b.ReportAllocs()
	for b.Loop() {
		d.Notify(a)
	}
	close(d.historyQ) // no Notify after this point
	<-done
	if n := counter(d.m.mqttErr); n > 0 {
		b.Fatalf("%v publishes failed", n)
	}
}

func BenchmarkNotify(b *testing.B) {
	b.Run("fake_publisher", func(b *testing.B) { benchNotify(b, nopPublisher{}) })
	b.Run("broker_no_subscriber", func(b *testing.B) { benchNotify(b, startBroker(b)) })
	b.Run("broker_inline_subscriber", func(b *testing.B) {
		br := startBroker(b)
		var got atomic.Int64
		if err := br.Server().Subscribe("alerts/critical", 1, func(*mqtt.Client, packets.Subscription, packets.Packet) { got.Add(1) }); err != nil {
			b.Fatal(err)
		}
		benchNotify(b, br)
		b.ReportMetric(float64(got.Load())/float64(b.N), "received/op")
	})
	b.Run("broker_tcp_subscriber_qos0", func(b *testing.B) { benchTCPSubscriber(b, 0) })
	// A QoS 1/2 subscriber that acknowledges while alerts are published
	// deadlocked mochi-mqtt v2.7.9 (Inflight.NextImmediate read-locked
	// twice); borda builds with the patched copy in third_party/.
	b.Run("broker_tcp_subscriber_qos2", func(b *testing.B) { benchTCPSubscriber(b, 2) })
}

// benchTCPSubscriber publishes to a real MQTT client over TCP, as a
// dashboard or an automation consumer subscribed to alerts/critical.
func benchTCPSubscriber(b *testing.B, qos byte) {
	br := startBroker(b)
	var got atomic.Int64
	c := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + br.Addr("mqtt").String()).
		SetClientID("bench-sub").SetCleanSession(true).SetOrderMatters(false))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		b.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(0)
	tok := c.Subscribe("alerts/critical", qos, func(paho.Client, paho.Message) { got.Add(1) })
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		b.Fatalf("subscribe: %v", tok.Error())
	}
	benchNotify(b, br)
	b.ReportMetric(float64(got.Load())/float64(b.N), "received/op")
}

// BenchmarkDefaultPayload compares the hand-written renderer of the
// default payload with the template it replaces.
func BenchmarkDefaultPayload(b *testing.B) {
	acts, err := Compile(DefaultActions())
	if err != nil {
		b.Fatal(err)
	}
	tmpl := template.Must(template.New("p").Funcs(funcs).Parse(DefaultPayload))
	a := alertAt(0, "sensor-001", t0, telemetry.AlertFiring)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = acts[0].Payload(&a)
		}
	})
	b.Run("template", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = render(tmpl, &a)
		}
	})
}

// brokerPublisher adapts the embedded broker as cmd/borda does.
type brokerPublisher struct{ *broker.Broker }

func (p brokerPublisher) Publish(topic string, payload []byte, retain bool, qos byte) error {
	return p.Server().Publish(topic, payload, retain, qos)
}

// startBroker runs borda's broker (defaults: persistence on; one TCP
// listener on a free port) for the benchmark.
func startBroker(b *testing.B) brokerPublisher {
	cfg := broker.DefaultConfig()
	cfg.Listeners = []broker.ListenerConfig{{Name: "mqtt", Protocol: broker.ProtocolMQTT, Address: "127.0.0.1"}}
	log := slog.New(slog.DiscardHandler)
	br := broker.New(cfg, broker.Deps{Logger: log, Registry: prometheus.NewRegistry(), DataDir: b.TempDir()}, log)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- br.Run(ctx) }()
	select {
	case <-br.Ready():
	case err := <-errc:
		b.Fatalf("broker: %v", err)
	case <-time.After(10 * time.Second):
		b.Fatal("broker not ready")
	}
	b.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			b.Error(fmt.Errorf("broker: %w", err))
		}
	})
	return brokerPublisher{br}
}
