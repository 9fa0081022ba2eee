// Package web is borda's HTTP server: /metrics, /healthz, /readyz, and the
// routes other components register (query API, dashboard, JSON API).
package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/borda-edge/borda/internal/httpguard"
)

// Config is the http section of borda.yaml.
type Config struct {
	Address string `yaml:"address"` // interface address; empty means all
	Port    int    `yaml:"port"`    // 0 picks a free port (tests)
	// Pprof serves Go's profiler under /debug/pprof/ (for profiling a
	// running gateway; off by default because it exposes internals).
	Pprof bool `yaml:"pprof"`
	// Guard is the server's protection: per-IP request rate, body size,
	// credentials for write and admin endpoints, timeouts (slowloris).
	Guard httpguard.Config `yaml:"guard"`
}

// DefaultConfig serves on port 8888 on all interfaces, guarded.
func DefaultConfig() Config { return Config{Port: 8888, Guard: httpguard.DefaultConfig()} }

// Validate reports every problem.
func (c Config) Validate() error {
	var errs []error
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("port: %d is not a valid port", c.Port))
	}
	if c.Address != "" && net.ParseIP(c.Address) == nil {
		errs = append(errs, fmt.Errorf("address: %q is not an IP address", c.Address))
	}
	if err := c.Guard.Validate(); err != nil {
		for _, e := range unjoin(err) {
			errs = append(errs, fmt.Errorf("guard.%w", e))
		}
	}
	return errors.Join(errs...)
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// Options are the server's hooks into the rest of borda.
type Options struct {
	// Middleware wraps every route (the guard); nil: none.
	Middleware func(http.Handler) http.Handler
	// WrapListener wraps the bound listener (ban checks at accept); nil: none.
	WrapListener func(net.Listener) net.Listener
}

// ReadyCheck is one component /readyz waits for.
type ReadyCheck struct {
	Name  string
	Ready <-chan struct{} // closed when the component has started
}

// Server is the HTTP server. Register routes with Handle before Run.
type Server struct {
	cfg    Config
	opts   Options
	log    *slog.Logger
	mux    *http.ServeMux
	checks []ReadyCheck

	mu    sync.Mutex
	addr  net.Addr
	ready chan struct{}
}

// New builds the server with /metrics (from gatherer), /healthz and /readyz.
func New(cfg Config, log *slog.Logger, gatherer prometheus.Gatherer, checks []ReadyCheck, opts Options) *Server {
	s := &Server{cfg: cfg, opts: opts, log: log, mux: http.NewServeMux(), checks: checks, ready: make(chan struct{})}
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn), EnableOpenMetrics: true}))
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", s.readyz)
	if cfg.Pprof {
		s.mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		s.mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		s.mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		s.mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		s.mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return s
}

// Handle registers a route (Go 1.22 pattern syntax).
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Ready is closed once the server accepts connections.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr is the bound address, nil before Run has bound it.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Run serves until ctx is cancelled, then shuts down, giving in-flight
// requests up to five seconds.
func (s *Server) Run(ctx context.Context) error {
	addr := net.JoinHostPort(s.cfg.Address, fmt.Sprint(s.cfg.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("http: cannot listen on %s (port %d): %w", addr, s.cfg.Port, err)
	}
	s.mu.Lock()
	s.addr = ln.Addr()
	s.mu.Unlock()
	if s.opts.WrapListener != nil {
		ln = s.opts.WrapListener(ln)
	}
	var h http.Handler = s.mux
	if s.opts.Middleware != nil {
		h = s.opts.Middleware(h)
	}
	srv := &http.Server{
		Handler:  h,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.cfg.Guard.Timeouts.Apply(srv)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("listening", "address", ln.Addr().String())
	close(s.ready)
	select {
	case err := <-errc:
		return fmt.Errorf("http: serve: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("http: shutdown: %w", err)
	}
	<-errc
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	pending := []string{}
	for _, c := range s.checks {
		select {
		case <-c.Ready:
		default:
			pending = append(pending, c.Name)
		}
	}
	if len(pending) > 0 {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "starting", "waiting_for": pending})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
