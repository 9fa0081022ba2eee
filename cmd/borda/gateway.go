package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/borda-edge/borda/internal/broker"
	"github.com/borda-edge/borda/internal/config"
	"github.com/borda-edge/borda/internal/ingest"
	"github.com/borda-edge/borda/internal/logging"
	"github.com/borda-edge/borda/internal/pipeline"
	"github.com/borda-edge/borda/internal/store"
	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/borda-edge/borda/internal/web"
	"github.com/borda-edge/borda/internal/writeapi"
)

// gateway is every component of one running borda, wired together.
type gateway struct {
	cfg      config.File
	log      *slog.Logger
	broker   *broker.Broker
	pipeline *pipeline.Pipeline
	store    *store.Store
	web      *web.Server
	parts    []component
}

// newGateway builds the components from a validated configuration.
// Nothing is bound or opened until Run.
func newGateway(cfg config.File, logOut io.Writer) (*gateway, error) {
	base := logging.New(cfg.Log, logOut)
	limited := slog.New(logging.NewRateLimited(base.Handler(), 10*time.Second))

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	g := &gateway{cfg: cfg, log: base.With("component", "gateway")}
	router, err := ingest.NewRouter(cfg.Ingest.Mapping)
	if err != nil {
		return nil, fmt.Errorf("ingest mappings: %w", err)
	}
	g.store = store.New(cfg.Store, store.Deps{
		Logger:   base.With("component", "store"),
		Registry: reg,
		Dir:      filepath.Join(cfg.DataDir, "tsdb"),
	})
	g.pipeline = pipeline.New(cfg.Ingest.Pipeline, pipeline.Deps{
		Logger:  base.With("component", "ingest"),
		Limited: limited.With("component", "ingest"),
		Metrics: pipeline.NewMetrics(reg),
		Router:  router,
		Sink:    storeSink{g.store},
	})
	g.broker = broker.New(cfg.Broker, broker.Deps{
		Logger:   base.With("component", "broker"),
		Registry: reg,
		DataDir:  cfg.DataDir,
		Hooks:    []mqtt.Hook{broker.TapHook(g.pipeline, limited.With("component", "broker"))},
	}, limited.With("component", "broker"))
	// Start order. Sinks come before the sources that feed them, so data
	// never arrives before there is somewhere to put it.
	g.parts = []component{
		{name: "store", run: g.store.Run, ready: g.store.Ready()},
		{name: "ingest", run: g.pipeline.Run, ready: g.pipeline.Ready()},
		{name: "broker", run: g.broker.Run, ready: g.broker.Ready()},
	}
	g.web = g.newWeb(base, limited, reg)
	g.parts = append(g.parts, component{name: "http", run: g.web.Run, ready: g.web.Ready()})
	return g, nil
}

// newWeb builds the HTTP server with every component's routes; /readyz
// waits for the components started before it.
func (g *gateway) newWeb(base, limited *slog.Logger, reg *prometheus.Registry) *web.Server {
	cfg := g.cfg
	checks := make([]web.ReadyCheck, len(g.parts))
	for i, p := range g.parts {
		checks[i] = web.ReadyCheck{Name: p.name, Ready: p.ready}
	}
	w := web.New(cfg.HTTP, base.With("component", "http"), reg, checks)
	w.Handle("/api/v1/", g.store.Handler())
	if cfg.Ingest.HTTPWrite.Enabled {
		writeapi.New(cfg.Ingest.HTTPWrite, writeapi.Deps{
			Logger:   base.With("component", "write"),
			Limited:  limited.With("component", "write"),
			Registry: reg,
			Writer:   g.pipeline,
			Version:  version,
		}).Register(w)
	}
	return w
}

// shutdownOrder is the order components are stopped in on shutdown:
//  1. broker: stop accepting data; disconnect clients; sync the session store.
//  2. ingest: store every reading still queued (all were acknowledged or QoS 0).
//  3. store: flush and close the TSDB (its WAL already holds every append).
//  4. http: last, so /metrics and /healthz answer while everything drains.
var shutdownOrder = []string{"broker", "ingest", "store", "http"}

// storeSink adapts the store to the pipeline: samples the store refuses
// one by one are counted by the store; only a failed batch is an error.
type storeSink struct{ s *store.Store }

func (s storeSink) Append(ctx context.Context, pts []telemetry.Point) error {
	_, err := s.s.Append(ctx, pts)
	return err
}

// Run prepares the data directory, starts every component and runs until
// ctx is cancelled or one component fails; then it stops them in
// shutdownOrder and returns the first failure.
func (g *gateway) Run(ctx context.Context) error {
	if err := os.MkdirAll(g.cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	g.log.Info("starting", "version", versionString(), "data_dir", g.cfg.DataDir)
	err := runComponents(ctx, g.parts, shutdownOrder, g.log)
	if err != nil {
		g.log.Error("stopped with error", "error", err)
		return err
	}
	g.log.Info("stopped")
	return nil
}
