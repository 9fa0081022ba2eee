package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/netmon"
)

// newNetmon builds the connectivity monitor when it is enabled: its
// events go to the log and to borda/<node>/events, its status (retained)
// to borda/<node>/status and /api/v1/health, and its online signal pauses
// and resumes the uplink outputs.
func (g *gateway) newNetmon(base, limited *slog.Logger, reg *prometheus.Registry) error {
	if !g.cfg.Netmon.Enabled {
		return nil
	}
	node := nodeName()
	log := base.With("component", "netmon")
	var err error
	g.netmon, err = netmon.New(g.cfg.Netmon, netmon.Deps{
		Logger:   log,
		Limited:  limited.With("component", "netmon"),
		Registry: reg,
		OnEvent:  func(e netmon.Event) { g.netEvent(log, node, e) },
	})
	if err != nil {
		return err
	}
	g.parts = append(g.parts, component{name: "netmon", run: g.runNetmon, ready: g.netmon.Ready()})
	return nil
}

// runNetmon runs the monitor and applies its online signal to the uplink.
func (g *gateway) runNetmon(ctx context.Context) error {
	go func() {
		for online := range g.netmon.Watch() {
			if online {
				g.uplink.Resume()
			} else {
				g.uplink.Pause()
			}
		}
	}()
	return g.netmon.Run(ctx)
}

// netEvent logs an event and publishes it with the status; it must not
// block (inline publishes are in-memory enqueues).
func (g *gateway) netEvent(log *slog.Logger, node string, e netmon.Event) {
	log.Info("network event", "kind", e.Kind, "uplink", e.Uplink, "from", e.From, "to", e.To, "reason", e.Reason)
	if b, err := json.Marshal(e); err == nil {
		_ = g.broker.Server().Publish("borda/"+node+"/events", b, false, 1)
	}
	if b, err := json.Marshal(g.netmon.Status()); err == nil {
		_ = g.broker.Server().Publish("borda/"+node+"/status", b, true, 1)
	}
}

// healthHandler serves the monitor's status.
func (g *gateway) healthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(g.netmon.Status())
	})
}

// nodeName is the host name as one MQTT topic level.
func nodeName() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "borda"
	}
	return strings.NewReplacer("/", "_", "+", "_", "#", "_").Replace(h)
}
