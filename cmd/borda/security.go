package main

import (
	"fmt"
	"log/slog"
	"net"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/auth"
	"github.com/borda-edge/borda/internal/ban"
	"github.com/borda-edge/borda/internal/dashboard"
	"github.com/borda-edge/borda/internal/httpguard"
	"github.com/borda-edge/borda/internal/web"
)

// newSecurity builds MQTT authentication and ACLs, the ban component (fail2ban semantics for MQTT and
// HTTP authentication failures, per-IP connection rate) and the HTTP
// guard. The ban logger is never rate-limited: fail2ban and SIEMs read
// every "auth failed" and "ip banned" line.
func (g *gateway) newSecurity(base, limited *slog.Logger, reg *prometheus.Registry) error {
	var err error
	g.banner, err = ban.New(g.cfg.Bans, ban.Deps{
		Logger:   base.With("component", "ban"),
		Limited:  limited.With("component", "ban"),
		Registry: reg,
		DataDir:  g.cfg.DataDir,
	})
	if err != nil {
		return fmt.Errorf("bans: %w", err)
	}
	g.auth, err = auth.New(g.cfg.Auth, auth.Deps{
		Logger:   base.With("component", "auth"),
		Limited:  limited.With("component", "auth"),
		Registry: reg,
		Failures: g.banner.Reporter(ban.SourceMQTT),
	})
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	g.guard, err = httpguard.New(g.cfg.HTTP.Guard, httpguard.Deps{
		Logger:   base.With("component", "http"),
		Limited:  limited.With("component", "http"),
		Registry: reg,
		Banner:   g.banner,
		Static:   dashboard.StaticRoutes(), // the dashboard's page and assets: no data, not rate limited
	})
	if err != nil {
		return fmt.Errorf("http guard: %w", err)
	}
	return nil
}

// wrapMQTTListener refuses banned IPs and IPs over the connection rate at
// accept time, before TLS or MQTT do any work.
func (g *gateway) wrapMQTTListener(l net.Listener, name string) net.Listener {
	return ban.WrapListener(l, g.banner, name, g.banner.ConnRate())
}

// webOptions put the guard around every HTTP route and refuse banned IPs
// at accept (the request rate is the guard's; no connection rate here).
func (g *gateway) webOptions() web.Options {
	return web.Options{
		Middleware:   g.guard.Wrap,
		WrapListener: func(l net.Listener) net.Listener { return ban.WrapListener(l, g.banner, "http", nil) },
	}
}
