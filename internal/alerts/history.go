package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
)

// StateActive selects, in Filter.State, the alerts that are firing now:
// firing events with no later resolved event of the same ID.
const StateActive = "active"

// History stores alert events for a while and answers queries over them.
// Both implementations are safe for concurrent use.
type History interface {
	// Record stores one event, recorded now.
	Record(ctx context.Context, a telemetry.Alert) error
	// Query returns the retained events matching f, newest first.
	Query(ctx context.Context, f Filter) ([]telemetry.Alert, error)
	Close() error
}

// Filter selects alert events. Empty fields match everything.
type Filter struct {
	DeviceID string
	Type     string
	Severity string // compared case-insensitively
	// State is firing, resolved or active (StateActive).
	State string
	Rule  string
	// Since and Until bound the event's Time (the reading's), inclusive.
	Since, Until time.Time
	// Limit caps the result; 0 means no cap.
	Limit int
}

// entry is an event with the time borda took it for recording; TTL and
// ordering use that time, so a device with a wrong clock cannot make its
// alerts expire early or linger.
type entry struct {
	at    time.Time
	alert telemetry.Alert
	data  []byte // the alert's JSON, once encoded
}

// json returns the alert's JSON, encoding it on first use.
func (e *entry) json() ([]byte, error) {
	if e.data == nil {
		b, err := encodeAlert(&e.alert)
		if err != nil {
			return nil, err
		}
		e.data = b
	}
	return e.data, nil
}

// recorder is what the dispatcher's history workers write to.
type recorder interface {
	recordBatch(ctx context.Context, es []entry) error
}

// alertJSON is telemetry.Alert with a value that survives NaN and ±Inf
// (stored as null). Its JSON is a superset of the seed's alert message.
type alertJSON struct {
	telemetry.Alert
	Value *float64 `json:"value"`
}

func jsonAlert(a *telemetry.Alert) alertJSON {
	j := alertJSON{Alert: *a}
	if !math.IsNaN(a.Value) && !math.IsInf(a.Value, 0) {
		v := a.Value
		j.Value = &v
	}
	return j
}

func encodeAlert(a *telemetry.Alert) ([]byte, error) {
	b, err := json.Marshal(jsonAlert(a))
	if err != nil {
		return nil, fmt.Errorf("encode alert %q: %w", a.ID, err)
	}
	return b, nil
}

func decodeAlert(b []byte) (telemetry.Alert, error) {
	var j alertJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return telemetry.Alert{}, fmt.Errorf("decode alert: %w", err)
	}
	j.Alert.Value = math.NaN()
	if j.Value != nil {
		j.Alert.Value = *j.Value
	}
	return j.Alert, nil
}

// matches applies every field of f except State and Limit.
func (f *Filter) matches(a *telemetry.Alert) bool {
	switch {
	case f.DeviceID != "" && a.DeviceID != f.DeviceID,
		f.Type != "" && a.Type != f.Type,
		f.Severity != "" && !strings.EqualFold(a.Severity, f.Severity),
		f.Rule != "" && a.Rule != f.Rule,
		!f.Since.IsZero() && a.Time.Before(f.Since),
		!f.Until.IsZero() && a.Time.After(f.Until):
		return false
	}
	return true
}

// collector turns a newest-first walk over events into a query result:
// filters, drops duplicates (an event written twice by a retried batch),
// works out which firing events are still active, and applies the limit.
type collector struct {
	f        Filter
	seen     map[eventKey]struct{}
	resolved map[string]struct{} // IDs with a resolved event newer than the walk position
	out      []telemetry.Alert
}

type eventKey struct{ id, state string }

func newCollector(f Filter) *collector {
	return &collector{f: f, seen: map[eventKey]struct{}{}, resolved: map[string]struct{}{}}
}

// add takes the next (older) event and reports whether the result is full.
func (c *collector) add(a telemetry.Alert) (full bool) {
	k := eventKey{a.ID, a.State}
	if _, dup := c.seen[k]; dup {
		return false
	}
	c.seen[k] = struct{}{}
	if c.f.State == StateActive {
		if a.State == telemetry.AlertResolved {
			c.resolved[a.ID] = struct{}{}
			return false
		}
		if _, done := c.resolved[a.ID]; done || a.State != telemetry.AlertFiring {
			return false
		}
	} else if c.f.State != "" && a.State != c.f.State {
		return false
	}
	if !c.f.matches(&a) {
		return false
	}
	c.out = append(c.out, a)
	return c.f.Limit > 0 && len(c.out) >= c.f.Limit
}

func (c *collector) result() []telemetry.Alert {
	if c.out == nil {
		return []telemetry.Alert{}
	}
	return c.out
}

// validState reports whether s is a Filter.State value.
func validState(s string) bool {
	switch s {
	case "", telemetry.AlertFiring, telemetry.AlertResolved, StateActive:
		return true
	}
	return false
}
