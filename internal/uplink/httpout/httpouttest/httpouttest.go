// Package httpouttest has the test helpers the HTTP outputs (influx,
// remotewrite) share: a running output with its registry and a fake local
// broker, and generated readings.
package httpouttest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/borda-edge/borda/internal/testkit"
	"github.com/borda-edge/borda/internal/uplink/httpout"
)

// Local records the status publishes of an output; they must be retained.
type Local struct {
	mu   sync.Mutex
	pubs []string // payloads, in order
}

// Publish records payload.
func (f *Local) Publish(topic string, payload []byte, retain bool, _ byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !retain {
		return fmt.Errorf("status on %s not retained", topic)
	}
	f.pubs = append(f.pubs, string(payload))
	return nil
}

// Statuses returns the payloads published so far.
func (f *Local) Statuses() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.pubs...)
}

// Running is an output whose Run goroutine the test owns.
type Running struct {
	O     *httpout.Output
	Reg   *prometheus.Registry
	Local *Local
	run   *testkit.Running
}

// Start builds an output with newOutput on a fresh registry and a fake
// local broker, runs it and waits until it is ready; it stops at cleanup.
func Start(t *testing.T, newOutput func(httpout.Deps) (*httpout.Output, error), dir string, timeout time.Duration) *Running {
	t.Helper()
	r := &Running{Reg: prometheus.NewRegistry(), Local: &Local{}}
	o, err := newOutput(httpout.Deps{Registry: r.Reg, Local: r.Local, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	r.O = o
	r.run = testkit.RunComponent(t, o.Run, o.Ready(), timeout)
	return r
}

// Close ends Run and waits for it (idempotent).
func (r *Running) Close(t *testing.T) { t.Helper(); r.run.Stop(t) }

// Metric is the value of one series of the output's registry.
func (r *Running) Metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	return testkit.MetricValue(t, r.Reg, name, labels...)
}

// Readings returns n points of measurement m: field value = sequence
// (from..from+n-1), field half = sequence/2, on 4 devices, one millisecond
// apart from base.
func Readings(m string, from, n int, base time.Time) []telemetry.Point {
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

// AppendAll appends points in calls of per points.
func AppendAll(t *testing.T, o *httpout.Output, pts []telemetry.Point, per int) {
	t.Helper()
	for i := 0; i < len(pts); i += per {
		if err := o.Append(context.Background(), pts[i:min(i+per, len(pts))]); err != nil {
			t.Fatal(err)
		}
	}
}
