package alerts

import (
	"context"
	"errors"
	"fmt"
	"github.com/borda-edge/borda/internal/testkit"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/borda-edge/borda/internal/telemetry"
)

type clock = testkit.Clock

func TestMain(m *testing.M) {
	redis.SetLogger(RedisLogger{L: slog.New(slog.DiscardHandler)}) // the test binary's go-redis
	goleak.VerifyTestMain(m)
}

// t0 is a fixed alert time: 2023-11-14T22:13:20Z.
var t0 = time.Unix(1700000000, 0).UTC()

func newClock(t time.Time) *clock { return testkit.NewClock(t) }

// message is one publish seen by fakePublisher.
type message struct {
	topic   string
	payload string
	retain  bool
	qos     byte
}

// fakePublisher records publishes; fail makes every publish fail.
type fakePublisher struct {
	mu   sync.Mutex
	msgs []message
	fail bool
}

func (p *fakePublisher) Publish(topic string, payload []byte, retain bool, qos byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail {
		return errors.New("broker closed")
	}
	p.msgs = append(p.msgs, message{topic, string(payload), retain, qos})
	return nil
}

func (p *fakePublisher) messages() []message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]message(nil), p.msgs...)
}

// alertAt builds a critical HIGH_TEMPERATURE alert of device dev.
func alertAt(i int, dev string, at time.Time, state string) telemetry.Alert {
	return telemetry.Alert{
		ID:   fmt.Sprintf("high_temp/%s/%d", dev, at.UnixNano()+int64(i)),
		Rule: "high_temp", Type: "HIGH_TEMPERATURE", Severity: telemetry.SeverityCritical,
		State: state, DeviceID: dev, Series: fmt.Sprintf(`sensors_temperature{device_id=%q}`, dev),
		Labels: map[string]string{"device_id": dev}, Value: 80 + float64(i), RequiresAction: true,
		FiredAt: at, Time: at,
	}
}

// testDispatcher builds a dispatcher with a fake publisher, a private
// registry and fast retries.
func testDispatcher(t *testing.T, cfg Config, clk func() time.Time) (*Dispatcher, *fakePublisher, *prometheus.Registry) {
	t.Helper()
	pub := &fakePublisher{}
	reg := prometheus.NewRegistry()
	d, err := New(cfg, Deps{Registry: reg, Publisher: pub, Now: clk, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	d.retryMin, d.retryMax = time.Millisecond, 10*time.Millisecond
	return d, pub, reg
}

// run starts d.Run and waits until it is ready; stop cancels it and
// waits for Run to return.
func run(t *testing.T, d *Dispatcher) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- d.Run(ctx) }()
	select {
	case <-d.Ready():
	case err := <-errc:
		cancel()
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("dispatcher not ready after 10s")
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-errc:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("Run did not return 30s after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func counter(c prometheus.Collector) float64 { return testutil.ToFloat64(c) }

func fastConfig() Config {
	cfg := DefaultConfig()
	cfg.WebhookBackoff = time.Millisecond
	return cfg
}
