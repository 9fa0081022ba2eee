package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/config"
)

// reloader re-reads the configuration on SIGHUP or POST /-/reload and
// applies what can change while running (the rules and their actions).
// A file with any problem is refused whole: the running set stays.
type reloader struct {
	load    func() (config.File, error)
	apply   func(config.File) error
	log     *slog.Logger
	mu      sync.Mutex // one reload at a time
	ready   chan struct{}
	reloads *prometheus.CounterVec
	lastOK  prometheus.Gauge
}

func newReloader(load func() (config.File, error), apply func(config.File) error, log *slog.Logger,
	reg prometheus.Registerer) *reloader {
	r := &reloader{load: load, apply: apply, log: log, ready: make(chan struct{}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_config_reloads_total",
			Help: "Configuration reloads (SIGHUP, POST /-/reload) by result."}, []string{"result"}),
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{Name: "borda_config_last_reload_successful",
			Help: "1 if the last reload was applied (or none was tried), 0 if it was refused."}),
	}
	r.reloads.WithLabelValues("success")
	r.reloads.WithLabelValues("failure")
	r.lastOK.Set(1)
	reg.MustRegister(r.reloads, r.lastOK)
	return r
}

// Run reloads on every SIGHUP until ctx ends.
func (r *reloader) Run(ctx context.Context) error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP)
	defer signal.Stop(sig)
	close(r.ready)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sig:
			_ = r.reload("SIGHUP")
		}
	}
}

func (r *reloader) Ready() <-chan struct{} { return r.ready }

func (r *reloader) reload(cause string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg, err := r.load()
	if err == nil {
		err = r.apply(cfg)
	}
	if err != nil {
		err = fmt.Errorf("reload refused, the running configuration stays: %w", err)
		r.log.Error("reload failed", "cause", cause, "error", err)
		r.reloads.WithLabelValues("failure").Inc()
		r.lastOK.Set(0)
		return err
	}
	r.reloads.WithLabelValues("success").Inc()
	r.lastOK.Set(1)
	r.log.Info("configuration reloaded", "cause", cause)
	return nil
}

// ServeHTTP is POST /-/reload: 200 when applied, 400 with every problem
// when the file was refused.
func (r *reloader) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if err := r.reload("POST /-/reload"); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "error", "error": err.Error()})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "success"})
}
