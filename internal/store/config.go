package store

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// Config is the store section of borda.yaml.
type Config struct {
	// Retention is how long samples are kept (Prometheus
	// --storage.tsdb.retention.time). Accepts Go durations and the
	// Prometheus units d, w, y (15d, 2w). 0 keeps data forever unless
	// retention_size applies.
	Retention Duration `yaml:"retention"`
	// RetentionSize bounds the on-disk size of the TSDB in bytes (Prometheus
	// --storage.tsdb.retention.size); the oldest blocks are removed first.
	// 0 means no size limit.
	RetentionSize int64 `yaml:"retention_size"`
	// OutOfOrderWindow accepts readings older than the newest sample of
	// their series as long as they are at most this much older than the
	// newest sample in the store. 0 refuses out-of-order readings.
	OutOfOrderWindow time.Duration `yaml:"out_of_order_window"`
	// MaxSeries is the cardinality guard: once the in-memory head holds this
	// many series, samples that would create a new series are refused
	// (reason too_many_series).
	MaxSeries int `yaml:"max_series"`
	// WALCompression compresses the write-ahead log (snappy).
	WALCompression bool `yaml:"wal_compression"`
	// QueryTimeout is the longest a PromQL query may run.
	QueryTimeout time.Duration `yaml:"query_timeout"`
	// MaxSamples bounds the samples one query may load into memory.
	MaxSamples int `yaml:"max_samples"`
	// LookbackDelta is how far back an instant vector selector looks for the
	// latest sample (Prometheus --query.lookback-delta).
	LookbackDelta time.Duration `yaml:"lookback_delta"`
	// SelfScrapeInterval is how often borda stores its own metrics here
	// (internal/selfscrape), labelled job="borda"; 0 turns it off.
	SelfScrapeInterval time.Duration `yaml:"self_scrape_interval"`
}

// DefaultConfig mirrors Prometheus' defaults, plus a 1h out-of-order window
// and a 100000 series guard suited to an edge gateway.
func DefaultConfig() Config {
	return Config{
		Retention:        Duration(15 * 24 * time.Hour),
		OutOfOrderWindow: time.Hour,
		MaxSeries:        100000,
		WALCompression:   true,
		QueryTimeout:     30 * time.Second,
		MaxSamples:       50000000,
		LookbackDelta:    5 * time.Minute,

		SelfScrapeInterval: 15 * time.Second,
	}
}

// Validate reports every problem, each prefixed with its field path.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Retention < 0 {
		add("retention: %s is negative", c.Retention)
	}
	if c.RetentionSize < 0 {
		add("retention_size: %d is negative", c.RetentionSize)
	}
	if c.OutOfOrderWindow < 0 {
		add("out_of_order_window: %s is negative", c.OutOfOrderWindow)
	}
	if c.OutOfOrderWindow%time.Millisecond != 0 {
		add("out_of_order_window: %s is not a whole number of milliseconds", c.OutOfOrderWindow)
	}
	if c.MaxSeries < 1 {
		add("max_series: %d must be at least 1", c.MaxSeries)
	}
	if c.QueryTimeout <= 0 {
		add("query_timeout: %s must be positive", c.QueryTimeout)
	}
	if c.MaxSamples < 1 {
		add("max_samples: %d must be at least 1", c.MaxSamples)
	}
	if c.LookbackDelta < time.Millisecond {
		add("lookback_delta: %s must be at least 1ms", c.LookbackDelta)
	}
	if c.SelfScrapeInterval != 0 && c.SelfScrapeInterval < 100*time.Millisecond {
		add("self_scrape_interval: %s must be 0 (off) or at least 100ms", c.SelfScrapeInterval)
	}
	return errors.Join(errs...)
}

// Duration is a time.Duration that also accepts the Prometheus units d, w
// and y in YAML (15d, 2w, 1y).
type Duration time.Duration

// String formats like Prometheus (15d rather than 360h0m0s).
func (d Duration) String() string {
	if d < 0 {
		return time.Duration(d).String()
	}
	return model.Duration(d).String()
}

// UnmarshalYAML accepts 90s, 1h30m, 15d, 2w, 1y.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a duration", n.Line)
	}
	if v, err := time.ParseDuration(n.Value); err == nil {
		*d = Duration(v)
		return nil
	}
	v, err := model.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (like 12h, 15d, 2w)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the Prometheus form.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }
