package mqttbridge

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/borda-edge/borda/internal/simulate/simtest"
	"github.com/borda-edge/borda/internal/testkit"
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

// fakeLocal records local publishes.
type fakeLocal struct {
	mu   sync.Mutex
	pubs []localPub
}

type localPub struct {
	topic, payload string
	retain         bool
	origin         string
}

func (f *fakeLocal) Publish(topic string, payload []byte, retain bool, qos byte) error {
	return f.PublishFrom("", topic, payload, retain, qos)
}

func (f *fakeLocal) PublishFrom(origin, topic string, payload []byte, retain bool, _ byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pubs = append(f.pubs, localPub{topic, string(payload), retain, origin})
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
	b   *Bridge
	reg *prometheus.Registry
	run *testkit.Running
}

func startBridge(t testing.TB, cfg Config, dir string, local Publisher) *running {
	t.Helper()
	reg := prometheus.NewRegistry()
	b, err := New(cfg, Deps{Registry: reg, Local: local, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return &running{b: b, reg: reg, run: testkit.RunComponent(t, b.Run, b.Ready(), waitLong)}
}

// close stops Run and waits for it (idempotent).
func (r *running) close(t testing.TB) { t.Helper(); r.run.Stop(t) }

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
