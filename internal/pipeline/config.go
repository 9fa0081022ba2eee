package pipeline

import (
	"errors"
	"fmt"

	"github.com/borda-edge/borda/internal/ingest"
)

// Config is the ingest section's pipeline settings (`ingest:` in borda.yaml,
// next to the topic mappings).
type Config struct {
	// Subscriptions are the MQTT topic filters whose messages are ingested.
	Subscriptions []string `yaml:"subscriptions"`
	// QueueSize bounds messages waiting to be stored.
	QueueSize int `yaml:"queue_size"`
	// MaxBatch bounds the points appended to storage in one batch.
	MaxBatch int `yaml:"max_batch"`
	// QoS0Overflow says what happens to a QoS 0 reading when the queue is
	// full: "block" slows the publisher down (default), "drop" discards
	// the reading and counts it. QoS 1/2 readings always block.
	QoS0Overflow string `yaml:"qos0_overflow"`
}

// Overflow policies.
const (
	OverflowBlock = "block"
	OverflowDrop  = "drop"
)

// DefaultConfig ingests the convention's topics: <device_type>/<device_id>/<metric>.
func DefaultConfig() Config {
	return Config{
		Subscriptions: []string{"+/+/+"},
		QueueSize:     10000,
		MaxBatch:      5000,
		QoS0Overflow:  OverflowBlock,
	}
}

// Validate reports problems with field paths.
func (c Config) Validate() error {
	var errs []error
	for i, f := range c.Subscriptions {
		if _, err := ingest.ParseFilters([]string{f}); err != nil {
			errs = append(errs, fmt.Errorf("subscriptions[%d]: %w", i, err))
		}
	}
	if c.QueueSize < 1 {
		errs = append(errs, fmt.Errorf("queue_size: %d must be at least 1", c.QueueSize))
	}
	if c.MaxBatch < 1 {
		errs = append(errs, fmt.Errorf("max_batch: %d must be at least 1", c.MaxBatch))
	}
	if c.QoS0Overflow != OverflowBlock && c.QoS0Overflow != OverflowDrop {
		errs = append(errs, fmt.Errorf("qos0_overflow: %q is not one of block, drop", c.QoS0Overflow))
	}
	return errors.Join(errs...)
}
