package queue

import (
	"errors"
	"fmt"
	"time"
)

// Config bounds one output's queue.
type Config struct {
	MaxBytes int64         `yaml:"max_bytes"` // stored bytes (keys+values) above which the oldest entries are dropped
	MaxAge   time.Duration `yaml:"max_age"`   // entries appended longer ago are dropped
	Fsync    bool          `yaml:"fsync"`     // fsync every commit (survives power loss, not only a process kill)
}

// DefaultConfig is 1 GiB, 7 days, fsync on.
func DefaultConfig() Config {
	return Config{MaxBytes: 1 << 30, MaxAge: 7 * 24 * time.Hour, Fsync: true}
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
