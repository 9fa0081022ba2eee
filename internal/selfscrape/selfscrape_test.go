package selfscrape

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/borda-edge/borda/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	t0     = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	target = map[string]string{"job": "borda", "instance": "edge1"}
)

// line writes a point like a Prometheus sample: name{k="v",...} value.
func line(p telemetry.Point) string {
	tags := make([]string, len(p.Tags))
	for i, t := range p.Tags {
		tags[i] = fmt.Sprintf("%s=%q", t.Key, t.Value)
	}
	return fmt.Sprintf("%s{%s} %g", p.Measurement, strings.Join(tags, ","), p.Fields[0].Value)
}

// TestConvert: every metric type is written as Prometheus' text format
// names it, with the target labels; a clashing label is kept as
// exported_<name>; families not kept are left out.
func TestConvert(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_c_total"}, []string{"reason"})
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "borda_g"})
	clash := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "borda_clash"}, []string{"job"})
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "borda_h_seconds", Buckets: []float64{0.005, 1, 2.5}})
	s := prometheus.NewSummary(prometheus.SummaryOpts{Name: "go_gc_duration_seconds", Objectives: map[float64]float64{0.5: 0.05}})
	other := prometheus.NewGauge(prometheus.GaugeOpts{Name: "thirdparty_gauge"})
	reg.MustRegister(c, g, clash, h, s, other)
	c.WithLabelValues("x").Add(3)
	g.Set(-1.5)
	clash.WithLabelValues("inner").Set(1)
	h.Observe(0.5)
	h.Observe(2)
	s.Observe(0.25)
	other.Set(7)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	pts := convert(fams, DefaultKeep, target, t0)
	var got []string
	for _, p := range pts {
		if !p.Time.Equal(t0) || len(p.Fields) != 1 || p.Fields[0].Key != "value" {
			t.Errorf("point %+v", p)
		}
		got = append(got, line(p))
	}
	sort.Strings(got)
	tl := `instance="edge1",job="borda"`
	want := []string{
		`borda_c_total{` + tl + `,reason="x"} 3`,
		`borda_clash{exported_job="inner",` + tl + `} 1`,
		`borda_g{` + tl + `} -1.5`,
		`borda_h_seconds_bucket{` + tl + `,le="+Inf"} 2`,
		`borda_h_seconds_bucket{` + tl + `,le="0.005"} 0`,
		`borda_h_seconds_bucket{` + tl + `,le="1"} 1`,
		`borda_h_seconds_bucket{` + tl + `,le="2.5"} 2`,
		`borda_h_seconds_count{` + tl + `} 2`,
		`borda_h_seconds_sum{` + tl + `} 2.5`,
		`go_gc_duration_seconds_count{` + tl + `} 1`,
		`go_gc_duration_seconds_sum{` + tl + `} 0.25`,
		`go_gc_duration_seconds{` + tl + `,quantile="0.5"} 0.25`,
	}
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("points:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDefaultKeep(t *testing.T) {
	for name, want := range map[string]bool{
		"borda_store_devices": true, "process_cpu_seconds_total": true, "go_goroutines": true,
		"go_memstats_heap_inuse_bytes": true, "go_memstats_lookups_total": false,
		"promhttp_metric_handler_requests_total": false, "up": false,
	} {
		if DefaultKeep(name) != want {
			t.Errorf("DefaultKeep(%q) = %v", name, !want)
		}
	}
}

// fakeSink records batches; it keeps all but the rejected samples and
// fails while err is set.
type fakeSink struct {
	mu      sync.Mutex
	batches [][]telemetry.Point
	err     error
	reject  int
	got     chan struct{}
}

func (f *fakeSink) Append(_ context.Context, pts []telemetry.Point) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, pts)
	select {
	case f.got <- struct{}{}:
	default:
	}
	if f.err != nil {
		return 0, f.err
	}
	return len(pts) - f.reject, nil
}

func newScraper(t *testing.T, sink Sink, reg *prometheus.Registry) *Scraper {
	t.Helper()
	own := prometheus.NewRegistry()
	s, err := New(Deps{Registry: own, Gatherer: prometheus.Gatherers{reg, own}, Sink: sink,
		Interval: 10 * time.Millisecond, Labels: target})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRun: a scrape at start and one every interval, each with up,
// scrape_samples_scraped and scrape_duration_seconds; Run returns when
// cancelled and leaves nothing running. The scraper's own metrics count
// scrapes and samples, failed ones too, and it goes on after a failure.
func TestRun(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "borda_g"})
	reg.MustRegister(g)
	sink := &fakeSink{got: make(chan struct{}, 1), reject: 1}
	s := newScraper(t, sink, reg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()
	waitBatches := func(n int) {
		t.Helper()
		testkit.Eventually(t, 5*time.Second, fmt.Sprintf("%d scrapes", n), func() bool {
			sink.mu.Lock()
			defer sink.mu.Unlock()
			return len(sink.batches) >= n
		})
	}
	waitBatches(3)
	sink.mu.Lock()
	sink.err = errors.New("disk full")
	n := len(sink.batches)
	sink.mu.Unlock()
	waitBatches(n + 2) // failing: still scraping on time
	sink.mu.Lock()
	sink.err = nil
	n = len(sink.batches)
	sink.mu.Unlock()
	waitBatches(n + 1)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkScrapes(t, s, sink)
}

// checkScrapes checks the first batch and the scraper's counts.
func checkScrapes(t *testing.T, s *Scraper, sink *fakeSink) {
	t.Helper()
	sink.mu.Lock()
	defer sink.mu.Unlock()
	first := map[string]string{}
	for _, p := range sink.batches[0] {
		first[p.Measurement] = line(p)
	}
	for _, name := range []string{"borda_g", "up", "scrape_samples_scraped", "scrape_duration_seconds",
		"borda_selfscrape_scrapes_total"} {
		if _, ok := first[name]; !ok {
			t.Errorf("first scrape lacks %s: %v", name, first)
		}
	}
	if first["up"] != `up{instance="edge1",job="borda"} 1` {
		t.Errorf("up: %s", first["up"])
	}
	own := s.m
	okN, failN := counter(t, own.ok), counter(t, own.failed)
	if failN < 2 || okN < 4 || okN+failN != float64(len(sink.batches)) {
		t.Errorf("scrapes ok %v, failed %v, batches %d", okN, failN, len(sink.batches))
	}
	var total float64
	for _, b := range sink.batches {
		total += float64(len(b))
	}
	if a, na := counter(t, own.appended), counter(t, own.notAppended); a+na != total || na < okN {
		t.Errorf("appended %v + not appended %v, want %v samples", a, na, total)
	}
}

func counter(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	r := prometheus.NewRegistry()
	r.MustRegister(c)
	fams, err := r.Gather()
	if err != nil || len(fams) != 1 {
		t.Fatalf("gather: %v", err)
	}
	var v float64
	for _, m := range fams[0].GetMetric() {
		v += m.GetCounter().GetValue()
	}
	return v
}

func TestNewValidates(t *testing.T) {
	reg := prometheus.NewRegistry()
	for _, d := range []Deps{
		{Sink: &fakeSink{}, Interval: time.Second},
		{Gatherer: reg, Interval: time.Second},
		{Gatherer: reg, Sink: &fakeSink{}},
	} {
		if _, err := New(d); err == nil {
			t.Errorf("New(%+v) accepted", d)
		}
	}
}
