package store

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// devicePoints are n sensors, each with a temperature reading (fields value
// and quality: two series per device), like the ingest's default mapping.
func devicePoints(n int, ts time.Time, v float64) []telemetry.Point {
	pts := make([]telemetry.Point, n)
	for i := range pts {
		pts[i] = point("sensors_temperature", ts, map[string]string{"device_id": "d" + strconv.Itoa(i),
			"device_type": "sensors", "location": "lab"}, "value", v, "quality", 1)
	}
	return pts
}

// seedDevices appends 1h of 10s readings of 1000 devices (2000 series,
// 720,000 samples) and returns the time of the last one.
func seedDevices(b *testing.B, s *Store) time.Time {
	end := time.Now().Truncate(time.Second)
	for ts := end.Add(-time.Hour); !ts.After(end); ts = ts.Add(10 * time.Second) {
		mustAppend(b, s, devicePoints(1000, ts, float64(ts.Unix()%100))...)
	}
	return end
}

// BenchmarkDevicesQuery serves /api/v1/devices over 1000 devices with two
// metrics each: the whole list, and one device.
func BenchmarkDevicesQuery(b *testing.B) {
	s, _, _ := startStore(b, DefaultConfig(), b.TempDir())
	seedDevices(b, s)
	h := s.Handler()
	for _, bm := range []struct{ name, target string }{
		{"all", "/api/v1/devices"},
		{"one", "/api/v1/devices?device_id=d500"},
		{"match", "/api/v1/devices?match[]=sensors_temperature&limit=100"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, bm.target, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// BenchmarkDevicesRebuild rebuilds the index, compared with reading every
// sample: 1000 devices (2000 series) with 1h of 10s readings in the head,
// and 200 devices (400 series) with 6h of 1s readings, the older half
// compacted into blocks.
func BenchmarkDevicesRebuild(b *testing.B) {
	for _, bm := range []struct {
		name    string
		devices int
		span    time.Duration
		step    time.Duration
		compact bool
	}{
		{"1000dev_1h_10s", 1000, time.Hour, 10 * time.Second, false},
		{"200dev_6h_1s_blocks", 200, 6 * time.Hour, time.Second, true},
	} {
		s, _, _ := startStore(b, DefaultConfig(), b.TempDir())
		end := time.Now().Truncate(time.Second)
		for ts := end.Add(-bm.span); !ts.After(end); ts = ts.Add(bm.step) {
			mustAppend(b, s, devicePoints(bm.devices, ts, float64(ts.Unix()%100))...)
		}
		db, err := s.acquire()
		if err != nil {
			b.Fatal(err)
		}
		if bm.compact {
			if err := db.Compact(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		ctx := context.Background()
		series := 2 * bm.devices
		b.Run(bm.name+"/rebuild", func(b *testing.B) {
			var st rebuildStats
			for b.Loop() {
				if _, st, err = rebuildDevices(ctx, db); err != nil || st.Series != series {
					b.Fatalf("%+v %v", st, err)
				}
			}
			b.ReportMetric(float64(st.ChunksRead), "chunks")
			b.ReportMetric(float64(st.Blocks), "blocks")
		})
		b.Run(bm.name+"/full_scan", func(b *testing.B) {
			samples := 0
			for b.Loop() {
				samples = 0
				q, err := db.Querier(math.MinInt64, math.MaxInt64)
				if err != nil {
					b.Fatal(err)
				}
				set := q.Select(ctx, false, nil, deviceMatcher)
				var it chunkenc.Iterator
				for set.Next() {
					it = set.At().Iterator(it)
					for it.Next() != chunkenc.ValNone {
						samples++
					}
				}
				q.Close()
			}
			b.ReportMetric(float64(samples), "samples")
		})
		s.release()
	}
}

// BenchmarkDeviceIndexApply is the index's share of one BenchmarkAppend
// batch: 1000 committed samples of 1000 known series.
func BenchmarkDeviceIndexApply(b *testing.B) {
	ix := newDeviceIndex(2000)
	ts := make([]touch, 1000)
	for i := range ts {
		l := labels.FromStrings("__name__", "sensors_temperature", "device_id", "d"+strconv.Itoa(i), "location", "lab")
		ts[i] = touch{st: &seriesState{lset: l, hash: l.Hash()}}
	}
	for i := int64(0); b.Loop(); i++ {
		for j := range ts {
			ts[j].t, ts[j].v = i, float64(i)
		}
		ix.apply(ts)
	}
}
