package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/borda-edge/borda/internal/broker"
	"github.com/borda-edge/borda/internal/config"
	"github.com/borda-edge/borda/internal/logging"
	"github.com/borda-edge/borda/internal/web"
)

// gateway is every component of one running borda, wired together.
type gateway struct {
	cfg    config.File
	log    *slog.Logger
	broker *broker.Broker
	web    *web.Server
	parts  []component
}

// newGateway builds the components from a validated configuration.
// Nothing is bound or opened until Run.
func newGateway(cfg config.File, logOut io.Writer) (*gateway, error) {
	base := logging.New(cfg.Log, logOut)
	limited := slog.New(logging.NewRateLimited(base.Handler(), 10*time.Second))

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	g := &gateway{cfg: cfg, log: base.With("component", "gateway")}
	g.broker = broker.New(cfg.Broker, broker.Deps{
		Logger:   base.With("component", "broker"),
		Registry: reg,
		DataDir:  cfg.DataDir,
	}, limited.With("component", "broker"))
	g.web = web.New(cfg.HTTP, base.With("component", "http"), reg, []web.ReadyCheck{
		{Name: "broker", Ready: g.broker.Ready()},
	})

	// Start order. Sources come after the sinks they feed, so that data
	// never arrives before there is somewhere to put it.
	g.parts = []component{
		{name: "broker", run: g.broker.Run, ready: g.broker.Ready()},
		{name: "http", run: g.web.Run, ready: g.web.Ready()},
	}
	return g, nil
}

// shutdownOrder is the order components are stopped in on shutdown:
//  1. broker: stop accepting data; disconnect clients; sync the session store.
//  2. http: last, so /metrics and /healthz answer while everything drains.
var shutdownOrder = []string{"broker", "http"}

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
