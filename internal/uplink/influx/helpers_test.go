package influx

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/borda-edge/borda/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const waitLong = 30 * time.Second

// fakeLocal records the status publishes of an output.
type fakeLocal struct {
	mu   sync.Mutex
	pubs []string // payloads, in order
}

func (f *fakeLocal) Publish(topic string, payload []byte, retain bool, _ byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !retain {
		return fmt.Errorf("status on %s not retained", topic)
	}
	f.pubs = append(f.pubs, string(payload))
	return nil
}

func (f *fakeLocal) statuses() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.pubs...)
}

func testConfig(url string) Config {
	c := DefaultConfig()
	c.Name, c.URL, c.Database = "influx1", url, "borda"
	c.FlushInterval = 20 * time.Millisecond
	c.Backoff.Min, c.Backoff.Max = 20*time.Millisecond, 200*time.Millisecond
	c.Timeout = 5 * time.Second
	c.Queue.Fsync = false
	return c
}

// running is an output whose Run goroutine the test owns.
type running struct {
	o     *Output
	reg   *prometheus.Registry
	local *fakeLocal
	dir   string
	run   *testkit.Running
}

func start(t *testing.T, cfg Config, dir string) *running {
	t.Helper()
	r := &running{reg: prometheus.NewRegistry(), local: &fakeLocal{}, dir: dir}
	o, err := New(cfg, Deps{Registry: r.reg, Local: r.local, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	r.o = o
	r.run = testkit.RunComponent(t, o.Run, o.Ready(), waitLong)
	return r
}

// close ends Run and waits for it (idempotent).
func (r *running) close(t *testing.T) { t.Helper(); r.run.Stop(t) }

func (r *running) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	return testkit.MetricValue(t, r.reg, name, labels...)
}

// readings returns n points of measurement m with values from..from+n-1
// (field value = sequence, field half = sequence/2) on 4 devices, one
// millisecond apart from base.
func readings(m string, from, n int, base time.Time) []telemetry.Point {
	pts := make([]telemetry.Point, n)
	for i := range pts {
		seq := from + i
		pts[i] = telemetry.Point{Measurement: m,
			Tags:   []telemetry.Tag{{Key: "device_id", Value: fmt.Sprintf("d%d", seq%4)}, {Key: "location", Value: "hall"}},
			Fields: []telemetry.Field{{Key: "value", Value: float64(seq)}, {Key: "half", Value: float64(seq) / 2}},
			Time:   base.Add(time.Duration(seq) * time.Millisecond)}
	}
	return pts
}

// appendAll appends points in calls of per points.
func appendAll(t *testing.T, o *Output, pts []telemetry.Point, per int) {
	t.Helper()
	for i := 0; i < len(pts); i += per {
		if err := o.Append(context.Background(), pts[i:min(i+per, len(pts))]); err != nil {
			t.Fatal(err)
		}
	}
}

// values returns value → times seen for measurement m in the 1.x database.
func values(t *testing.T, s *testkit.Influxd, db, m string) map[int]int {
	t.Helper()
	got := map[int]int{}
	for _, ser := range s.Query(t, db, fmt.Sprintf("SELECT value FROM %q", m)) {
		for _, row := range ser.Values {
			v, err := row[1].(json.Number).Float64()
			if err != nil {
				t.Fatalf("value %v: %v", row[1], err)
			}
			got[int(v)]++
		}
	}
	return got
}

// waitValues waits until m holds exactly the values 0..n-1 (each once).
func waitValues(t *testing.T, s *testkit.Influxd, db, m string, n int) {
	t.Helper()
	var got map[int]int
	deadline := time.Now().Add(waitLong)
	for time.Now().Before(deadline) {
		if got = values(t, s, db, m); len(got) >= n {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	missing := 0
	for i := range n {
		if got[i] == 0 {
			missing++
		}
	}
	if missing > 0 || len(got) != n {
		t.Fatalf("%s: %d distinct values, %d of 0..%d missing", m, len(got), missing, n-1)
	}
}
