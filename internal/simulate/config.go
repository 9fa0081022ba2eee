// Package simulate is borda's device fleet simulator: it publishes the
// readings of simulated sensors, vehicles, status heartbeats and cameras to
// any MQTT broker at a given rate, with injected faults, and verifies
// afterwards what borda stored. It uses its own small MQTT 3.1.1 client so
// that the generator costs little CPU next to the broker it measures.
package simulate

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Profiles are the device mixes Config.Profile selects.
const (
	ProfileFactory  = "factory"  // machine and environment sensors, status heartbeats, a few cameras
	ProfileCity     = "city"     // environment sensors, cameras, vehicles, status heartbeats
	ProfileVehicles = "vehicles" // vehicles with status heartbeats
	ProfileMixed    = "mixed"    // every kind in equal parts
)

// Config describes one simulator run. Zero fields get the defaults noted.
type Config struct {
	Broker   string        // tcp://host:port or ssl://host:port (mqtt:// and mqtts:// too)
	Devices  int           // simulated devices; default 100
	Rate     float64       // total messages/s over all devices; 0 = as fast as possible
	Duration time.Duration // stop after this long (0 = no time limit, then Count must be > 0)
	Count    int64         // stop after this many messages in total (0 = no count limit)
	QoS      byte          // 0 or 1
	Conns    int           // MQTT connections the devices are spread over; default min(Devices, 8)

	Username, Password string

	CAFile             string // PEM file of the CAs that verify the broker (default: system pool)
	InsecureSkipVerify bool   // do not verify the broker's certificate
	ClientCert         string // PEM client certificate for mutual TLS (with ClientKey)
	ClientKey          string

	Profile       string  // factory (default), city, vehicles or mixed
	Seed          int64   // generators are deterministic for a given seed
	AnomalyRate   float64 // fraction of readings that are anomalies (spikes, drifts, stuck values)
	MalformedRate float64 // fraction of messages with a malformed payload
	SilentRate    float64 // fraction of devices that go silent part-way through the run

	ClientIDPrefix string // MQTT client ids are <prefix>-<n>; default "borda-sim"
	DevicePrefix   string // device ids are <prefix>-00042; default "sim"
	MaxInflight    int    // QoS 1 window of unacknowledged PUBLISHes per connection; default 100

	// AlertRate is the fraction of all readings forced over a seed alert
	// threshold (temperature > 80, pressure > 100, speed > 120), each one
	// starting a new alert episode (see alerts.go). 0 = none.
	AlertRate float64
	// ExpectAlerts subscribes to AlertFilter before publishing and matches
	// every alert received to the reading that should have raised it
	// (Report.Alerts): publish -> alert latency, missing and unexpected
	// alerts.
	ExpectAlerts bool
	AlertFilter  string        // default "alerts/#"
	AlertGrace   time.Duration // how long to wait for alerts after the run without a new one; default 2s
}

func (c *Config) applyDefaults() {
	if c.Devices == 0 {
		c.Devices = 100
	}
	if c.Conns == 0 {
		c.Conns = min(c.Devices, 8)
	}
	if c.Profile == "" {
		c.Profile = ProfileFactory
	}
	if c.ClientIDPrefix == "" {
		c.ClientIDPrefix = "borda-sim"
	}
	if c.DevicePrefix == "" {
		c.DevicePrefix = "sim"
	}
	if c.MaxInflight == 0 {
		c.MaxInflight = 100
	}
	if c.AlertFilter == "" {
		c.AlertFilter = DefaultAlertFilter
	}
	if c.AlertGrace == 0 {
		c.AlertGrace = DefaultAlertGrace
	}
}

// Validate fills in the defaults of zero fields, then reports every problem
// of the configuration, each naming its field.
func (c *Config) Validate() error {
	c.applyDefaults()
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if _, err := parseBroker(c.Broker); err != nil {
		add("%v", err)
	}
	if c.Devices < 1 || c.Devices > 1_000_000 {
		add("devices: %d is not within 1..1000000", c.Devices)
	}
	if c.Conns < 1 || c.Conns > c.Devices {
		add("conns: %d is not within 1..devices (%d)", c.Conns, c.Devices)
	}
	if c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) {
		add("rate: %v must be a finite number >= 0", c.Rate)
	}
	if c.Duration < 0 || c.Count < 0 {
		add("duration and count must not be negative")
	} else if c.Duration == 0 && c.Count == 0 {
		add("duration or count: one of them must be > 0 so that the run ends")
	}
	if c.QoS > 1 {
		add("qos: %d is not supported (0 or 1)", c.QoS)
	}
	switch c.Profile {
	case ProfileFactory, ProfileCity, ProfileVehicles, ProfileMixed:
	default:
		add("profile: %q is not one of factory, city, vehicles, mixed", c.Profile)
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"anomaly rate", c.AnomalyRate}, {"malformed rate", c.MalformedRate}, {"silent rate", c.SilentRate},
		{"alert rate", c.AlertRate}} {
		if !(r.v >= 0 && r.v <= 1) {
			add("%s: %v is not within 0..1", r.name, r.v)
		}
	}
	if (c.ClientCert == "") != (c.ClientKey == "") {
		add("client certificate and key must be given together")
	}
	if c.MaxInflight < 1 || c.MaxInflight > 65000 {
		add("max inflight: %d is not within 1..65000", c.MaxInflight)
	}
	if c.AlertRate > maxAlertRate {
		add("alert rate: %v is above %v (every forced reading must follow one under the threshold)", c.AlertRate, maxAlertRate)
	}
	if c.AlertGrace < 0 || c.AlertGrace > maxAlertGrace {
		add("alert grace: %v is not within 0..%v", c.AlertGrace, maxAlertGrace)
	}
	if err := validFilter(c.AlertFilter); err != nil {
		add("alert filter: %v", err)
	}
	if !validLevel(c.DevicePrefix) {
		add("device prefix: %q must not be empty or contain '/', '+', '#' or spaces", c.DevicePrefix)
	}
	if strings.ContainsAny(c.ClientIDPrefix, "\x00") {
		add("client id prefix: contains NUL")
	}
	return errors.Join(errs...)
}

func validLevel(s string) bool {
	return s != "" && !strings.ContainsAny(s, "/+#\x00 \"\\")
}
