// Package store is borda's embedded time-series database: a Prometheus TSDB
// on local disk, a PromQL engine over it and the Prometheus HTTP query API,
// so Grafana's stock Prometheus data source works against borda unchanged.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/compression"
)

// ErrNotReady is returned by Append (and the query API answers 503) while
// the TSDB is not open: before Run has opened it or after it has closed.
var ErrNotReady = errors.New("store: not open")

// Deps are the store's collaborators.
type Deps struct {
	Logger   *slog.Logger
	Registry prometheus.Registerer // metrics are registered here
	Dir      string                // TSDB directory, e.g. <data_dir>/tsdb
}

// Store is the embedded TSDB. Create it with New, then call Run.
type Store struct {
	cfg     Config
	log     *slog.Logger
	dir     string
	reg     prometheus.Registerer
	m       *metrics
	limiter *seriesLimiter
	parser  parser.Parser
	engine  *promql.Engine
	ready   chan struct{}
	started atomic.Bool

	mu       sync.RWMutex // guards db and queryCtx; held shared while in use
	db       *tsdb.DB
	queryCtx context.Context // cancelled when Run begins to close the DB

	appendMu sync.Mutex // serializes Append (one appender, one commit at a time)
	cache    seriesCache
	touched  []touch // reused buffer of committed samples, guarded by appendMu

	devices *deviceIndex // latest value per device series, for /api/v1/devices
}

// New builds the store and registers its metrics. The PromQL engine is
// created here, once per Store.
func New(cfg Config, deps Deps) *Store {
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := deps.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s := &Store{
		cfg:     cfg,
		log:     log,
		dir:     deps.Dir,
		reg:     reg,
		limiter: &seriesLimiter{max: int64(cfg.MaxSeries)},
		parser:  parser.NewParser(parser.Options{}),
		ready:   make(chan struct{}),
		cache:   seriesCache{m: map[uint64]*seriesState{}, max: 2 * cfg.MaxSeries},
		devices: newDeviceIndex(2 * cfg.MaxSeries),
	}
	s.m = newMetrics(reg, s)
	registerDeviceMetrics(reg, s.devices)
	s.engine = promql.NewEngine(promql.EngineOpts{
		Logger:               log.With("part", "promql"),
		Reg:                  prometheus.WrapRegistererWithPrefix("borda_", reg),
		MaxSamples:           cfg.MaxSamples,
		Timeout:              cfg.QueryTimeout,
		LookbackDelta:        cfg.LookbackDelta,
		EnableAtModifier:     true,
		EnableNegativeOffset: true,
		Parser:               s.parser,
	})
	return s
}

// Ready is closed once the TSDB is open and accepts appends and queries.
func (s *Store) Ready() <-chan struct{} { return s.ready }

// Run opens the TSDB (replaying the WAL), serves appends and queries until
// ctx is cancelled, then closes the DB cleanly (the head is flushed and the
// WAL closed). Run may be called once per Store.
func (s *Store) Run(ctx context.Context) error {
	if s.started.Swap(true) {
		return errors.New("store: Run called twice")
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	db, err := tsdb.Open(s.dir, s.log.With("part", "tsdb"),
		prometheus.WrapRegistererWithPrefix("borda_", s.reg), s.tsdbOptions(), nil)
	if err != nil {
		return fmt.Errorf("store: open %s: %w", s.dir, err)
	}
	if err := s.rebuildDevices(ctx, db); err != nil {
		if err := db.Close(); err != nil {
			return fmt.Errorf("store: close: %w", err)
		}
		return nil // cancelled while rebuilding
	}
	s.limiter.enforce.Store(true)
	qctx, stop := context.WithCancel(context.Background())
	s.mu.Lock()
	s.db, s.queryCtx = db, qctx
	s.mu.Unlock()
	s.log.Info("tsdb open", "dir", s.dir, "series", db.Head().NumSeries(),
		"retention", s.cfg.Retention.String(), "out_of_order_window", s.cfg.OutOfOrderWindow)
	close(s.ready)

	prune := time.NewTicker(devicePruneInterval)
	defer prune.Stop()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-prune.C:
			if n := s.devices.prune(dataMinTime(db)); n > 0 {
				s.log.Debug("device index: dropped series deleted by retention", "series", n)
			}
		}
	}
	stop() // cancel running queries so that the lock below is not held up
	s.mu.Lock()
	s.db = nil
	s.mu.Unlock()
	if err := db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	s.log.Info("tsdb closed")
	return nil
}

// devicePruneInterval is how often Run drops device index entries whose
// data retention has deleted (the TSDB checks retention every minute).
const devicePruneInterval = time.Minute

// rebuildDevices fills the device index from the freshly opened DB, before
// it is published: /api/v1/devices is complete as soon as Ready is closed.
// A storage error leaves the devices found so far (the others reappear with
// their next reading); only cancellation is returned.
func (s *Store) rebuildDevices(ctx context.Context, db *tsdb.DB) error {
	start := time.Now()
	ix, st, err := rebuildDevices(ctx, db)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	s.devices.adopt(ix)
	if err != nil {
		s.log.Error("device index rebuild incomplete", "err", err, "series", st.Series)
	}
	s.log.Info("device index rebuilt", "devices", s.devices.nDevices.Load(), "series", st.Series,
		"head_series", st.HeadSeries, "blocks", st.Blocks, "chunks_read", st.ChunksRead,
		"duration", time.Since(start).Round(time.Millisecond))
	return nil
}

func (s *Store) tsdbOptions() *tsdb.Options {
	o := tsdb.DefaultOptions()
	o.RetentionDuration = int64(s.cfg.Retention) / 1e6
	o.MaxBytes = s.cfg.RetentionSize
	// Like Prometheus: blocks are compacted up to 10% of the retention, at
	// most 31 days, so that old data is dropped in reasonable steps.
	o.MaxBlockDuration = 31 * 24 * time.Hour.Milliseconds()
	if r := o.RetentionDuration / 10; r > 0 && r < o.MaxBlockDuration {
		o.MaxBlockDuration = max(r, o.MinBlockDuration)
	}
	o.OutOfOrderTimeWindow = s.cfg.OutOfOrderWindow.Milliseconds()
	o.WALCompression = compression.None
	if s.cfg.WALCompression {
		o.WALCompression = compression.Snappy
	}
	o.SeriesLifecycleCallback = s.limiter
	// Full head chunks stay on the Go heap until the reload loop m-maps
	// them. Prometheus does that every minute; at 200,000 samples/s that
	// is ~100 MB of chunks. Every 5 s keeps it at a few MB; a reload costs
	// a directory listing.
	o.BlockReloadInterval = 5 * time.Second
	return o
}

// acquire returns the open DB with the read lock held; call release after.
func (s *Store) acquire() (*tsdb.DB, error) {
	s.mu.RLock()
	if s.db == nil {
		s.mu.RUnlock()
		return nil, ErrNotReady
	}
	return s.db, nil
}

func (s *Store) release() { s.mu.RUnlock() }

// errTooManySeries is returned by the head when the series guard refuses a
// new series.
var errTooManySeries = errors.New("too many series")

// seriesLimiter is the TSDB's series lifecycle callback: it counts head
// series and refuses to create new ones at the limit. It is not enforced
// while the WAL is replayed, so a lowered limit never drops stored data.
type seriesLimiter struct {
	max     int64
	n       atomic.Int64
	enforce atomic.Bool
}

func (l *seriesLimiter) PreCreation(labels.Labels) error {
	if l.enforce.Load() && l.n.Load() >= l.max {
		return errTooManySeries
	}
	return nil
}

func (l *seriesLimiter) PostCreation(labels.Labels) { l.n.Add(1) }

func (l *seriesLimiter) PostDeletion(m map[chunks.HeadSeriesRef]labels.Labels) {
	l.n.Add(-int64(len(m)))
}

// walSize sums the files under <dir>/wal (segments and checkpoints).
func walSize(dir string) float64 {
	var total int64
	_ = filepath.WalkDir(filepath.Join(dir, "wal"), func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			total += info.Size()
		}
		return nil
	})
	return float64(total)
}
