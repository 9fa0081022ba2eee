package attach

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/borda-edge/borda/internal/pipeline"
	"github.com/borda-edge/borda/internal/simulate/simtest"
	"github.com/borda-edge/borda/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is an Ingester that keeps what it stored; while refusing it
// answers like a pipeline that is shutting down.
type recorder struct {
	mu       sync.Mutex
	topics   []string
	refusing bool
}

func (r *recorder) IngestAsync(topic string, payload []byte, _ time.Time) <-chan error {
	done := make(chan error, 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refusing {
		done <- pipeline.ErrStopped
		return done
	}
	r.topics = append(r.topics, topic+"="+string(payload))
	done <- nil
	return done
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]string(nil), r.topics...)
	sort.Strings(out)
	return out
}

func (r *recorder) refuse(on bool) { r.mu.Lock(); r.refusing = on; r.mu.Unlock() }

func startClient(t *testing.T, cfg Config, ing Ingester) (*Client, func()) {
	t.Helper()
	return startClientWith(t, cfg, Deps{Ingest: ing})
}

// startClientWith runs a client with d (a fresh registry, node "test").
func startClientWith(t *testing.T, cfg Config, d Deps) (*Client, func()) {
	t.Helper()
	d.Registry, d.Node = prometheus.NewRegistry(), "test"
	c, err := New(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("run: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Error("attach did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return c, stop
}

func testConfig(addr, id string, subs ...string) Config {
	c := DefaultConfig()
	c.Name, c.Address, c.ClientID, c.Subscriptions = "cloud", "mqtt://"+addr, id, subs
	c.Backoff.Min, c.Backoff.Max = 50*time.Millisecond, 200*time.Millisecond
	return c
}

func publisher(t *testing.T, addr string) mqtt.Client {
	t.Helper()
	o := mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(fmt.Sprintf("pub-%d", time.Now().UnixNano()))
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect publisher: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

func publish(t *testing.T, c mqtt.Client, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		tok := c.Publish(fmt.Sprintf("edge/n1/sensors/d%d/temperature", i), 1, false, fmt.Sprint(i))
		if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %d: %v", i, tok.Error())
		}
	}
}

func want(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("edge/n1/sensors/d%d/temperature=%d", i, i))
	}
	sort.Strings(out)
	return out
}

// The broker is down at start: Run does not fail, connects when the broker
// comes up, and then receives what is published.
func TestConnectsWhenBrokerComesUp(t *testing.T) {
	m := simtest.NewMosquitto(t, simtest.Options{})
	rec := &recorder{}
	c, _ := startClient(t, testConfig(m.Addr, "late", "edge/#"), rec)
	<-c.Ready()
	time.Sleep(200 * time.Millisecond)
	if c.Connected() {
		t.Fatal("connected without a broker")
	}
	m.Start(t)
	testkit.Eventually(t, 10*time.Second, "connected", c.Connected)
	time.Sleep(100 * time.Millisecond) // the subscription goes out after the connection
	publish(t, publisher(t, m.Addr), 0, 20)
	testkit.Eventually(t, 10*time.Second, "20 readings", func() bool { return len(rec.got()) == 20 })
}

// QoS 1 with a persistent session: messages published while borda is
// away, and messages that were not stored when it stopped, arrive after it
// comes back; nothing is lost.
func TestPersistentSessionKeepsMessages(t *testing.T) {
	m := simtest.StartMosquitto(t, simtest.Options{})
	rec := &recorder{}
	cfg := testConfig(m.Addr, "collector-1", "edge/#")
	c, stop := startClient(t, cfg, rec)
	testkit.Eventually(t, 10*time.Second, "connected", c.Connected)
	time.Sleep(100 * time.Millisecond)
	pub := publisher(t, m.Addr)
	publish(t, pub, 0, 10)
	testkit.Eventually(t, 10*time.Second, "first 10", func() bool { return len(rec.got()) == 10 })

	rec.refuse(true) // the pipeline stops before the attachment acknowledges
	publish(t, pub, 10, 15)
	time.Sleep(200 * time.Millisecond)
	stop()
	publish(t, pub, 15, 30) // borda is away
	rec.refuse(false)

	c2, _ := startClient(t, cfg, rec)
	testkit.Eventually(t, 10*time.Second, "reconnected", c2.Connected)
	testkit.Eventually(t, 10*time.Second, "all 30", func() bool { return len(rec.got()) >= 30 })
	if got, w := rec.got(), want(0, 30); strings.Join(got, ",") != strings.Join(w, ",") {
		t.Fatalf("got %d readings %v\nwant %v", len(got), got, w)
	}
}

// Two collectors with one shared subscription split the stream: every
// message goes to exactly one of them.
func TestSharedSubscriptionSplits(t *testing.T) {
	m := simtest.StartMosquitto(t, simtest.Options{})
	a, b := &recorder{}, &recorder{}
	ca, _ := startClient(t, testConfig(m.Addr, "collector-a", "$share/collectors/edge/#"), a)
	cb, _ := startClient(t, testConfig(m.Addr, "collector-b", "$share/collectors/edge/#"), b)
	testkit.Eventually(t, 10*time.Second, "both connected", func() bool { return ca.Connected() && cb.Connected() })
	time.Sleep(200 * time.Millisecond)
	publish(t, publisher(t, m.Addr), 0, 200)
	testkit.Eventually(t, 10*time.Second, "200 readings", func() bool { return len(a.got())+len(b.got()) >= 200 })
	time.Sleep(200 * time.Millisecond)
	all := append(a.got(), b.got()...)
	sort.Strings(all)
	if strings.Join(all, ",") != strings.Join(want(0, 200), ",") {
		t.Fatalf("%d + %d readings, want each of 200 once", len(a.got()), len(b.got()))
	}
	if len(a.got()) == 0 || len(b.got()) == 0 {
		t.Fatalf("not split: %d and %d", len(a.got()), len(b.got()))
	}
	t.Logf("split %d / %d", len(a.got()), len(b.got()))
}

// Rule actions publish to the external broker through a durable queue:
// actions raised while the broker is unreachable, and across a restart of
// borda, arrive once it is back, in order.
func TestActionsQueuedUntilBrokerIsBack(t *testing.T) {
	m := simtest.StartMosquitto(t, simtest.Options{})
	recv := simtest.NewReceiver(t, m.Addr, "alerts/#")
	proxy := testkit.StartProxy(t, m.Addr)
	cfg := testConfig(proxy.Addr, "actions", "edge/#")
	cfg.Actions = true
	dir := t.TempDir()
	start := func() (*Client, func()) {
		t.Helper()
		return startClientWith(t, cfg, Deps{Ingest: &recorder{}, DataDir: dir})
	}
	c, stop := start()
	testkit.Eventually(t, 10*time.Second, "connected", c.Connected)
	alert := func(i int) { // as the alert dispatcher calls it
		t.Helper()
		if err := c.Publish("alerts/critical", []byte(fmt.Sprint(i)), false, 1); err != nil {
			t.Fatal(err)
		}
	}
	alert(0)
	testkit.Eventually(t, 10*time.Second, "first alert", func() bool { return len(recv.Arrivals()) == 1 })

	proxy.Cut() // the broker is unreachable
	testkit.Eventually(t, 10*time.Second, "disconnected", func() bool { return !c.Connected() })
	alert(1)
	alert(2)
	stop() // borda restarts meanwhile
	c, _ = start()
	alert(3)
	time.Sleep(200 * time.Millisecond)
	if n := len(recv.Arrivals()); n != 1 {
		t.Fatalf("%d alerts arrived while the broker was unreachable", n)
	}
	proxy.Restore()
	testkit.Eventually(t, 15*time.Second, "all 4 alerts", func() bool { return len(recv.Arrivals()) == 4 })
	var got []string
	for _, a := range recv.Arrivals() {
		got = append(got, a.Payload)
	}
	if strings.Join(got, ",") != "0,1,2,3" {
		t.Fatalf("alerts arrived as %v, want 0,1,2,3 in order", got)
	}
}

// The broker restarts under an established session: borda reconnects
// with backoff, finds its session (the broker persisted it) and goes on;
// what was published before and after is all stored.
func TestBrokerRestartMidSession(t *testing.T) {
	m := simtest.StartMosquitto(t, simtest.Options{Persistent: true})
	rec := &recorder{}
	c, _ := startClient(t, testConfig(m.Addr, "restart", "edge/#"), rec)
	testkit.Eventually(t, 10*time.Second, "connected", c.Connected)
	time.Sleep(100 * time.Millisecond)
	pub := publisher(t, m.Addr)
	publish(t, pub, 0, 50)
	testkit.Eventually(t, 10*time.Second, "first 50", func() bool { return len(rec.got()) == 50 })
	m.Stop(t)
	testkit.Eventually(t, 10*time.Second, "disconnected", func() bool { return !c.Connected() })
	m.Start(t)
	testkit.Eventually(t, 15*time.Second, "reconnected", c.Connected)
	publish(t, publisher(t, m.Addr), 50, 100)
	// At least once: what was stored but not yet acknowledged when the
	// broker went away comes again (the store keeps one sample per series
	// and timestamp).
	testkit.Eventually(t, 10*time.Second, "all 100", func() bool { return len(slices.Compact(rec.got())) >= 100 })
	if got, w := slices.Compact(rec.got()), want(0, 100); strings.Join(got, ",") != strings.Join(w, ",") {
		t.Fatalf("got %d distinct readings, want the 100 published", len(got))
	}
	t.Logf("%d redelivered after the restart", len(rec.got())-100)
	if v := testutil.ToFloat64(c.met.disconnects); v < 1 {
		t.Fatalf("disconnects = %v, want at least 1", v)
	}
}

// TLS with the broker's CA and a username with its password from a file:
// connected and receiving; a wrong password never connects and every
// refused attempt is counted.
func TestTLSAndCredentials(t *testing.T) {
	m := simtest.StartMosquitto(t, simtest.Options{TLS: true, Users: map[string]string{
		"collector": "s3cret-pass", "pub": "pub-pass"}})
	dir := t.TempDir()
	pass := dir + "/pass"
	if err := os.WriteFile(pass, []byte("s3cret-pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(m.TLSAddr, "tls", "edge/#")
	cfg.Address = "mqtts://" + m.TLSAddr
	cfg.TLS.CAFile = m.CAFile
	cfg.Username, cfg.PasswordFile = "collector", pass
	rec := &recorder{}
	c, _ := startClient(t, cfg, rec)
	testkit.Eventually(t, 10*time.Second, "connected over TLS", c.Connected)
	time.Sleep(100 * time.Millisecond)
	o := mqtt.NewClientOptions().AddBroker("tcp://" + m.Addr).SetClientID("pub-tls").
		SetUsername("pub").SetPassword("pub-pass")
	pub := mqtt.NewClient(o)
	if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect publisher: %v", tok.Error())
	}
	t.Cleanup(func() { pub.Disconnect(100) })
	publish(t, pub, 0, 10)
	testkit.Eventually(t, 10*time.Second, "10 readings", func() bool { return len(rec.got()) == 10 })

	bad := cfg
	bad.Name, bad.ClientID, bad.PasswordFile, bad.Password = "bad", "bad-pass", "", "wrong"
	cb, _ := startClient(t, bad, &recorder{})
	testkit.Eventually(t, 10*time.Second, "refused attempts counted", func() bool {
		return testutil.ToFloat64(cb.met.connectErrors) >= 2
	})
	if cb.Connected() {
		t.Fatal("connected with a wrong password")
	}
}
