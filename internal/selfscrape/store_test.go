package selfscrape

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/store"
	"github.com/borda-edge/borda/internal/telemetry"
)

// storeSink appends to a real store.
type storeSink struct{ s *store.Store }

func (s storeSink) Append(ctx context.Context, pts []telemetry.Point) (int, error) {
	res, err := s.s.Append(ctx, pts)
	return res.Appended, err
}

// TestIntoStore: scraped into borda's real store, the metrics answer
// PromQL through the query API like Prometheus' own scrape would —
// counters with rate(), histograms with histogram_quantile(), the target
// labels — and none of them shows up as a device.
func TestIntoStore(t *testing.T) {
	st := store.New(store.DefaultConfig(), store.Deps{Registry: prometheus.NewRegistry(), Dir: t.TempDir()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("store: %v", err)
		}
	})
	<-st.Ready()

	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_things_total"})
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "borda_latency_seconds", Buckets: []float64{0.1, 1, 10}})
	reg.MustRegister(c, h)
	now := time.Now().Add(-time.Minute)
	s, err := New(Deps{Gatherer: reg, Sink: storeSink{st}, Interval: time.Second, Labels: target,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 { // four scrapes 15 s apart, 10 things each
		c.Add(10)
		h.Observe(0.5)
		if err := s.Scrape(context.Background()); err != nil {
			t.Fatalf("scrape %d: %v", i, err)
		}
		now = now.Add(15 * time.Second)
	}
	at := now.Add(-15 * time.Second)
	for _, tt := range []struct {
		query string
		want  string
	}{
		{`borda_things_total{job="borda",instance="edge1"}`, "40"},
		{`rate(borda_things_total[1m])`, "0.6666666666666666"},
		{`histogram_quantile(0.5, borda_latency_seconds_bucket)`, "0.55"},
		{`up{job="borda"}`, "1"},
		{`scrape_samples_scraped`, "7"}, // 1 counter + 6 histogram series
	} {
		if got := instant(t, st, tt.query, at); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.query, got, tt.want)
		}
	}
	devs, err := st.Devices()
	if err != nil || len(devs) != 0 {
		t.Errorf("devices from borda's own metrics: %v %v", devs, err)
	}
}

// instant runs a query through the store's HTTP API and returns the value
// of its one series ("" when there is none).
func instant(t *testing.T, st *store.Store, q string, at time.Time) string {
	t.Helper()
	u := "/api/v1/query?" + url.Values{"query": {q}, "time": {at.Format(time.RFC3339Nano)}}.Encode()
	rec := httptest.NewRecorder()
	st.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u, nil))
	var body struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Status != "success" {
		t.Fatalf("%s: %v %s", q, err, rec.Body)
	}
	if len(body.Data.Result) != 1 {
		return ""
	}
	v, _ := body.Data.Result[0].Value[1].(string)
	return v
}
