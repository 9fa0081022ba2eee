package netmon

import (
	"fmt"
	"time"
)

// EventKind says what happened.
type EventKind string

// Event kinds.
const (
	LinkUp         EventKind = "link_up"          // interface up with carrier
	LinkDown       EventKind = "link_down"        // interface down or without carrier
	LinkMissing    EventKind = "link_missing"     // interface does not exist (reported once per disappearance)
	Reachable      EventKind = "reachable"        // probes through the uplink succeed again
	Unreachable    EventKind = "unreachable"      // fail_rounds/fail_after of failed probes
	LatencyHigh    EventKind = "latency_high"     // average latency above latency_warning
	LatencyNormal  EventKind = "latency_normal"   // back below it
	Failover       EventKind = "failover"         // the active uplink changed (From empty at start)
	Offline        EventKind = "offline"          // no uplink is healthy
	Online         EventKind = "online"           // some uplink is healthy again
	RouteError     EventKind = "route_error"      // the default route could not be written
	ResourceHigh   EventKind = "resource_high"    // CPU, memory, disk or a thermal zone above its threshold
	ResourceNormal EventKind = "resource_normal"  // back at or below it
	RecoveryRun    EventKind = "recovery"         // the recovery command is started (Reason says why)
	RecoveryFailed EventKind = "recovery_failed"  // it exited non-zero or timed out
	RecoveryGaveUp EventKind = "recovery_gave_up" // max_attempts reached in this outage
)

// Event is one change, passed to Deps.OnEvent.
type Event struct {
	Time    time.Time     `json:"time"`
	Kind    EventKind     `json:"kind"`
	Uplink  string        `json:"uplink,omitempty"`
	From    string        `json:"from,omitempty"` // Failover
	To      string        `json:"to,omitempty"`   // Failover
	Latency time.Duration `json:"latency,omitempty"`
	Reason  string        `json:"reason,omitempty"`
	// ResourceHigh/Normal: Resource is cpu, memory, disk or temperature
	// (Uplink then names the thermal zone); Value and Threshold are
	// percent or °C.
	Resource  string  `json:"resource,omitempty"`
	Value     float64 `json:"value,omitempty"`
	Threshold float64 `json:"threshold,omitempty"`
}

func (e Event) String() string {
	switch e.Kind {
	case Failover:
		return fmt.Sprintf("failover %q -> %q (%s)", e.From, e.To, e.Reason)
	case ResourceHigh, ResourceNormal:
		return fmt.Sprintf("%s %s%s %.1f (threshold %.1f)", e.Kind, e.Resource, e.Uplink, e.Value, e.Threshold)
	case LatencyHigh, LatencyNormal:
		return fmt.Sprintf("%s %s %s", e.Kind, e.Uplink, e.Latency)
	}
	if e.Reason != "" {
		return fmt.Sprintf("%s %s: %s", e.Kind, e.Uplink, e.Reason)
	}
	return fmt.Sprintf("%s %s", e.Kind, e.Uplink)
}
