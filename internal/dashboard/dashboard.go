// Package dashboard is borda's built-in web dashboard: static pages
// embedded in the binary (no build step, no CDN) and the small JSON and
// Server-Sent Events APIs they read, under /api/v1/dashboard/.
package dashboard

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/promreg"
)

//go:embed assets
var assets embed.FS

// Info describes the running node.
type Info struct {
	Node    string
	Site    string            // optional (fleet)
	Labels  map[string]string // the node's labels (fleet), optional
	Version string
	Started time.Time
}

// Deps are what the dashboard reads. Gatherer and Devices are required;
// Cameras may be nil (the Cameras page then says vision is off).
type Deps struct {
	Logger   *slog.Logger          // component=dashboard
	Registry prometheus.Registerer // the dashboard's own metrics; nil: none
	Gatherer prometheus.Gatherer   // the node's metrics (overview figures)
	Devices  DeviceSource
	// Detections: the latest detections per camera (nil: counts only).
	Detections DetectionSource
	// Vision: why vision is not running (nil: the page says only that).
	Vision  VisionSource
	Info    Info
	DataDir string           // disk usage when netmon is off
	Now     func() time.Time // time.Now if nil
	// Interval is the live stream's update period (default 500 ms): at
	// most 1/Interval updates per second per page.
	Interval time.Duration
}

// Dashboard serves the pages and their APIs.
type Dashboard struct {
	deps    Deps
	log     *slog.Logger
	assets  *assetSet
	overvw  *collector
	clients prometheus.Gauge
	streams atomic.Int64  // live streams open
	ready   chan struct{} // closed by Run
	closing chan struct{} // closed when Run ends: live streams return
}

// New builds the dashboard.
func New(deps Deps) (*Dashboard, error) {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Interval <= 0 {
		deps.Interval = 500 * time.Millisecond
	}
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, fmt.Errorf("dashboard assets: %w", err)
	}
	set, err := loadAssets(sub)
	if err != nil {
		return nil, err
	}
	d := &Dashboard{deps: deps, log: deps.Logger, assets: set,
		overvw: &collector{gatherer: deps.Gatherer, vision: deps.Vision, info: deps.Info, dataDir: deps.DataDir,
			now: deps.Now, interval: deps.Interval},
		clients: prometheus.NewGauge(prometheus.GaugeOpts{Name: "borda_dashboard_stream_clients",
			Help: "Dashboard pages connected to the live stream."}),
		ready: make(chan struct{}), closing: make(chan struct{}),
	}
	if deps.Registry != nil {
		if _, err := promreg.Register(deps.Registry, d.clients); err != nil {
			return nil, fmt.Errorf("dashboard metrics: %w", err)
		}
	}
	return d, nil
}

// Run serves live streams until ctx is cancelled, then ends them, so that
// the HTTP server's graceful shutdown is not held up by open pages (which
// reconnect to the next server). Without Run, streams end with their
// connection.
func (d *Dashboard) Run(ctx context.Context) error {
	close(d.ready)
	<-ctx.Done()
	close(d.closing)
	return nil
}

// Ready is closed once Run has started.
func (d *Dashboard) Ready() <-chan struct{} { return d.ready }

// Register adds the dashboard's routes: the pages at / (assets under
// /ui/) and the APIs under /api/v1/dashboard/.
func (d *Dashboard) Register(mux interface{ Handle(string, http.Handler) }) {
	mux.Handle("/", http.HandlerFunc(d.serveIndex))
	mux.Handle("GET "+assetPrefix, http.HandlerFunc(d.assets.serveAsset))
	mux.Handle("GET /api/v1/dashboard/overview", http.HandlerFunc(d.serveOverview))
	mux.Handle("GET /api/v1/dashboard/devices", http.HandlerFunc(d.serveDevices))
	mux.Handle("GET /api/v1/dashboard/cameras", http.HandlerFunc(d.serveCameras))
	mux.Handle("GET /api/v1/dashboard/stream", http.HandlerFunc(d.serveStream))
}

// serveIndex answers the single page at / (pages are #fragments) and 404
// for any other path no other route took.
func (d *Dashboard) serveIndex(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" && r.URL.Path != "/index.html" {
		writeError(w, http.StatusNotFound, "not_found", "no such page: "+r.URL.Path)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "the dashboard is read with GET")
		return
	}
	d.assets.serve(w, r, d.assets.index, revalidate)
}

func (d *Dashboard) serveOverview(w http.ResponseWriter, _ *http.Request) {
	writeData(w, d.overvw.get())
}

// response is the Prometheus API envelope the other JSON APIs use.
type response struct {
	Status    string `json:"status"`
	Data      any    `json:"data,omitempty"`
	ErrorType string `json:"errorType,omitempty"`
	Error     string `json:"error,omitempty"`
}

func writeData(w http.ResponseWriter, data any) {
	writeJSON(w, http.StatusOK, response{Status: "success", Data: data})
}

func writeError(w http.ResponseWriter, code int, typ, msg string) {
	writeJSON(w, code, response{Status: "error", ErrorType: typ, Error: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
