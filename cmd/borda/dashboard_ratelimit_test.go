package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	mqtt3 "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/borda-edge/borda/internal/testkit"
)

// dashboardBudget is the most API requests a minute one open dashboard
// page may make however fast data arrives: half the default
// http.guard.rate_limit (100 a minute), so two tabs from one address fit.
const dashboardBudget = 50

// TestDashboardBrowserRateLimit: an operator on another machine (the
// allow list is empty, so 127.0.0.1 counts as remote) goes through every
// page with the default rate limit while readings and alert events keep
// arriving: no request is refused (borda_http_requests_limited_total stays
// 0), and each page's API requests stay within dashboardBudget a minute.
// The page and its assets are static (not rate limited); a reload fetches
// no asset again.
func TestDashboardBrowserRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser and runs for about 2 minutes")
	}
	cfg := testConfig(t)
	cfg.HTTP.Guard.RateLimit.AllowList = nil
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, cfg)
	pub := v3Client(t, "tcp://"+g.mqttAddr(), "rate-test", true, nil)
	publishReading(t, pub, "rl1", 21)
	keepPublishing(t, pub, "rl1", 250*time.Millisecond)
	metrics := newMetricsReader(t, g.httpURL(), "127.0.0.2") // its own address: not the browser's bucket

	b := newBrowser(t)
	base := g.httpURL()
	for _, p := range []budgetPage{
		{page: "overview", dwell: 10 * time.Second},
		{page: "devices", dwell: 20 * time.Second},
		{page: "device/rl1", note: "15m", dwell: 20 * time.Second},
		{page: "device/rl1", note: "6h", setup: `document.querySelector('button[data-range="6h"]').click()`, dwell: 15 * time.Second},
		{page: "alerts", dwell: 20 * time.Second},
		{page: "cameras", dwell: 10 * time.Second},
	} {
		p.measure(t, b, base, metrics)
	}
	if n := metrics.value(t, "borda_http_requests_limited_total"); n != 0 {
		t.Errorf("borda_http_requests_limited_total = %v, want 0", n)
	}
	b.screenshot(t, "after-all-pages")
	// A reload fetches the page (static) and no asset: they are cached
	// under their build's version.
	_, static := metrics.requests(t)
	b.open(t, base, "overview")
	if _, after := metrics.requests(t); after-static != 1 {
		t.Errorf("a reload made %v static requests, want 1 (the page)", after-static)
	}
}

// budgetPage is one page of the request budget test.
type budgetPage struct {
	page, note, setup string
	dwell             time.Duration
}

// measure opens the page, lets its first load settle, then counts its API
// requests while it stays open, and checks them against the budget.
func (p budgetPage) measure(t *testing.T, b *browser, base string, metrics *metricsReader) {
	t.Helper()
	const settle = 3 * time.Second
	first, static := metrics.requests(t)
	b.open(t, base, p.page)
	if p.setup != "" {
		b.eval(t, "setup "+p.page, p.setup)
	}
	time.Sleep(settle) // the page's first load and its first refresh
	before, _ := metrics.requests(t)
	start := time.Now()
	time.Sleep(p.dwell) // the page keeps following the live stream
	b.waitJS(t, "no error on "+p.page, `document.getElementById('error').hidden`, 5*time.Second)
	after, staticAfter := metrics.requests(t)
	elapsed := time.Since(start)
	load, used := before-first-1, after-before-1 // each reading counts itself
	t.Logf("%-10s %-4s load %2.0f API + %2.0f static requests; then %3.0f in %s (%.0f a minute)", p.page, p.note,
		load, staticAfter-static, used, elapsed.Round(time.Second), used/elapsed.Minutes())
	if limit := 2 + dashboardBudget*elapsed.Minutes(); used > limit {
		t.Errorf("%s: %.0f API requests in %s, more than %.0f (budget %d a minute)", p.page, used, elapsed.Round(time.Second), limit, dashboardBudget)
	}
}

// keepPublishing publishes a temperature (above the seed's alert threshold
// every fourth time, so alerts fire and resolve) and a pressure reading
// every interval until the test ends.
func keepPublishing(t *testing.T, c mqtt3.Client, device string, every time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			temp := 20 + float64(i%10)/10
			if i%16 < 4 {
				temp = 85
			}
			c.Publish("sensors/"+device+"/temperature", 0, false, fmt.Sprintf(`{"value":%g}`, temp))
			c.Publish("sensors/"+device+"/pressure", 0, false, fmt.Sprintf(`{"value":%d}`, 50+i%7))
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// metricsReader reads a gateway's /metrics from its own source address.
type metricsReader struct {
	url  string
	c    *http.Client
	auth string // Authorization header, when reads need credentials
}

func newMetricsReader(t *testing.T, base, ip string) *metricsReader {
	t.Helper()
	c := clientFrom(ip)
	t.Cleanup(c.CloseIdleConnections)
	return &metricsReader{url: base + "/metrics", c: c}
}

// gatherer scrapes once per Gather.
func (m *metricsReader) gatherer() prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		req, err := http.NewRequest(http.MethodGet, m.url, nil)
		if err != nil {
			return nil, fmt.Errorf("scrape: %w", err)
		}
		if m.auth != "" {
			req.Header.Set("Authorization", m.auth)
		}
		resp, err := m.c.Do(req)
		if err != nil {
			return nil, fmt.Errorf("scrape: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("scrape: %s", resp.Status)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("parse metrics: %w", err)
		}
		out := make([]*dto.MetricFamily, 0, len(fams))
		for _, f := range fams {
			out = append(out, f)
		}
		return out, nil
	})
}

// value is one metric summed over the series matching labels (name, value
// pairs), from one scrape.
func (m *metricsReader) value(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	return testkit.MetricValue(t, m.gatherer(), name, labels...)
}

// requests returns borda_http_requests_total's dynamic and static counts
// from one scrape (which is itself one dynamic request).
func (m *metricsReader) requests(t *testing.T) (dynamic, static float64) {
	t.Helper()
	snap, err := m.gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	g := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return snap, nil })
	return testkit.MetricValue(t, g, "borda_http_requests_total", "kind", "dynamic"),
		testkit.MetricValue(t, g, "borda_http_requests_total", "kind", "static")
}
