// Package selfscrape stores borda's own metrics in its embedded store, as
// Prometheus would scrape them: every interval it gathers the registry,
// keeps borda_* and a few process and Go runtime series, and appends them
// with target labels (job, instance) through a Sink. Grafana and the query
// API then see borda's health next to the device readings, without a
// separate Prometheus.
package selfscrape

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/promreg"
	"github.com/borda-edge/borda/internal/telemetry"
)

// Sink stores the scraped samples (borda's store) and returns how many it
// kept; the others it counted itself (duplicates, too many series, ...).
type Sink interface {
	Append(ctx context.Context, pts []telemetry.Point) (int, error)
}

// Deps are what the scraper reads from and writes to.
type Deps struct {
	Logger   *slog.Logger          // component=selfscrape
	Limited  *slog.Logger          // rate-limited, for repeated failures; Logger if nil
	Registry prometheus.Registerer // the scraper's own metrics; nil: none
	Gatherer prometheus.Gatherer   // what is scraped (the node's registry)
	Sink     Sink
	// Interval between scrapes (store.self_scrape_interval); must be > 0.
	Interval time.Duration
	// Labels are added to every series, as a Prometheus target's:
	// job="borda", instance=<node name>. A scraped series' own label of
	// the same name is kept as exported_<name>.
	Labels map[string]string
	// Keep selects metric families by name; DefaultKeep if nil.
	Keep func(name string) bool
	Now  func() time.Time // time.Now if nil
}

// keepGo are the Go runtime series worth keeping next to process_*.
var keepGo = map[string]bool{
	"go_goroutines": true, "go_threads": true, "go_info": true, "go_gc_duration_seconds": true,
	"go_memstats_heap_alloc_bytes": true, "go_memstats_heap_inuse_bytes": true, "go_memstats_sys_bytes": true,
}

// DefaultKeep keeps borda_*, process_* and the Go runtime's goroutines,
// threads, heap and GC pauses.
func DefaultKeep(name string) bool {
	return strings.HasPrefix(name, "borda_") || strings.HasPrefix(name, "process_") || keepGo[name]
}

// Scraper appends the registry to the store every interval.
type Scraper struct {
	d     Deps
	m     *metrics
	ready chan struct{}
}

// New builds a scraper and registers its metrics.
func New(d Deps) (*Scraper, error) {
	if d.Gatherer == nil || d.Sink == nil {
		return nil, errors.New("selfscrape: Gatherer and Sink are required")
	}
	if d.Interval <= 0 {
		return nil, fmt.Errorf("selfscrape: interval %s must be positive", d.Interval)
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Limited == nil {
		d.Limited = d.Logger
	}
	if d.Keep == nil {
		d.Keep = DefaultKeep
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	m := newMetrics()
	if d.Registry != nil {
		if _, err := promreg.Register(d.Registry, m.collectors()...); err != nil {
			return nil, fmt.Errorf("selfscrape metrics: %w", err)
		}
	}
	return &Scraper{d: d, m: m, ready: make(chan struct{})}, nil
}

// Ready is closed once Run has started.
func (s *Scraper) Ready() <-chan struct{} { return s.ready }

// Run scrapes at once, then every interval, until ctx is cancelled. A
// failed scrape (the store not open, a full disk) is counted and logged,
// and the next one is tried on time.
func (s *Scraper) Run(ctx context.Context) error {
	close(s.ready)
	s.d.Logger.Info("storing borda's own metrics", "interval", s.d.Interval, "labels", s.d.Labels)
	tick := time.NewTicker(s.d.Interval)
	defer tick.Stop()
	for {
		if err := s.Scrape(ctx); err != nil && ctx.Err() == nil {
			s.d.Limited.Warn("self-scrape failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Scrape gathers the registry once and appends it, all samples stamped
// with the same time.
func (s *Scraper) Scrape(ctx context.Context) error {
	start := s.d.Now()
	fams, gerr := s.d.Gatherer.Gather() // what could be gathered comes with the error
	pts := convert(fams, s.d.Keep, s.d.Labels, start)
	pts = append(pts, s.scrapeSeries(len(pts), start)...)
	n, err := s.d.Sink.Append(ctx, pts)
	s.m.duration.Set(s.d.Now().Sub(start).Seconds())
	s.m.scraped.Set(float64(len(pts)))
	s.m.appended.Add(float64(n))
	s.m.notAppended.Add(float64(len(pts) - n))
	if err = errors.Join(wrap("gather", gerr), wrap("append", err)); err != nil {
		s.m.failed.Inc()
		return err
	}
	s.m.ok.Inc()
	return nil
}

// scrapeSeries are the series Prometheus adds to every scrape: up,
// scrape_duration_seconds (of the previous scrape; this one is not over)
// and scrape_samples_scraped.
func (s *Scraper) scrapeSeries(samples int, at time.Time) []telemetry.Point {
	mk := func(name string, v float64) telemetry.Point {
		p := telemetry.Point{Measurement: name, Time: at, Fields: []telemetry.Field{{Key: "value", Value: v}}}
		for k, val := range s.d.Labels {
			p.SetTag(k, val)
		}
		return p
	}
	return []telemetry.Point{mk("up", 1), mk("scrape_samples_scraped", float64(samples)),
		mk("scrape_duration_seconds", s.m.lastDuration())}
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
