package remotewrite

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/prompb"
	"go.uber.org/goleak"

	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/borda-edge/borda/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const waitLong = 30 * time.Second

// fakeLocal records the status publishes of an output.
type fakeLocal struct {
	mu   sync.Mutex
	pubs []string
}

func (f *fakeLocal) Publish(_ string, payload []byte, _ bool, _ byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
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
	c.Name, c.URL = "rw1", url
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
	run   *testkit.Running
}

func start(t *testing.T, cfg Config, dir string) *running {
	t.Helper()
	r := &running{reg: prometheus.NewRegistry(), local: &fakeLocal{}}
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

// readings returns n points of measurement m: field value = sequence,
// field half = sequence/2, on 4 devices, one millisecond apart from base.
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

func appendAll(t *testing.T, o *Output, pts []telemetry.Point, per int) {
	t.Helper()
	for i := 0; i < len(pts); i += per {
		if err := o.Append(context.Background(), pts[i:min(i+per, len(pts))]); err != nil {
			t.Fatal(err)
		}
	}
}

// samples is timestamp (ms) → value of one metric over all its series,
// and the number of raw samples (duplicates included).
type samples struct {
	byTime map[int64]float64
	raw    int
}

func victoriaSamples(t *testing.T, s *testkit.Victoria, metric string) samples {
	t.Helper()
	series, err := s.Export(metric)
	if err != nil {
		t.Fatal(err)
	}
	out := samples{byTime: map[int64]float64{}}
	for _, es := range series {
		for i, ts := range es.Timestamps {
			out.byTime[ts] = es.Values[i]
			out.raw++
		}
	}
	return out
}

// checkReadings asserts that samples holds exactly the readings
// from..from+n-1 of field (value or half).
func checkReadings(t *testing.T, got samples, base time.Time, n int, half bool) {
	t.Helper()
	if len(got.byTime) != n {
		t.Fatalf("%d distinct samples, want %d", len(got.byTime), n)
	}
	for i := range n {
		want := float64(i)
		if half {
			want /= 2
		}
		if v, ok := got.byTime[base.Add(time.Duration(i)*time.Millisecond).UnixMilli()]; !ok || v != want {
			t.Fatalf("sample %d: %v %v, want %v", i, v, ok, want)
		}
	}
}

// decodeBody returns the series of a recorded remote_write request.
func decodeBody(t *testing.T, body []byte) []prompb.TimeSeries {
	t.Helper()
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		t.Fatal(err)
	}
	var wr prompb.WriteRequest
	if err := wr.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	return wr.Timeseries
}
