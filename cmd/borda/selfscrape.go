package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/selfscrape"
	"github.com/borda-edge/borda/internal/store"
	"github.com/borda-edge/borda/internal/telemetry"
)

// newSelfScrape stores borda's own metrics in its store every
// store.self_scrape_interval (job="borda", instance=<node name>), so that
// Grafana needs borda as its only data source. Off at 0.
func (g *gateway) newSelfScrape(base, limited *slog.Logger, reg *prometheus.Registry) error {
	if g.cfg.Store.SelfScrapeInterval <= 0 {
		return nil
	}
	s, err := selfscrape.New(selfscrape.Deps{
		Logger:   base.With("component", "selfscrape"),
		Limited:  limited.With("component", "selfscrape"),
		Registry: reg,
		Gatherer: reg,
		Sink:     scrapeSink{g.store},
		Interval: g.cfg.Store.SelfScrapeInterval,
		Labels:   map[string]string{"job": "borda", "instance": g.node.Name},
	})
	if err != nil {
		return fmt.Errorf("self-scrape: %w", err)
	}
	g.parts = append(g.parts, component{name: "selfscrape", run: s.Run, ready: s.Ready()})
	return nil
}

// scrapeSink appends scraped samples to the store.
type scrapeSink struct{ s *store.Store }

func (s scrapeSink) Append(ctx context.Context, pts []telemetry.Point) (int, error) {
	res, err := s.s.Append(ctx, pts)
	return res.Appended, err
}
