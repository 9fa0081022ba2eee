package store

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
)

// startStore runs a store on dir until the test ends (or stop is called).
func startStore(t testing.TB, cfg Config, dir string) (*Store, *prometheus.Registry, func()) {
	t.Helper()
	reg := prometheus.NewRegistry()
	s := New(cfg, Deps{Registry: reg, Dir: dir})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("store not ready after 30s")
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(stop)
	return s, reg, stop
}

// point builds a sensors_temperature-like point.
func point(measurement string, ts time.Time, tags map[string]string, fields ...any) telemetry.Point {
	p := telemetry.Point{Measurement: measurement, Time: ts}
	for k, v := range tags {
		p.SetTag(k, v)
	}
	for i := 0; i+1 < len(fields); i += 2 {
		p.SetField(fields[i].(string), toFloat(fields[i+1]))
	}
	return p
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	panic(fmt.Sprintf("bad field value %T", v))
}

type sample struct {
	T int64
	V float64
}

// samples reads the raw samples of the series selected by matchers
// (name="value" pairs) straight from the TSDB.
func samples(t *testing.T, s *Store, pairs ...string) map[string][]sample {
	t.Helper()
	db, err := s.acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer s.release()
	q, err := db.Querier(math.MinInt64/2, math.MaxInt64/2)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var ms []*labels.Matcher
	for i := 0; i+1 < len(pairs); i += 2 {
		ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, pairs[i], pairs[i+1]))
	}
	out := map[string][]sample{}
	set := q.Select(context.Background(), false, nil, ms...)
	for set.Next() {
		it := set.At().Iterator(nil)
		key := set.At().Labels().String()
		for it.Next() != 0 {
			ts, v := it.At()
			out[key] = append(out[key], sample{ts, v})
		}
	}
	if err := set.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustAppend(t testing.TB, s *Store, pts ...telemetry.Point) AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), pts)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return res
}
