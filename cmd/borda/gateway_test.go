package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.golang/paho"
	mqtt3 "github.com/eclipse/paho.mqtt.golang"

	"github.com/borda-edge/borda/internal/config"
	"github.com/borda-edge/borda/internal/testkit"
)

type syncBuffer = testkit.SyncBuffer

// testConfig is the default configuration on loopback, free ports and a
// temporary data directory.
func testConfig(t *testing.T) config.File {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	for i := range cfg.Broker.Listeners {
		cfg.Broker.Listeners[i].Address = "127.0.0.1"
		cfg.Broker.Listeners[i].Port = 0
	}
	cfg.HTTP.Address, cfg.HTTP.Port = "127.0.0.1", 0
	cfg.MemoryLimit = 0 // process-wide: leave the test binary's GC alone
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// testGateway is a gateway running in-process for one test.
type testGateway struct {
	*gateway
	cancel   context.CancelFunc
	done     chan error
	logs     *syncBuffer
	stopOnce sync.Once
	// next is what a reload (SIGHUP, POST /-/reload) reads.
	next *atomic.Pointer[config.File]
}

func startGateway(t *testing.T, cfg config.File) *testGateway {
	t.Helper()
	logs := &syncBuffer{}
	next := &atomic.Pointer[config.File]{}
	next.Store(&cfg)
	g, err := newGateway(cfg, logs, func() (config.File, error) {
		c := *next.Load()
		return c, c.Validate()
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tg := &testGateway{gateway: g, cancel: cancel, done: make(chan error, 1), logs: logs, next: next}
	go func() { tg.done <- g.Run(ctx) }()
	for _, ready := range []<-chan struct{}{g.broker.Ready(), g.web.Ready()} {
		select {
		case <-ready:
		case err := <-tg.done:
			t.Fatalf("gateway failed to start: %v\n%s", err, logs)
		case <-time.After(10 * time.Second):
			t.Fatalf("gateway did not start in 10s\n%s", logs)
		}
	}
	t.Cleanup(func() {
		tg.stop(t)
		if t.Failed() {
			t.Logf("gateway logs:\n%s", logs)
		}
	})
	return tg
}

// stop shuts the gateway down and fails the test if it did not stop cleanly.
func (g *testGateway) stop(t *testing.T) {
	t.Helper()
	g.stopOnce.Do(func() {
		g.cancel()
		select {
		case err := <-g.done:
			if err != nil {
				t.Errorf("gateway stopped with error: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("gateway did not stop in 10s")
		}
	})
}

func (g *testGateway) mqttAddr() string { return g.broker.Addr("mqtt").String() }
func (g *testGateway) wsAddr() string   { return g.broker.Addr("websocket").String() }
func (g *testGateway) httpURL() string  { return "http://" + g.web.Addr().String() }

// metric returns the value of one sample line of /metrics, e.g.
// `borda_mqtt_messages_dropped_total{reason="expired"}`, or -1 when absent.
func (g *testGateway) metric(t *testing.T, series string) float64 {
	t.Helper()
	return scrapeMetric(t, g.httpURL(), series)
}

// scrapeMetric returns the value of one series (name{labels} exactly as
// exposed) from baseURL/metrics, -1 when it is not there.
func scrapeMetric(t testing.TB, baseURL, series string) float64 {
	t.Helper()
	body := httpGet(t, baseURL+"/metrics", http.StatusOK)
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			var v float64
			if _, err := fmt.Sscan(rest, &v); err != nil {
				t.Fatalf("parse %q: %v", line, err)
			}
			return v
		}
	}
	return -1
}

func httpGet(t testing.TB, url string, wantCode int) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantCode {
		t.Fatalf("GET %s: status %d, want %d: %s", url, resp.StatusCode, wantCode, b)
	}
	return string(b)
}

// received collects messages delivered to a test client.
type received struct {
	mu   sync.Mutex
	msgs []msg
	ch   chan struct{}
}

type msg struct {
	topic   string
	payload string
	qos     byte
	retain  bool
}

func newReceived() *received { return &received{ch: make(chan struct{}, 1)} }

func (r *received) add(m msg) {
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	r.mu.Unlock()
	select {
	case r.ch <- struct{}{}:
	default:
	}
}

// wait returns once n messages have arrived, failing the test after 10 s.
func (r *received) wait(t *testing.T, n int) []msg {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		got := append([]msg(nil), r.msgs...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("received %d of %d messages: %v", len(got), n, got)
		}
	}
}

func (r *received) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

// v3Client connects an MQTT 3.1.1 client (Eclipse Paho Go).
func v3Client(t *testing.T, brokerURL, id string, clean bool, rec *received) mqtt3.Client {
	t.Helper()
	opts := mqtt3.NewClientOptions().AddBroker(brokerURL).SetClientID(id).
		SetCleanSession(clean).SetAutoReconnect(false).SetProtocolVersion(4).
		SetOrderMatters(true).SetConnectTimeout(5 * time.Second)
	if rec != nil {
		opts.SetDefaultPublishHandler(func(_ mqtt3.Client, m mqtt3.Message) {
			rec.add(msg{topic: m.Topic(), payload: string(m.Payload()), qos: m.Qos(), retain: m.Retained()})
		})
	}
	c := mqtt3.NewClient(opts)
	waitToken(t, "connect "+id, c.Connect())
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

func waitToken(t *testing.T, what string, tok mqtt3.Token) {
	t.Helper()
	if !tok.WaitTimeout(10 * time.Second) {
		t.Fatalf("%s: timed out", what)
	}
	if err := tok.Error(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// v5Client connects an MQTT 5 client (Eclipse Paho Go v5). A non-clean
// session is kept for an hour after disconnect.
func v5Client(t *testing.T, addr, id string, clean bool, rec *received) *paho.Client {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	cfg := paho.ClientConfig{ClientID: id, Conn: conn}
	if rec != nil {
		cfg.OnPublishReceived = []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			p := pr.Packet
			rec.add(msg{topic: p.Topic, payload: string(p.Payload), qos: p.QoS, retain: p.Retain})
			return true, nil
		}}
	}
	c := paho.NewClient(cfg)
	cp := &paho.Connect{ClientID: id, CleanStart: clean, KeepAlive: 30}
	if !clean {
		cp.Properties = &paho.ConnectProperties{SessionExpiryInterval: paho.Uint32(3600)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if ca, err := c.Connect(ctx, cp); err != nil {
		t.Fatalf("connect %s: %v (%+v)", id, err, ca)
	}
	t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}) })
	return c
}

func v5Subscribe(t *testing.T, c *paho.Client, filter string, qos byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: qos}}}); err != nil {
		t.Fatalf("subscribe %s: %v", filter, err)
	}
}

func v5Publish(t *testing.T, c *paho.Client, topic, payload string, qos byte, retain bool) *paho.PublishResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.Publish(ctx, &paho.Publish{Topic: topic, Payload: []byte(payload), QoS: qos, Retain: retain})
	if err != nil {
		t.Fatalf("publish %s: %v", topic, err)
	}
	return resp
}

func v5Disconnect(t *testing.T, c *paho.Client) {
	t.Helper()
	if err := c.Disconnect(&paho.Disconnect{}); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	<-c.Done()
}

// waitSubscribed waits until client id is connected with a subscription.
func (g *testGateway) waitSubscribed(t *testing.T, id string) {
	t.Helper()
	testkit.Eventually(t, 10*time.Second, id+" to subscribe", func() bool {
		cl, ok := g.broker.Server().Clients.Get(id)
		return ok && !cl.Closed() && cl.State.Subscriptions.Len() > 0
	})
}
