package main

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/dashboard"
	"github.com/borda-edge/borda/internal/store"
	"github.com/borda-edge/borda/internal/vision"
	"github.com/borda-edge/borda/internal/web"
)

// registerDashboard serves the web dashboard at / on the HTTP server. Its
// pages and APIs are guarded like every other route (http.guard.auth).
func (g *gateway) registerDashboard(w *web.Server, base *slog.Logger, reg *prometheus.Registry) {
	deps := dashboard.Deps{
		Logger:   base.With("component", "dashboard"),
		Registry: reg,
		Gatherer: reg,
		Devices:  storeDevices{g.store},
		Info:     dashboard.Info{Node: g.node.Name, Site: g.node.Site, Labels: g.node.Labels, Version: versionString(), Started: time.Now()},
		DataDir:  g.cfg.DataDir,
	}
	if g.recent != nil { // vision on: the Cameras page lists the latest detections
		deps.Detections = g.recent
	}
	if g.vision != nil { // and says why vision or a camera is down
		deps.Vision = visionState{g.vision}
	}
	d, err := dashboard.New(deps)
	if err != nil { // only a duplicate metric registration: keep serving without it
		g.log.Error("dashboard disabled", "error", err)
		return
	}
	d.Register(w)
	g.parts = append(g.parts, component{name: "dashboard", run: d.Run, ready: d.Ready()})
}

// storeDevices lists the store's devices for the dashboard.
type storeDevices struct{ s *store.Store }

func (s storeDevices) Devices() ([]dashboard.Device, error) {
	list, err := s.s.Devices()
	if err != nil {
		return nil, err
	}
	out := make([]dashboard.Device, len(list))
	for i, d := range list {
		m := make(map[string]dashboard.Reading, len(d.Metrics))
		for name, r := range d.Metrics {
			m[name] = dashboard.Reading{Value: r.Value, Time: r.Time}
		}
		out[i] = dashboard.Device{ID: d.ID, Type: d.Type, LastSeen: d.LastSeen, Labels: d.Labels, Metrics: m}
	}
	return out, nil
}

// visionState reports the vision pipeline's health to the dashboard.
type visionState struct{ p *vision.Pipeline }

func (v visionState) VisionState() dashboard.VisionState {
	st := v.p.Stats()
	out := dashboard.VisionState{Up: st.Up, Error: st.Error, CameraErrors: map[string]string{}}
	for _, c := range st.Cameras {
		if c.LastError != "" {
			out.CameraErrors[c.ID] = c.LastError
		}
	}
	return out
}
