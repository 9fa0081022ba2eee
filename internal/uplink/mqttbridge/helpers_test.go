package mqttbridge

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/borda-edge/borda/internal/simulate/simtest"
	"github.com/borda-edge/borda/internal/uplink/link"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const waitLong = 60 * time.Second

// cloud is a Mosquitto "cloud broker" that can be stopped and restarted on
// the same port. Persistence is on (saved on SIGTERM) so that the test
// receiver's persistent session survives a restart.
type cloud struct {
	t    *testing.T
	addr string
	m    *simtest.Mosquitto
}

func newCloud(t *testing.T) *cloud {
	t.Helper()
	m := simtest.NewMosquitto(t, simtest.Options{Persistent: true})
	return &cloud{t: t, addr: m.Addr, m: m}
}

func (c *cloud) start() { c.t.Helper(); c.m.Start(c.t) }

// stop kills the broker by PID (SIGTERM: it saves its persistence file).
func (c *cloud) stop() { c.t.Helper(); c.m.Stop(c.t) }

// receiver is a cloud-side subscriber with a persistent session that
// records payloads per topic.
type receiver struct {
	c    mqtt.Client
	mu   sync.Mutex
	msgs map[string][]string
}

func newReceiver(t *testing.T, addr, filter string) *receiver {
	t.Helper()
	r := &receiver{msgs: map[string][]string{}}
	o := mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(fmt.Sprintf("rcv-%d", time.Now().UnixNano())).
		SetCleanSession(false).SetAutoReconnect(true).SetMaxReconnectInterval(100 * time.Millisecond).
		SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond).SetProtocolVersion(4).SetOrderMatters(true).
		SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) { r.add(m) })
	o.SetOnConnectHandler(func(c mqtt.Client) { c.Subscribe(filter, 1, nil) })
	r.c = mqtt.NewClient(o)
	if tok := r.c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("receiver connect: %v", tok.Error())
	}
	tok := r.c.Subscribe(filter, 1, nil)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("receiver subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { r.c.Disconnect(100) })
	return r
}

func (r *receiver) add(m mqtt.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs[m.Topic()] = append(r.msgs[m.Topic()], string(m.Payload()))
}

// distinct counts distinct payloads over all topics.
func (r *receiver) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ps := range r.msgs {
		seen := map[string]bool{}
		for _, p := range ps {
			seen[p] = true
		}
		n += len(seen)
	}
	return n
}

// check asserts that every topic in want got payloads 0..want[topic]-1,
// first occurrences in increasing order; duplicates are counted and logged.
func (r *receiver) check(t *testing.T, want map[string]int) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	dups := 0
	for topic, n := range want {
		seen, last := map[int]bool{}, -1
		for _, p := range r.msgs[topic] {
			i, err := strconv.Atoi(p)
			if err != nil {
				t.Fatalf("%s: payload %q", topic, p)
			}
			if seen[i] {
				dups++
				continue
			}
			if i < last {
				t.Errorf("%s: %d arrived after %d (order)", topic, i, last)
			}
			seen[i], last = true, i
		}
		missing := 0
		for i := range n {
			if !seen[i] {
				missing++
			}
		}
		if missing > 0 {
			t.Errorf("%s: %d of %d missing", topic, missing, n)
		}
	}
	t.Logf("duplicates received: %d", dups)
}

// fakeLocal records local publishes.
type fakeLocal struct {
	mu   sync.Mutex
	pubs []localPub
}

type localPub struct {
	topic, payload string
	retain         bool
}

func (f *fakeLocal) Publish(topic string, payload []byte, retain bool, _ byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pubs = append(f.pubs, localPub{topic, string(payload), retain})
	return nil
}

func (f *fakeLocal) find(topic string) []localPub {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []localPub
	for _, p := range f.pubs {
		if p.topic == topic {
			out = append(out, p)
		}
	}
	return out
}

// lastStatus is the last status payload published, "" if none.
func (f *fakeLocal) lastStatus(topic string) string {
	ps := f.find(topic)
	if len(ps) == 0 {
		return ""
	}
	return ps[len(ps)-1].payload
}

func testConfig(addr string) Config {
	c := DefaultConfig()
	c.Name, c.Address = "cloud", "tcp://"+addr
	c.Backoff = link.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}
	c.Keepalive = 5 * time.Second
	c.Queue.Fsync = false
	c.Out = []Mapping{{Filter: "sensors/#", AddPrefix: "site1/", QoS: 1}, {Filter: "alerts/#", AddPrefix: "site1/", QoS: 1, Priority: "high"}}
	c.In = []Mapping{{Filter: "site1/cmd/#", StripPrefix: "site1/", QoS: 1}}
	return c
}

// running is a bridge whose Run goroutine the test owns.
type running struct {
	b    *Bridge
	stop context.CancelFunc
	errc chan error
}

func startBridge(t *testing.T, cfg Config, dir string, local Publisher) *running {
	t.Helper()
	b, err := New(cfg, Deps{Registry: prometheus.NewRegistry(), Local: local, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{b: b, stop: cancel, errc: make(chan error, 1)}
	go func() { r.errc <- b.Run(ctx) }()
	select {
	case <-b.Ready():
	case err := <-r.errc:
		t.Fatalf("run: %v", err)
	case <-time.After(waitLong):
		t.Fatal("bridge not ready")
	}
	t.Cleanup(func() { r.close(t) })
	return r
}

// close stops Run and waits for it (idempotent).
func (r *running) close(t *testing.T) {
	t.Helper()
	if r.errc == nil {
		return
	}
	r.stop()
	select {
	case err := <-r.errc:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(waitLong):
		t.Error("run did not end")
	}
	r.errc = nil
}

// offer offers perTopic payloads 0.. on each topic, topics in parallel.
func offer(t *testing.T, b *Bridge, topics []string, from, to int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(topics))
	for _, topic := range topics {
		wg.Go(func() {
			for i := from; i < to; i++ {
				if err := b.Offer(context.Background(), topic, []byte(strconv.Itoa(i)), false); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
