package httpguard

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/borda-edge/borda/internal/ban"
	"github.com/borda-edge/borda/internal/testkit"
)

// TestStaticRoutes: the dashboard's page and assets (Deps.Static) are
// served without credentials and without counting against the request
// rate, while everything else from the same IP is limited and needs
// credentials; a banned IP gets nothing. Both kinds are counted.
func TestStaticRoutes(t *testing.T) {
	cfg := testConfig()
	cfg.RateLimit.Requests, cfg.RateLimit.Burst = 3, 3
	cfg.Auth.PublicRead = PublicReadOff
	e := newEnv(t, cfg, "GET /{$}", "GET /index.html{$}", "GET /ui")
	const ip = "192.0.2.60:1"
	for i := range 20 {
		for _, p := range []string{"/", "/index.html", "/ui/v0123456789ab/js/core.js", "/ui/app.css"} {
			if w := e.call("GET", p, ip, "", nil); w.Code != http.StatusOK {
				t.Fatalf("static GET %s #%d: %d", p, i, w.Code)
			}
		}
	}
	for _, tt := range []struct {
		method, path string
		want         int
	}{
		{"HEAD", "/", http.StatusOK},
		{"GET", "/api/v1/query", http.StatusUnauthorized}, // not static: needs credentials
		{"POST", "/", http.StatusUnauthorized},            // static is GET only
		{"GET", "/index.html/x", http.StatusUnauthorized}, // below an exact page
		{"GET", "/other", http.StatusTooManyRequests},     // the 3 requests above used the burst
		{"GET", "/ui/app.css", http.StatusOK},             // still served
	} {
		if w := e.call(tt.method, tt.path, ip, "", nil); w.Code != tt.want {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, w.Code, tt.want)
		}
	}
	if got := testkit.MetricValue(t, e.reg, "borda_http_requests_total", "kind", "static"); got != 82 {
		t.Errorf("static requests = %v, want 82", got)
	}
	if got := testkit.MetricValue(t, e.reg, "borda_http_requests_total", "kind", "dynamic"); got != 4 {
		t.Errorf("dynamic requests = %v, want 4", got)
	}
	if got := testkit.MetricValue(t, e.reg, "borda_http_requests_limited_total"); got != 1 {
		t.Errorf("limited = %v, want 1", got)
	}

	for range 5 {
		e.b.Failure(netip.MustParseAddr("192.0.2.60"), ban.SourceHTTP, authBadToken)
	}
	if w := e.call("GET", "/ui/app.css", ip, "", nil); w.Code != http.StatusForbidden {
		t.Errorf("banned IP, static asset: %d, want 403", w.Code)
	}
	if _, err := New(cfg, Deps{Static: []string{"ui"}}); err == nil {
		t.Error("a bad static rule was accepted")
	}
}
