package influx

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/borda-edge/borda/internal/testkit"
)

// victoriaValues returns the distinct (timestamp, value) samples of
// metric per timestamp, and the labels of its series.
func victoriaValues(t *testing.T, s *testkit.Victoria, metric string) (map[int64]float64, []map[string]string) {
	t.Helper()
	series, err := s.Export(metric)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]float64{}
	var labels []map[string]string
	for _, es := range series {
		labels = append(labels, es.Metric)
		for i, ts := range es.Timestamps {
			got[ts] = es.Values[i]
		}
	}
	return got, labels
}

// TestV2Victoria: version 2 (inferred from org/bucket/token) posts to
// /api/v2/write with org, bucket, precision and the token; VictoriaMetrics
// stores every point; 2.x escaping round-trips a backslash.
func TestV2Victoria(t *testing.T) {
	s := testkit.StartVictoria(t)
	rec := testkit.NewRecorder(t, s.URL)
	cfg := testConfig(rec.URL)
	cfg.Database, cfg.Org, cfg.Bucket, cfg.Token, cfg.Precision = "", "acme", "edge", "s3cret", "ms"
	r := start(t, cfg, t.TempDir())
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	appendAll(t, r.O, readings("sensors_temperature", 0, 1000, base), 100)
	odd := telemetry.Point{Measurement: "odd", Tags: []telemetry.Tag{{Key: "path", Value: `C:\dir\`}, {Key: "x", Value: "a b,c=d"}},
		Fields: []telemetry.Field{{Key: "value", Value: 1}}, Time: base}
	if err := r.O.Append(context.Background(), []telemetry.Point{odd}); err != nil {
		t.Fatal(err)
	}
	var got map[int64]float64
	testkit.Eventually(t, waitLong, "1000 samples", func() bool {
		got, _ = victoriaValues(t, s, "sensors_temperature_value")
		return len(got) >= 1000
	})
	for i := range 1000 {
		if v, ok := got[base.Add(time.Duration(i)*time.Millisecond).UnixMilli()]; !ok || v != float64(i) {
			t.Fatalf("sample %d: %v %v", i, v, ok)
		}
	}
	var labels []map[string]string
	testkit.Eventually(t, waitLong, "odd_value", func() bool {
		_, labels = victoriaValues(t, s, "odd_value")
		return len(labels) > 0
	})
	if len(labels) != 1 || labels[0]["path"] != `C:\dir\` || labels[0]["x"] != "a b,c=d" {
		t.Errorf("odd labels %v", labels)
	}
	req := rec.Requests()[0]
	u, _ := url.Parse(req.URI)
	if u.Path != "/api/v2/write" || u.Query().Encode() != "bucket=edge&org=acme&precision=ms" ||
		req.Header.Get("Authorization") != "Token s3cret" || req.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("request %s %v", req.URI, req.Header)
	}
}

// TestBandwidthCap: with max_bytes_per_second 20000 (and its burst of one
// second's worth), sending about 70 kB takes at least ~2.5 s; asserted with
// a wide margin (70 % of that).
func TestBandwidthCap(t *testing.T) {
	s := testkit.StartVictoria(t)
	rec := testkit.NewRecorder(t, s.URL)
	cfg := testConfig(rec.URL)
	cfg.Gzip, cfg.BatchSize, cfg.MaxBytesPerSecond = false, 100, 20000
	r := start(t, cfg, t.TempDir())
	t0 := time.Now()
	appendAll(t, r.O, readings("bw", 0, 1000, time.Now().Add(-time.Hour)), 100)
	testkit.Eventually(t, waitLong, "10 entries sent", func() bool { return r.Metric(t, "borda_uplink_sent_total") == 10 })
	reqs := rec.Requests()
	total := 0
	for _, q := range reqs {
		total += len(q.Body)
	}
	elapsed := reqs[len(reqs)-1].Time.Sub(t0)
	rate := float64(total) / elapsed.Seconds()
	t.Logf("%d bytes in %d requests in %v: %.0f bytes/s", total, len(reqs), elapsed, rate)
	if total < 60000 {
		t.Fatalf("only %d bytes sent", total)
	}
	if minimum := time.Duration(float64(total-20000) / 20000 * 0.7 * float64(time.Second)); elapsed < minimum {
		t.Errorf("sent %d bytes in %v, want at least %v at 20000 bytes/s", total, elapsed, minimum)
	}
	if got := r.Metric(t, "borda_uplink_sent_bytes_total"); int(got) != total {
		t.Errorf("sent_bytes_total %v, proxy saw %d", got, total)
	}
}
