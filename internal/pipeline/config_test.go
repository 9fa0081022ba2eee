package pipeline

import (
	"testing"

	"github.com/borda-edge/borda/internal/ingest"
)

func TestMatchFilter(t *testing.T) {
	tests := []struct {
		filter, topic string
		want          bool
	}{
		{"+/+/+", "sensors/s1/temperature", true},
		{"+/+/+", "sensors/s1", false},
		{"+/+/+", "a/b/c/d", false},
		{"sensors/#", "sensors", true},
		{"sensors/#", "sensors/s1/temperature", true},
		{"sensors/+/temperature", "sensors/s1/humidity", false},
		{"#", "anything/at/all", true},
		{"#", "$SYS/broker/uptime", false},
		{"+/+/+", "$SYS/broker/uptime", false},
		{"$SYS/#", "$SYS/broker/uptime", true},
		{"a//b", "a//b", true},
		{"a/+/b", "a//b", true},
	}
	for _, tt := range tests {
		fs, err := ingest.ParseFilters([]string{tt.filter})
		if err != nil {
			t.Fatal(err)
		}
		if got := fs.Match(tt.topic); got != tt.want {
			t.Errorf("matchFilter(%q, %q) = %v, want %v", tt.filter, tt.topic, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		edit func(*Config)
		want string
	}{
		{func(*Config) {}, ""},
		{func(c *Config) { c.Subscriptions = []string{"a/#/b"} }, `subscriptions[0]: "a/#/b" is not a valid MQTT topic filter`},
		{func(c *Config) { c.Subscriptions = []string{"a/b+"} }, `subscriptions[0]: "a/b+" is not a valid MQTT topic filter`},
		{func(c *Config) { c.QueueSize = 0 }, "queue_size: 0 must be at least 1"},
		{func(c *Config) { c.MaxBatch = -1 }, "max_batch: -1 must be at least 1"},
		{func(c *Config) { c.QoS0Overflow = "spill" }, `qos0_overflow: "spill" is not one of block, drop`},
	}
	for _, tt := range tests {
		c := DefaultConfig()
		tt.edit(&c)
		got := ""
		if err := c.Validate(); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("Validate() = %q, want %q", got, tt.want)
		}
	}
}
