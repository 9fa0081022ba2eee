package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/netmon"
	"github.com/borda-edge/borda/internal/netmon/modem"
	"github.com/borda-edge/borda/internal/netmon/watchdog"
)

// newNetmon builds the connectivity monitor when it is enabled: its
// events go to the log and to borda/<node>/events, its status (retained)
// to borda/<node>/status and /api/v1/health, and its online signal pauses
// and resumes the uplink outputs. The service watchdog runs when services
// are configured; its events go the same way.
func (g *gateway) newNetmon(base, limited *slog.Logger, reg *prometheus.Registry) error {
	node := g.node.Name
	if len(g.cfg.Watchdog.Services) > 0 {
		wlog := base.With("component", "watchdog")
		var err error
		g.watchdog, err = watchdog.New(g.cfg.Watchdog, watchdog.Deps{
			Logger: wlog, Limited: limited.With("component", "watchdog"), Registry: reg,
			OnEvent: func(e watchdog.Event) { g.publishEvent(wlog, node, string(e.Kind), e) },
		})
		if err != nil {
			return fmt.Errorf("watchdog: %w", err)
		}
		g.parts = append(g.parts, component{name: "watchdog", run: g.watchdog.Run, ready: g.watchdog.Ready()})
	}
	if !g.cfg.Netmon.Enabled {
		return nil
	}
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
	if g.cfg.Netmon.Modems.Enabled {
		g.modems, err = modem.New(g.cfg.Netmon.Modems, base.With("component", "modem"), reg)
		if err != nil {
			return fmt.Errorf("modems: %w", err)
		}
		started := make(chan struct{})
		close(started) // polling ModemManager never blocks start-up
		g.parts = append(g.parts, component{name: "modem", run: g.modems.Run, ready: started})
	}
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
	g.publishEvent(log, node, string(e.Kind), e)
	if b, err := json.Marshal(g.netmon.Status()); err == nil {
		_ = g.broker.Server().Publish("borda/"+node+"/status", b, true, 1)
	}
}

// publishEvent logs an event and publishes it on borda/<node>/events.
func (g *gateway) publishEvent(log *slog.Logger, node, kind string, e any) {
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	log.Info("event", "kind", kind, "event", string(b))
	_ = g.broker.Server().Publish("borda/"+node+"/events", b, false, 1)
}

// health is GET /api/v1/health: the network monitor's and the service
// watchdog's status (null when not running).
type health struct {
	Network  *netmon.Status           `json:"network"`
	Services []watchdog.ServiceStatus `json:"services"`
	Modems   *modemHealth             `json:"modems"`
}

// modemHealth is ModemManager's view, or why there is none.
type modemHealth struct {
	Modems []modem.Status `json:"modems"`
	Note   string         `json:"note,omitempty"`
}

func (g *gateway) healthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		var h health
		if g.netmon != nil {
			st := g.netmon.Status()
			h.Network = &st
		}
		if g.watchdog != nil {
			h.Services = g.watchdog.Status()
		}
		if g.modems != nil {
			mods, note := g.modems.Modems()
			h.Modems = &modemHealth{Modems: mods, Note: note}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(h)
	})
}
