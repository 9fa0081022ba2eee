package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/testkit"
)

// TestSelfScrape: with store.self_scrape_interval set, borda's own metrics
// are in its store under job="borda" and the node's name, queryable like
// any series, and none of them is a device; at 0 nothing is stored.
func TestSelfScrape(t *testing.T) {
	for _, tt := range []struct {
		name     string
		interval time.Duration
	}{
		{"on", 200 * time.Millisecond},
		{"off", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Node.Name = "edge-7"
			cfg.Store.SelfScrapeInterval = tt.interval
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			g := startGateway(t, cfg)
			query := func(q string) string {
				return httpGet(t, g.httpURL()+"/api/v1/query?query="+url.QueryEscape(q), 200)
			}
			if tt.interval == 0 {
				time.Sleep(500 * time.Millisecond) // what would have been two scrapes
				if body := query(`count({job="borda"})`); strings.Contains(body, `"value"`) {
					t.Errorf("off, yet stored: %s", body)
				}
				if v := g.metric(t, `borda_selfscrape_scrapes_total{result="ok"}`); v != -1 {
					t.Errorf("off, yet scraping: %v", v)
				}
				return
			}
			testkit.Eventually(t, 10*time.Second, "two scrapes stored", func() bool {
				return strings.Contains(query(`borda_selfscrape_scrapes_total{job="borda",instance="edge-7",result="ok"} >= 2`), `"value"`)
			})
			for _, q := range []struct {
				expr  string
				value bool // a result is expected (rates need two scrapes in their window)
			}{
				{`up{job="borda",instance="edge-7"}`, true},
				{`borda_mqtt_max_connections`, true},
				{`go_goroutines`, true},
				{`rate(process_cpu_seconds_total[1m])`, false},
				{`histogram_quantile(0.9, sum by (le) (rate(borda_store_append_duration_seconds_bucket[1m])))`, false},
			} {
				body := query(q.expr)
				if !strings.Contains(body, `"status":"success"`) || (q.value && !strings.Contains(body, `"value"`)) {
					t.Errorf("%s: %s", q.expr, body)
				}
			}
			t.Logf("series stored per scrape: %s", query(`count({job="borda"})`))
			if body := httpGet(t, g.httpURL()+"/api/v1/devices", 200); strings.Contains(body, `"device_id"`) {
				t.Errorf("borda's own metrics listed as devices: %.300s", body)
			}
		})
	}
}
