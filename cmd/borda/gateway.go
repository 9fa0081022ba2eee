package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/borda-edge/borda/internal/alerts"
	"github.com/borda-edge/borda/internal/attach"
	"github.com/borda-edge/borda/internal/auth"
	"github.com/borda-edge/borda/internal/ban"
	"github.com/borda-edge/borda/internal/broker"
	"github.com/borda-edge/borda/internal/config"
	"github.com/borda-edge/borda/internal/httpguard"
	"github.com/borda-edge/borda/internal/ingest"
	"github.com/borda-edge/borda/internal/logging"
	"github.com/borda-edge/borda/internal/netmon"
	"github.com/borda-edge/borda/internal/netmon/modem"
	"github.com/borda-edge/borda/internal/netmon/watchdog"
	"github.com/borda-edge/borda/internal/node"
	"github.com/borda-edge/borda/internal/pipeline"
	"github.com/borda-edge/borda/internal/rules"
	"github.com/borda-edge/borda/internal/store"
	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/borda-edge/borda/internal/uplink"
	"github.com/borda-edge/borda/internal/vision"
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
	rules    *rules.Engine
	alerts   *alerts.Dispatcher
	uplink   *uplink.Uplink
	banner   *ban.Banner
	auth     *auth.Hook
	netmon   *netmon.Monitor
	vision   *vision.Pipeline
	recent   *recentDetections // latest detections per camera (nil: vision off)
	watchdog *watchdog.Watchdog
	modems   *modem.Reader
	node     node.Config      // resolved identity (name from the host name by default)
	attached []*attach.Client // external brokers ingested from
	actions  *attach.Client   // the one rule actions publish to (nil: the embedded broker)
	guard    *httpguard.Guard
	web      *web.Server
	reloader *reloader
	parts    []component
}

// newGateway builds the components from a validated configuration.
// Nothing is bound or opened until Run.
// load re-reads the configuration for a reload (nil: no reloading).
func newGateway(cfg config.File, logOut io.Writer, load func() (config.File, error)) (*gateway, error) {
	base := logging.New(cfg.Log, logOut)
	limited := slog.New(logging.NewRateLimited(base.Handler(), 10*time.Second))

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	n := cfg.Node.Resolve()
	cfg.Uplink = withNode(cfg.Uplink, n)
	g := &gateway{cfg: cfg, log: base.With("component", "gateway"), node: n}
	if err := g.newSecurity(base, limited, reg); err != nil {
		return nil, err
	}
	router, err := ingest.NewRouter(cfg.Ingest.Mapping)
	if err != nil {
		return nil, fmt.Errorf("ingest mappings: %w", err)
	}
	g.store = store.New(cfg.Store, store.Deps{
		Logger:   base.With("component", "store"),
		Registry: reg,
		Dir:      filepath.Join(cfg.DataDir, "tsdb"),
	})
	g.uplink, err = uplink.New(cfg.Uplink, uplink.Deps{
		Logger:   base.With("component", "uplink"),
		Limited:  limited.With("component", "uplink"),
		Registry: reg,
		Local:    localBroker{g},
		DataDir:  cfg.DataDir,
	})
	if err != nil {
		return nil, err
	}
	if err := g.newRules(base, limited, reg); err != nil {
		return nil, err
	}
	var sink pipeline.Sink = storeSink{g.store}
	if g.uplink.HasPointOutputs() {
		sink = teeSink{store: sink, uplink: g.uplink, log: limited.With("component", "uplink")}
	}
	g.pipeline = pipeline.New(cfg.Ingest.Pipeline, pipeline.Deps{
		Logger:  base.With("component", "ingest"),
		Limited: limited.With("component", "ingest"),
		Metrics: pipeline.NewMetrics(reg),
		Router:  router,
		Sink:    sink,
		Rules:   g.rules,
	})
	hooks := []mqtt.Hook{g.auth, broker.TapHook(g.pipeline, g.forwarder(), limited.With("component", "broker"))}
	g.broker = broker.New(cfg.Broker, broker.Deps{
		Logger:       base.With("component", "broker"),
		Registry:     reg,
		DataDir:      cfg.DataDir,
		Hooks:        hooks,
		WrapListener: g.wrapMQTTListener,
	}, limited.With("component", "broker"))
	// Start order. Sinks come before the sources that feed them, so data
	// never arrives before there is somewhere to put it.
	g.parts = []component{
		{name: "ban", run: g.banner.Run, ready: g.banner.Ready()},
		{name: "store", run: g.store.Run, ready: g.store.Ready()},
		{name: "alerts", run: g.alerts.Run, ready: g.alerts.Ready()},
		{name: "rules", run: g.rules.Run, ready: g.rules.Ready()},
		{name: "uplink", run: g.uplink.Run, ready: g.uplink.Ready()},
		{name: "ingest", run: g.pipeline.Run, ready: g.pipeline.Ready()},
		{name: "broker", run: g.broker.Run, ready: g.broker.Ready()},
	}
	if err := g.newAttach(base, limited, reg); err != nil {
		return nil, err
	}
	if err := g.newNetmon(base, limited, reg); err != nil {
		return nil, fmt.Errorf("netmon: %w", err)
	}
	g.newVision(base, limited, reg)
	if err := g.newSelfScrape(base, limited, reg); err != nil {
		return nil, err
	}
	if load != nil {
		g.reloader = newReloader(load, g.applyReload, base.With("component", "reload"), reg)
		g.parts = append(g.parts, component{name: "reload", run: g.reloader.Run, ready: g.reloader.Ready()})
	}
	g.web = g.newWeb(base, limited, reg)
	g.parts = append(g.parts, component{name: "http", run: g.web.Run, ready: g.web.Ready()})
	g.parts = append(g.parts, g.systemdNotifier(base)) // last: READY=1 once every part is ready
	return g, nil
}

// newRules builds the alert dispatcher and the rules engine feeding it.
// Alerts publish through the broker's inline client (built later in
// newGateway, used only once running).
func (g *gateway) newRules(base, limited *slog.Logger, reg *prometheus.Registry) error {
	if g.cfg.Alerts.History.Redis.Address != "" {
		// go-redis logs through one process-wide logger; route it to ours.
		redis.SetLogger(alerts.RedisLogger{L: limited.With("component", "alerts")})
	}
	var err error
	deps := alerts.Deps{
		Logger:    base.With("component", "alerts"),
		Limited:   limited.With("component", "alerts"),
		Registry:  reg,
		Publisher: rulePublisher{g},
		DataDir:   g.cfg.DataDir,
	}
	if g.uplink.HasPointOutputs() {
		deps.Forward = g.uplink
	}
	g.alerts, err = alerts.New(g.cfg.Alerts, deps)
	if err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	g.rules, err = rules.New(g.cfg.Rules, rules.Deps{
		Logger:   base.With("component", "rules"),
		Limited:  limited.With("component", "rules"),
		Registry: reg,
		Notifier: g.alerts,
	})
	if err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	return nil
}

// localBroker is the embedded broker as the uplink uses it: status topics
// and, marked with their origin, messages from the cloud.
type localBroker struct{ g *gateway }

func (l localBroker) Publish(topic string, payload []byte, retain bool, qos byte) error {
	return l.g.broker.Server().Publish(topic, payload, retain, qos)
}

func (l localBroker) PublishFrom(origin, topic string, payload []byte, retain bool, qos byte) error {
	return l.g.broker.PublishFrom(origin, topic, payload, retain, qos)
}

// applyReload applies what a reload may change: the rules (with their
// actions), the TLS listeners' certificates and MQTT users and ACLs. The engine refuses a bad
// rule set whole and keeps the running one; a certificate that does not
// load leaves its listener on the previous one. Other changed settings are
// named in a warning: they need a restart.
func (g *gateway) applyReload(cfg config.File) error {
	if err := g.rules.Reload(cfg.Rules); err != nil {
		return err
	}
	// Certificates and the password file are re-read even when the config
	// did not change: a renewal or `borda passwd` replaces them in place.
	if err := g.broker.ReloadTLS(); err != nil {
		return fmt.Errorf("rules reloaded, but TLS certificates kept: %w", err)
	}
	if err := g.auth.Apply(cfg.Auth); err != nil {
		return fmt.Errorf("rules and certificates reloaded, but MQTT users and ACLs kept: %w", err)
	}
	running := g.cfg
	running.Rules, cfg.Rules = rules.Config{}, rules.Config{}
	running.Auth, cfg.Auth = auth.Config{}, auth.Config{}
	if !reflect.DeepEqual(running, cfg) {
		g.log.Warn("reload applied the rules only; other changed settings take effect after a restart")
	}
	return nil
}

// newWeb builds the HTTP server with every component's routes; /readyz
// waits for the components started before it.
func (g *gateway) newWeb(base, limited *slog.Logger, reg *prometheus.Registry) *web.Server {
	cfg := g.cfg
	checks := make([]web.ReadyCheck, len(g.parts))
	for i, p := range g.parts {
		checks[i] = web.ReadyCheck{Name: p.name, Ready: p.ready}
	}
	w := web.New(cfg.HTTP, base.With("component", "http"), reg, checks, g.webOptions())
	w.Handle("/api/v1/", g.store.Handler())
	g.registerDashboard(w, base, reg)
	g.banner.Register(w)
	w.Handle("GET /api/v1/health", g.healthHandler())
	g.alerts.Register(w)
	g.registerVision(w)
	if g.reloader != nil {
		w.Handle("POST /-/reload", g.reloader)
	}
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
//  0. systemd: STOPPING=1; netmon, modem, watchdog: stop probing and restarting.
//  1. reload: no reloads while stopping.
//  2. attach-*, broker: stop taking data (external brokers keep what was
//     not acknowledged); disconnect clients; sync the session store.
//  3. ingest: store every reading still queued (all were acknowledged or QoS 0).
//  4. rules: stop the silent-device checker (readings no longer arrive).
//  5. alerts: finish queued webhooks and history writes (bounded by
//     alerts.drain_timeout); MQTT actions stop with the broker.
//  6. uplink: disconnect from the cloud and close the queues; whatever was
//     not confirmed stays queued for the next start.
//  7. selfscrape, store: stop storing borda's own metrics; flush and close
//     the TSDB (its WAL already holds every append).
//  8. dashboard, http: live dashboard streams end (pages reconnect later);
//     /metrics and /healthz answer while everything drains.
//  9. ban: last, so the HTTP server reports auth failures until it stops;
//     bans are written to bans.db as they happen.
//
// Before all of them, vision: cameras stop (ffmpeg killed), queued frames
// are counted as dropped, the last detections go out while broker and
// ingest still run.
var shutdownOrder = []string{"vision", "systemd", "netmon", "modem", "watchdog", "reload", "broker", "ingest", "rules", "alerts", "uplink", "selfscrape", "store", "dashboard", "http", "ban"}

// storeSink adapts the store to the pipeline: samples the store refuses
// one by one are counted by the store; only a failed batch is an error.
type storeSink struct{ s *store.Store }

func (s storeSink) Append(ctx context.Context, pts []telemetry.Point) error {
	_, err := s.s.Append(ctx, pts)
	return err
}

// teeSink stores a batch and queues it for the uplink's HTTP outputs at
// the same time. Only the store's failure fails the batch: an output that
// cannot queue has counted the miss, and local work goes on.
type teeSink struct {
	store  pipeline.Sink
	uplink pipeline.Sink
	log    *slog.Logger // rate-limited
}

func (t teeSink) Append(ctx context.Context, pts []telemetry.Point) error {
	up := make(chan error, 1)
	go func() { up <- t.uplink.Append(ctx, pts) }()
	err := t.store.Append(ctx, pts)
	if uerr := <-up; uerr != nil {
		t.log.Warn("uplink could not queue readings; stored locally only", "points", len(pts), "error", uerr)
	}
	return err
}

// Run prepares the data directory, starts every component and runs until
// ctx is cancelled or one component fails; then it stops them in
// shutdownOrder and returns the first failure.
func (g *gateway) Run(ctx context.Context) error {
	if err := os.MkdirAll(g.cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	g.log.Info("starting", "version", versionString(), "data_dir", g.cfg.DataDir,
		"memory_limit", applyMemoryLimit(g.cfg.MemoryLimit))
	err := runComponents(ctx, g.parts, g.stopOrder(), g.log)
	if err != nil {
		g.log.Error("stopped with error", "error", err)
		return err
	}
	g.log.Info("stopped")
	return nil
}

// applyMemoryLimit sets the Go runtime's soft memory limit from the config
// unless GOMEMLIMIT is set (the environment wins, as for any Go program),
// and returns the limit in effect for the log ("off" when none).
func applyMemoryLimit(limit int64) string {
	if os.Getenv("GOMEMLIMIT") == "" && limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	if cur := debug.SetMemoryLimit(-1); cur != math.MaxInt64 {
		return fmt.Sprintf("%d MiB", cur>>20)
	}
	return "off"
}
