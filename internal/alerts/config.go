package alerts

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// Config is the alerts section of borda.yaml: where alert events are
// recorded and how much work may wait for the slow outputs.
type Config struct {
	History HistoryConfig `yaml:"history"`
	// WebhookQueue bounds webhook deliveries waiting for a worker; past
	// it, deliveries are dropped and counted (output webhook).
	WebhookQueue int `yaml:"webhook_queue"`
	// HistoryQueue bounds alert events waiting to be written, per history
	// backend (embedded, and redis when configured).
	HistoryQueue int `yaml:"history_queue"`
	// WebhookAttempts is how many times one delivery is tried before it is
	// given up (counted as actions_total{type="webhook",result="gave_up"}).
	WebhookAttempts int `yaml:"webhook_attempts"`
	// WebhookWorkers is how many webhook deliveries run at once.
	WebhookWorkers int `yaml:"webhook_workers"`
	// WebhookBackoff is the wait before the second attempt; it doubles per
	// attempt (with jitter) up to 30s.
	WebhookBackoff time.Duration `yaml:"webhook_backoff"`
	// DrainTimeout bounds how long Run keeps delivering queued webhooks and
	// history writes after it is asked to stop.
	DrainTimeout time.Duration `yaml:"drain_timeout"`
}

// HistoryConfig configures the alert history. The embedded history
// (<data_dir>/alerts.db) is always kept and serves /api/v1/alerts; Redis
// is an additional output when redis.address is set.
type HistoryConfig struct {
	// TTL is how long an event is kept after it was recorded (the seed's
	// Redis SETEX 3600). Also the expiry of the Redis keys.
	TTL time.Duration `yaml:"ttl"`
	// MaxEntries bounds the embedded history; past it the oldest events
	// are evicted and counted.
	MaxEntries int         `yaml:"max_entries"`
	Redis      RedisConfig `yaml:"redis"`
}

// RedisConfig enables the Redis output when Address is set.
type RedisConfig struct {
	Address  string `yaml:"address"` // host:port; empty disables Redis
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	DB       int    `yaml:"db"`
	// Stream is the Redis stream holding the ordered history.
	Stream string `yaml:"stream"`
	// StreamMaxLen caps the stream (XADD MAXLEN ~).
	StreamMaxLen int64 `yaml:"stream_max_len"`
	// Timeout bounds connecting and each command, so that a Redis that is
	// down makes writes fail fast (they are retried from the queue).
	Timeout time.Duration `yaml:"timeout"`
}

// Defaults.
const (
	DefaultStream      = "borda:alerts"
	defaultWebhookWait = 5 * time.Second // a webhook action's timeout when unset
	maxWebhookBackoff  = 30 * time.Second
)

// DefaultConfig keeps alerts for an hour, like the seed's Redis cache.
func DefaultConfig() Config {
	return Config{
		History: HistoryConfig{
			TTL:        time.Hour,
			MaxEntries: 100000,
			Redis: RedisConfig{
				Stream:       DefaultStream,
				StreamMaxLen: 100000,
				Timeout:      time.Second,
			},
		},
		WebhookQueue:    1000,
		HistoryQueue:    10000,
		WebhookAttempts: 5,
		WebhookWorkers:  4,
		WebhookBackoff:  500 * time.Millisecond,
		DrainTimeout:    5 * time.Second,
	}
}

// Validate reports every problem, each prefixed with its field path.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	ints := []struct {
		name   string
		v, max int
	}{
		{"history.max_entries", c.History.MaxEntries, 1 << 30},
		{"webhook_queue", c.WebhookQueue, 1 << 24},
		{"history_queue", c.HistoryQueue, 1 << 24},
		{"webhook_attempts", c.WebhookAttempts, 100},
		{"webhook_workers", c.WebhookWorkers, 1024},
	}
	for _, f := range ints {
		if f.v < 1 || f.v > f.max {
			add("%s: %d is out of range 1..%d", f.name, f.v, f.max)
		}
	}
	durations := []struct {
		name string
		v    time.Duration
		min  time.Duration
	}{
		{"history.ttl", c.History.TTL, time.Second},
		{"webhook_backoff", c.WebhookBackoff, time.Millisecond},
		{"drain_timeout", c.DrainTimeout, 0},
	}
	for _, f := range durations {
		if f.v < f.min {
			add("%s: %s is less than %s", f.name, f.v, f.min)
		}
	}
	for _, err := range c.History.Redis.validate() {
		add("history.redis.%w", err)
	}
	return errors.Join(errs...)
}

func (r RedisConfig) validate() []error {
	if r.Address == "" {
		return nil
	}
	var errs []error
	if host, port, err := net.SplitHostPort(r.Address); err != nil || host == "" || port == "" {
		errs = append(errs, fmt.Errorf("address: %q is not host:port", r.Address))
	}
	if r.DB < 0 {
		errs = append(errs, fmt.Errorf("db: %d is negative", r.DB))
	}
	if r.Stream == "" {
		errs = append(errs, errors.New("stream: is required"))
	}
	if r.StreamMaxLen < 1 {
		errs = append(errs, fmt.Errorf("stream_max_len: %d is less than 1", r.StreamMaxLen))
	}
	if r.Timeout < time.Millisecond {
		errs = append(errs, fmt.Errorf("timeout: %s is less than 1ms", r.Timeout))
	}
	return errs
}
