// Package rules is borda's real-time rules engine: every reading that
// matches a rule is evaluated inline, on the publisher's goroutine, against
// the rule's compiled condition (github.com/expr-lang/expr) with per-series
// helpers (previous value, delta, rate, rolling windows, EWMA z-score,
// median/MAD score, stuck sensor) and the for/clear/cooldown lifecycle.
// Device-silent rules are checked by Run. Alert events go to a Notifier
// (internal/alerts), which runs the actions and keeps the history.
package rules

import (
	"time"

	"github.com/borda-edge/borda/internal/alerts"
)

// Config is the rules section of borda.yaml.
type Config struct {
	// Rules are evaluated in order; every rule whose match matches a
	// reading is evaluated for it.
	Rules []Rule `yaml:"rules"`
	// File is an optional YAML file with a top-level `rules:` list,
	// appended to Rules. It is read again on every reload.
	File string `yaml:"file"`
	// DefaultActions are the actions of rules without `actions:`.
	// Default: alerts.DefaultActions() (publish to alerts/critical, QoS 2).
	DefaultActions []alerts.ActionSpec `yaml:"default_actions"`
	// MaxSeriesPerRule bounds the series (label sets) one rule tracks.
	// Readings of further series are not evaluated by that rule and are
	// counted in borda_rules_series_dropped_total.
	MaxSeriesPerRule int `yaml:"max_series_per_rule"`
}

// Rule is one alert rule.
type Rule struct {
	// Name identifies the rule (metrics, alert IDs, reload); unique.
	Name string `yaml:"name"`
	// Type is the alert type, e.g. HIGH_TEMPERATURE. Default: Name in
	// upper snake case, or DEVICE_OFFLINE for a silent rule.
	Type string `yaml:"type"`
	// Severity is critical, warning (default) or info.
	Severity string `yaml:"severity"`
	// Match selects the readings the rule evaluates.
	Match Match `yaml:"match"`
	// Field is the field that `value` and the history helpers track.
	// Default: value.
	Field string `yaml:"field"`
	// Condition is an expr expression that fires the alert when true.
	Condition string `yaml:"condition"`
	// Clear, when set, resolves a firing alert when true (hysteresis);
	// without it the alert resolves when Condition is false.
	Clear string `yaml:"clear"`
	// For is how long Condition must hold (on every reading, by reading
	// time) before the alert fires.
	For time.Duration `yaml:"for"`
	// Cooldown suppresses a new firing of the same series within Cooldown
	// of its previous firing.
	Cooldown time.Duration `yaml:"cooldown"`
	// Silent makes this a device-silent rule: no matching reading of a
	// series for this long fires (type DEVICE_OFFLINE by default); the next
	// reading resolves it. Condition and Clear must be empty.
	Silent time.Duration `yaml:"silent"`
	// EWMAAlpha is the smoothing factor of zscore() (0 < alpha <= 1).
	// Default 0.1.
	EWMAAlpha float64 `yaml:"ewma_alpha"`
	// RequiresAction is copied into the alert (the seed's requires_action).
	RequiresAction bool `yaml:"requires_action"`
	// Message is free text copied into the alert.
	Message string `yaml:"message"`
	// Actions run for the rule's alert events. Absent: the section's
	// default_actions; an empty list (`actions: []`): none (history only).
	Actions []alerts.ActionSpec `yaml:"actions"`
}

// Match selects readings. All given parts must match; at least one of
// Topic and Measurement is required.
type Match struct {
	// Topic is an MQTT topic filter (+ and # wildcards) on the topic the
	// reading was published to.
	Topic string `yaml:"topic"`
	// Measurement is the reading's measurement, exactly
	// (e.g. sensors_temperature).
	Measurement string `yaml:"measurement"`
	// Tags are exact tag values; a value may start with an operator:
	// "=~re" (regular expression, anchored), "!~re", "!=value". A missing
	// tag has the value "".
	Tags map[string]string `yaml:"tags"`
}

// Severities accepted in Rule.Severity.
const (
	SeverityCritical = "critical"
	SeverityWarning  = "warning"
	SeverityInfo     = "info"
)

// TypeDeviceOffline is the default alert type of silent rules.
const TypeDeviceOffline = "DEVICE_OFFLINE"

// Limits.
const (
	// MaxWindow is the largest count window (mean(10000)) and the most
	// readings a duration window keeps per series.
	MaxWindow = 10000
	// MaxWindowDuration is the longest duration window or stuck() span.
	MaxWindowDuration = 7 * 24 * time.Hour
	// MaxExpressionLength bounds condition and clear, in bytes.
	MaxExpressionLength = 4096
	// DefaultEWMAAlpha is the zscore() smoothing factor when a rule sets none.
	DefaultEWMAAlpha = 0.1
	// DefaultMaxSeriesPerRule is the default of max_series_per_rule.
	DefaultMaxSeriesPerRule = 10000
	// MinSilent is the shortest silent duration.
	MinSilent = time.Second
)

// DefaultConfig has no rules (see SeedRules for the seed's three), the
// default actions and the default series bound.
func DefaultConfig() Config {
	return Config{
		DefaultActions:   alerts.DefaultActions(),
		MaxSeriesPerRule: DefaultMaxSeriesPerRule,
	}
}

// Validate reports every problem, each prefixed with its path, e.g.
// `rules[2].condition: ...`. Rules from File are read and checked too;
// their problems are prefixed with `file: <path>:<line>: rules[i]...`.
// Conditions are compiled, so expression errors (with their position) are
// reported here.
func (c Config) Validate() error {
	_, err := compileConfig(c)
	return err
}
