package queue

import (
	"errors"
	"fmt"
	"time"
)

// Config bounds one output's queue.
//
// Fsync off (the default, like the broker's persistence): an appended
// entry is in the page cache when Append returns, so it survives a crash
// of borda (kill -9) but not of the host (power loss, kernel crash),
// which may lose the last seconds of appends and acks; a torn tail is cut
// off at Open, nothing before it is lost. Fsync on: every group commit is
// flushed to the disk (fdatasync) before Append returns.
type Config struct {
	MaxBytes int64         `yaml:"max_bytes"` // stored bytes (entries' frames) above which the oldest entries are dropped
	MaxAge   time.Duration `yaml:"max_age"`   // entries appended longer ago are dropped
	Fsync    bool          `yaml:"fsync"`     // flush every group commit to the disk (survives power loss, not only a crash of borda)
}

// DefaultConfig is 1 GiB, 7 days, fsync off.
func DefaultConfig() Config {
	return Config{MaxBytes: 1 << 30, MaxAge: 7 * 24 * time.Hour}
}

// Validate reports every invalid field.
func (c Config) Validate() error {
	var errs []error
	if c.MaxBytes <= 0 {
		errs = append(errs, fmt.Errorf("max_bytes: must be > 0, got %d", c.MaxBytes))
	}
	if c.MaxAge <= 0 {
		errs = append(errs, fmt.Errorf("max_age: must be > 0, got %s", c.MaxAge))
	}
	return errors.Join(errs...)
}
