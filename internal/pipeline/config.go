package pipeline

import (
	"errors"
	"fmt"
	"strings"
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
		if !validFilter(f) {
			errs = append(errs, fmt.Errorf("subscriptions[%d]: %q is not a valid MQTT topic filter", i, f))
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

func validFilter(f string) bool {
	if f == "" {
		return false
	}
	levels := strings.Split(f, "/")
	for i, l := range levels {
		if strings.Contains(l, "#") && (l != "#" || i != len(levels)-1) {
			return false
		}
		if strings.Contains(l, "+") && l != "+" {
			return false
		}
	}
	return true
}

// matchFilter reports whether topic matches the MQTT filter. Topics that
// start with '$' match only filters that name that first level.
func matchFilter(filter, topic string) bool {
	if strings.HasPrefix(topic, "$") && (strings.HasPrefix(filter, "+") || strings.HasPrefix(filter, "#")) {
		return false
	}
	fl, tl := strings.Split(filter, "/"), strings.Split(topic, "/")
	for i, f := range fl {
		if f == "#" {
			return true
		}
		if i >= len(tl) || (f != "+" && f != tl[i]) {
			return false
		}
	}
	return len(fl) == len(tl)
}
