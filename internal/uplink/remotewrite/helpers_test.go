package remotewrite

import (
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	"go.uber.org/goleak"

	"github.com/borda-edge/borda/internal/testkit"
	"github.com/borda-edge/borda/internal/uplink/httpout/httpouttest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const waitLong = 30 * time.Second

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
type running = httpouttest.Running

func start(t *testing.T, cfg Config, dir string) *running {
	t.Helper()
	return httpouttest.Start(t, func(d Deps) (*Output, error) { return New(cfg, d) }, dir, waitLong)
}

var (
	readings  = httpouttest.Readings
	appendAll = httpouttest.AppendAll
)

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
