package telemetry

import "time"

// Alert states.
const (
	AlertFiring   = "firing"
	AlertResolved = "resolved"
)

// Alert severities (the rules' `severity:`).
const (
	SeverityCritical = "critical"
	SeverityWarning  = "warning"
	SeverityInfo     = "info"
)

// Alert is one alert event: a rule started firing for a series, or a
// firing alert resolved. The rules engine produces them; actions, history
// and the API consume them. JSON field names are the API's.
type Alert struct {
	// ID identifies one firing episode; its resolved event has the same ID.
	// It is unique (rule, series and the firing time in nanoseconds), so two
	// alerts in the same second never overwrite each other.
	ID       string `json:"id"`
	Rule     string `json:"rule"`
	Type     string `json:"type"` // e.g. HIGH_TEMPERATURE, DEVICE_OFFLINE
	Severity string `json:"severity"`
	State    string `json:"state"` // AlertFiring or AlertResolved
	// DeviceID is the device_id tag of the reading ("" if it has none).
	DeviceID string `json:"device_id"`
	// Series names the series in PromQL form, e.g.
	// sensors_temperature{device_id="s1",location="hall"}.
	Series string            `json:"series"`
	Labels map[string]string `json:"labels,omitempty"`
	// Value is the reading that fired (or resolved) the alert.
	Value          float64 `json:"value"`
	Message        string  `json:"message,omitempty"`
	RequiresAction bool    `json:"requires_action"`
	// FiredAt is when the alert started firing (the reading's time);
	// ResolvedAt is zero while it fires.
	FiredAt    time.Time `json:"fired_at"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	// Time is the time of the reading behind this event. Received is when
	// the reading reached borda, for latency measurement.
	Time     time.Time `json:"timestamp"`
	Received time.Time `json:"received,omitzero"`
}
