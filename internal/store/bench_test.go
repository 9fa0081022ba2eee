package store

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
)

func benchPoints(n int, ts time.Time, v float64) []telemetry.Point {
	pts := make([]telemetry.Point, n)
	for i := range pts {
		pts[i] = point("sensors_temperature", ts,
			map[string]string{"device_id": "d" + strconv.Itoa(i), "location": "lab"}, "value", v)
	}
	return pts
}

// BenchmarkAppend appends batches of 1000 points, one per series, across
// 1000 series, each batch one second after the previous one.
func BenchmarkAppend(b *testing.B) {
	s, _, _ := startStore(b, DefaultConfig(), b.TempDir())
	base := time.Now().Add(-time.Duration(b.N+1) * time.Second)
	mustAppend(b, s, benchPoints(1000, base, 0)...) // create the series
	batches := make([][]telemetry.Point, 0, 16)
	for i := range 16 {
		batches = append(batches, benchPoints(1000, base, float64(i)))
	}
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		pts := batches[i%len(batches)]
		ts := base.Add(time.Duration(i+1) * time.Second)
		for j := range pts {
			pts[j].Time = ts
		}
		if res := mustAppend(b, s, pts...); res.Appended != 1000 {
			b.Fatalf("result %+v", res)
		}
	}
	b.ReportMetric(float64(b.N*1000)/time.Since(start).Seconds(), "samples/s")
}

// BenchmarkQueryRange runs a range query through the HTTP handler over 1000
// series holding 1h of 10s samples (360,000 samples), step 60s.
func BenchmarkQueryRange(b *testing.B) {
	s, _, _ := startStore(b, DefaultConfig(), b.TempDir())
	end := time.Now().Truncate(time.Second)
	start := end.Add(-time.Hour)
	for ts := start; !ts.After(end); ts = ts.Add(10 * time.Second) {
		mustAppend(b, s, benchPoints(1000, ts, float64(ts.Unix()%100))...)
	}
	h := s.Handler()
	for _, q := range []string{"sensors_temperature", "avg(rate(sensors_temperature[5m]))"} {
		b.Run(q, func(b *testing.B) {
			form := url.Values{"query": {q}, "start": {fmt.Sprint(start.Unix())},
				"end": {fmt.Sprint(end.Unix())}, "step": {"60s"}}
			target := "/api/v1/query_range?" + form.Encode()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
