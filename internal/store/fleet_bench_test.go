package store

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/ingest"
	"github.com/borda-edge/borda/internal/simulate"
	"github.com/borda-edge/borda/internal/telemetry"
)

// BenchmarkFleetDisk measures bytes per sample on disk after compaction on
// simulator data: a 1000-device factory fleet (borda simulate's
// generators, through the default topic mapping, so each reading is a
// value and a quality sample) at 1 Hz per series for 3 h 10 min of simulated
// time; the first 2 h are compacted into a block. Run it once:
//
//	go test -run '^$' -bench BenchmarkFleetDisk -benchtime 1x ./internal/store
func BenchmarkFleetDisk(b *testing.B) {
	for b.Loop() {
		s, _, _ := startStore(b, DefaultConfig(), b.TempDir())
		end := time.Now().Truncate(time.Second)
		ingestFleet(b, s, end.Add(-3*time.Hour-10*time.Minute), end) // > 1.5 block ranges: compactable
		db, err := s.acquire()
		if err != nil {
			b.Fatal(err)
		}
		if err := db.Compact(context.Background()); err != nil {
			b.Fatal(err)
		}
		var samples, size, chunks uint64
		for _, blk := range db.Blocks() {
			meta := blk.Meta()
			samples += meta.Stats.NumSamples
			size += uint64(blk.Size())
			chunks += meta.Stats.NumChunks
		}
		s.release()
		if samples == 0 {
			b.Fatal("no block after compaction")
		}
		b.ReportMetric(float64(size)/float64(samples), "bytes/sample")
		b.ReportMetric(float64(samples), "samples")
		b.ReportMetric(float64(samples)/float64(chunks), "samples/chunk")
	}
}

// ingestFleet feeds one reading per series per second from start to end.
func ingestFleet(b *testing.B, s *Store, start, end time.Time) {
	gen, err := simulate.NewGenerator(simulate.Config{Devices: 1000, Profile: simulate.ProfileFactory, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	router, err := ingest.NewRouter(ingest.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	var pts []telemetry.Point
	for ts := start; ts.Before(end); ts = ts.Add(time.Second) {
		pts = pts[:0]
		for range gen.Series() {
			topic, payload := gen.Next(ts.UnixNano())
			if pts, err = router.Route(string(topic), payload, ts, pts); err != nil {
				b.Fatalf("route %s %s: %v", topic, payload, err)
			}
		}
		if res := mustAppend(b, s, pts...); len(res.Rejected) > 0 {
			b.Fatalf("rejected: %v", res.Rejected)
		}
	}
}

// BenchmarkDashboard24h: dashboard queries over 24 h of 1000 devices at
// 1 Hz (86.4 M samples of sensors_temperature, random walks with one
// decimal, 10 locations), compacted into 2 h blocks as it would be after
// a day of running. The setup takes about a minute; run with:
//
//	go test -run '^$' -bench BenchmarkDashboard24h -benchtime 20x ./internal/store
func BenchmarkDashboard24h(b *testing.B) {
	s, _, _ := startStore(b, DefaultConfig(), b.TempDir())
	end := time.Now().Truncate(time.Minute)
	start := end.Add(-24 * time.Hour)
	fillDay(b, s, start, end)
	h := s.Handler()
	queries := []struct{ name, path string }{
		{"fleet_avg_24h_step1m", rangeQuery("avg(sensors_temperature)", start, end, "60s")},
		{"max_by_location_24h_step5m", rangeQuery("max by (location) (max_over_time(sensors_temperature[5m]))", start, end, "300s")},
		{"one_device_24h_step1m", rangeQuery(`sensors_temperature{device_id="d0042"}`, start, end, "60s")},
		{"top10_hourly_avg_instant", "/api/v1/query?" + url.Values{"query": {"topk(10, avg_over_time(sensors_temperature[1h]))"},
			"time": {strconv.FormatInt(end.Unix(), 10)}}.Encode()},
		{"latest_all_devices_instant", "/api/v1/query?" + url.Values{"query": {"sensors_temperature"},
			"time": {strconv.FormatInt(end.Unix(), 10)}}.Encode()},
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, q.path, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

func rangeQuery(q string, start, end time.Time, step string) string {
	return "/api/v1/query_range?" + url.Values{"query": {q}, "start": {strconv.FormatInt(start.Unix(), 10)},
		"end": {strconv.FormatInt(end.Unix(), 10)}, "step": {step}}.Encode()
}

// fillDay appends 1 Hz random walks for 1000 devices and compacts the head
// every simulated hour, as the TSDB would over a day.
func fillDay(b *testing.B, s *Store, start, end time.Time) {
	const devices = 1000
	r := rand.New(rand.NewPCG(1, 2))
	vals := make([]float64, devices)
	pts := make([]telemetry.Point, devices)
	for i := range pts {
		vals[i] = 15 + 10*r.Float64()
		pts[i] = point("sensors_temperature", start, map[string]string{"device_id": fmt.Sprintf("d%04d", i),
			"device_type": "sensors", "location": "hall-" + strconv.Itoa(i%10)}, "value", 0.0)
	}
	for ts := start; ts.Before(end); ts = ts.Add(time.Second) {
		for i := range pts {
			vals[i] += (r.Float64() - 0.5) * 0.2
			pts[i].Time, pts[i].Fields[0].Value = ts, math.Round(vals[i]*10)/10
		}
		mustAppend(b, s, pts...)
		if ts.Unix()%3600 == 0 {
			db, err := s.acquire()
			if err != nil {
				b.Fatal(err)
			}
			err = db.Compact(context.Background())
			s.release()
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}
