// Package uplink runs borda's store-and-forward outputs: MQTT bridges to
// cloud brokers (mqttbridge) fed by the local broker, and HTTP outputs fed
// by the ingest pipeline. Each output has its own durable queue in the
// data directory (queue).
package uplink

import (
	"errors"
	"fmt"

	"github.com/borda-edge/borda/internal/uplink/influx"
	"github.com/borda-edge/borda/internal/uplink/mqttbridge"
	"github.com/borda-edge/borda/internal/uplink/remotewrite"
)

// Config is the uplink section of borda.yaml: every output is a list, so
// each kind can be configured more than once. Output names are unique
// across kinds (they name the queue file and the metrics' output label).
type Config struct {
	MQTT        []mqttbridge.Config  `yaml:"mqtt"`
	InfluxDB    []influx.Config      `yaml:"influxdb"`
	RemoteWrite []remotewrite.Config `yaml:"remote_write"`
}

// Validate checks every output and the uniqueness of names; each problem
// is prefixed with its path, e.g. mqtt[1]: address "x": ...
func (c Config) Validate() error {
	var errs []error
	seen := map[string]string{}
	name := func(path, n string) {
		if n == "" {
			return
		}
		if prev, dup := seen[n]; dup {
			errs = append(errs, fmt.Errorf("%s: name %q is already used by %s", path, n, prev))
			return
		}
		seen[n] = path
	}
	check := func(path, n string, err error) {
		name(path, n)
		for _, err := range unjoin(err) {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
		}
	}
	for i, m := range c.MQTT {
		check(fmt.Sprintf("mqtt[%d]", i), m.Name, m.Validate())
	}
	for i, o := range c.InfluxDB {
		check(fmt.Sprintf("influxdb[%d]", i), o.Name, o.Validate())
	}
	for i, o := range c.RemoteWrite {
		check(fmt.Sprintf("remote_write[%d]", i), o.Name, o.Validate())
	}
	return errors.Join(errs...)
}

// unjoin splits an errors.Join result so each problem gets its own prefix.
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
