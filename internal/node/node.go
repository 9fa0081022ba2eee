// Package node is the gateway's identity in a fleet: a name (the host name
// by default), an optional site and free labels. They appear in uplink
// topics ({node}, {site} templates), as external labels of remote_write and
// InfluxDB outputs, in the status and event topics and in the dashboard.
package node

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/borda-edge/borda/internal/telemetry"
)

// Config is the node section.
type Config struct {
	// Name identifies this gateway; empty: the host name.
	Name string `yaml:"name"`
	// Site groups gateways (plant, city, vehicle fleet); optional.
	Site string `yaml:"site"`
	// Labels are added to what the uplink outputs send, next to node and site.
	Labels map[string]string `yaml:"labels"`
}

// Validate names each bad key. Name and site become MQTT topic levels and
// label values: letters, digits, '.', '_' and '-'.
func (c Config) Validate() error {
	var errs []error
	if c.Name != "" && !validWord(c.Name) {
		errs = append(errs, fmt.Errorf("name: %q must be letters, digits, '.', '_' or '-'", c.Name))
	}
	if c.Site != "" && !validWord(c.Site) {
		errs = append(errs, fmt.Errorf("site: %q must be letters, digits, '.', '_' or '-'", c.Site))
	}
	for k, v := range c.Labels {
		switch {
		case telemetry.LabelName(k) != k || strings.HasPrefix(k, "__"):
			errs = append(errs, fmt.Errorf("labels: %q is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not __*)", k))
		case k == "node" || k == "site":
			errs = append(errs, fmt.Errorf("labels: %q is set by node.%s", k, k))
		case v == "":
			errs = append(errs, fmt.Errorf("labels: %q has an empty value", k))
		}
	}
	return errors.Join(errs...)
}

func validWord(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return s != ""
}

// Resolve fills in the name from the host name (characters outside the
// allowed set become '_'; "borda" when there is none).
func (c Config) Resolve() Config {
	if c.Name != "" {
		return c
	}
	h, _ := os.Hostname()
	h, _, _ = strings.Cut(h, ".") // short name
	c.Name = strings.Map(func(r rune) rune {
		if validWord(string(r)) {
			return r
		}
		return '_'
	}, h)
	if c.Name == "" {
		c.Name = "borda"
	}
	return c
}

// Expand replaces {node} and {site} in s.
func (c Config) Expand(s string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	return strings.NewReplacer("{node}", c.Name, "{site}", c.Site).Replace(s)
}

// ExternalLabels are node, site (when set) and the configured labels.
func (c Config) ExternalLabels() map[string]string {
	out := make(map[string]string, len(c.Labels)+2)
	for k, v := range c.Labels {
		out[k] = v
	}
	out["node"] = c.Name
	if c.Site != "" {
		out["site"] = c.Site
	}
	return out
}
