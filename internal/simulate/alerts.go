package simulate

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults and bounds of the alert options of Config.
const (
	DefaultAlertFilter = "alerts/#"
	DefaultAlertGrace  = 2 * time.Second
	maxAlertGrace      = time.Minute
	// maxAlertRate bounds Config.AlertRate: a forced reading must follow a
	// reading under the threshold to start a new episode, so at most every
	// other reading of a series can be forced.
	maxAlertRate = 0.5
	// alertWaitLimit bounds the wait for outstanding alerts after a run,
	// however long they keep trickling in.
	alertWaitLimit = time.Minute
	// missingSample is how many missing alerts the report lists.
	missingSample = 10
)

// ruleID identifies one of the seed's alert rules.
type ruleID uint8

const (
	ruleTemperature ruleID = iota
	rulePressure
	ruleSpeed
	numRules
	noRule ruleID = 255
)

// seedRule is one of the seed collector's real-time alerts, which borda
// ships as its default rules: the alert fires on the first reading of a
// series that meets the condition (field > threshold), sends nothing more
// while the condition holds, and resolves on the first reading that does
// not meet it. There is no `for:` and no cooldown.
type seedRule struct {
	Type      string   // the alert's "type"
	aliases   []string // other type names accepted for it
	typ       string   // topic <typ>/<device id>/<metric>
	metric    string
	field     string // the payload member compared (and reported as the alert's "value")
	threshold float64
}

var seedRules = [numRules]seedRule{
	ruleTemperature: {Type: "HIGH_TEMPERATURE", typ: "sensors", metric: "temperature", field: "value", threshold: 80},
	rulePressure:    {Type: "HIGH_PRESSURE", typ: "sensors", metric: "pressure", field: "value", threshold: 100},
	ruleSpeed: {Type: "OVERSPEED", aliases: []string{"SPEEDING"}, typ: "vehicles", metric: "location",
		field: "speed", threshold: 120},
}

// rulesByType maps every accepted alert type to its rule.
var rulesByType = func() map[string]ruleID {
	m := map[string]ruleID{}
	for i, r := range seedRules {
		m[r.Type] = ruleID(i)
		for _, a := range r.aliases {
			m[a] = ruleID(i)
		}
	}
	return m
}()

// ruleFor returns the seed rule watching topic <typ>/<id>/<metric>.
func ruleFor(typ, metric string) ruleID {
	for i, r := range seedRules {
		if r.typ == typ && r.metric == metric {
			return ruleID(i)
		}
	}
	return noRule
}

// edgeKind is what a reading does to the alert of its series.
type edgeKind uint8

const (
	edgeNone     edgeKind = iota
	edgeFiring            // the condition starts to hold: the alert fires
	edgeResolved          // the condition stops holding: the alert resolves
)

// alertEdge describes the alert event the last reading of a device should
// raise.
type alertEdge struct {
	kind   edgeKind
	rule   ruleID
	forced bool    // the reading was forced over the threshold (AlertRate)
	ts     int64   // the reading's "ts" (Unix ms): the alert's "timestamp"
	value  float64 // the tracked value: the alert's "value"
}

// checkRule applies the series' seed rule to reading v (its tracked
// value) at ts: it forces the reading over the threshold when AlertRate
// says so, and records in d.edge whether the reading fires or resolves the
// alert. It returns the (possibly forced) value.
func (d *device) checkRule(s *series, v float64, ts int64) float64 {
	rule := &seedRules[s.rule]
	forced := false
	if d.alertQ > 0 {
		s.force = min(s.force+d.alertQ, 2)
		if s.force >= 1 && !s.over {
			s.force--
			v, forced = forcedValue(d.rng, &s.proc, rule.threshold), true
		}
	}
	met := v > rule.threshold
	switch {
	case met && !s.over:
		d.edge = alertEdge{kind: edgeFiring, rule: s.rule, forced: forced, ts: ts, value: v}
	case !met && s.over:
		d.edge = alertEdge{kind: edgeResolved, rule: s.rule, ts: ts, value: v}
	}
	s.over = met
	return v
}

// forcedValue is a reading over the threshold: a value in the process's
// spike range (which lies above it).
func forcedValue(r *rand.Rand, p *process, threshold float64) float64 {
	v := round(p.spikeLo+r.Float64()*p.spike, p.decimals)
	if v <= threshold {
		v = math.Floor(threshold) + 1
	}
	return v
}

// setAlertRate makes a fraction rate of all readings forced alert
// readings: per reading of a rule series the probability is rate divided
// by the share of readings on rule series. Forced readings are spread
// evenly: each series accumulates the probability from its own phase (a
// low-discrepancy sequence, so series do not fire in step) and forces a
// reading when it reaches 1 and the previous reading was under the
// threshold.
func setAlertRate(devs []*device, rate float64) {
	if rate <= 0 || len(devs) == 0 {
		return
	}
	var share float64
	for _, d := range devs {
		n := 0
		for _, s := range d.series {
			if s.rule != noRule {
				n++
			}
		}
		share += float64(n) / float64(len(d.series))
	}
	share /= float64(len(devs))
	if share == 0 {
		return
	}
	const phi = 0.6180339887498949 // golden ratio - 1
	k := 0
	for _, d := range devs {
		d.alertQ = rate / share
		for j := range d.series {
			k++
			_, d.series[j].force = math.Modf(float64(k) * phi)
		}
	}
}

// AlertReport is what Run saw on the alert topic with Config.ExpectAlerts:
// each alert event of the seed rules for this run's devices matched to the
// reading that should have raised it by (device_id, type, timestamp).
type AlertReport struct {
	Filter string `json:"filter"` // the subscription (Config.AlertFilter)
	QoS    byte   `json:"qos"`    // the subscription's QoS granted by the broker
	Forced int64  `json:"forced"` // readings forced over a threshold by AlertRate (each one expected to fire)

	AlertCounts             // firing events: Latency is publish -> alert received
	Resolved    AlertCounts `json:"resolved"` // resolved events: Latency is publish of the resolving reading -> event received

	WrongValue int64 `json:"wrong_value"` // matched events whose "value" is not the reading's
	Ignored    int64 `json:"ignored"`     // events of other devices (not DevicePrefix) or of types the seed rules do not raise
	Invalid    int64 `json:"invalid"`     // messages on the filter that are not alert JSON

	MissingByType map[string]int64 `json:"missing_by_type,omitempty"` // firing and resolved events never received, by type
	MissingSample []string         `json:"missing_sample,omitempty"`  // the first few of them, oldest first
}

// AlertCounts are the expected and received events of one state.
type AlertCounts struct {
	Expected   int64       `json:"expected"`   // readings that should raise the event
	Received   int64       `json:"received"`   // events received and matched to their reading
	Missing    int64       `json:"missing"`    // expected but not received within the grace period: a failure
	Unexpected int64       `json:"unexpected"` // events of this run's devices matching no expected reading (duplicates included)
	Latency    Percentiles `json:"latency"`    // publish of the reading -> event received
}

// OK reports whether every expected event, firing and resolved, was
// received.
func (a *AlertReport) OK() bool { return a.Missing == 0 && a.Resolved.Missing == 0 }

// alertKey identifies an expected alert event.
type alertKey struct {
	device   string
	ts       int64 // Unix ms of the reading
	rule     ruleID
	resolved bool
}

type expectation struct {
	sentNs int64
	value  float64
}

// alertMatcher keeps the alert events a run expects until they arrive.
// Senders add expectations before the reading is written, so an event can
// never arrive before its expectation. Memory is bounded by the events
// outstanding, not by the run's length.
type alertMatcher struct {
	prefix string // DevicePrefix + "-"

	mu      sync.Mutex
	pending map[alertKey]expectation
	counts  [2]struct{ expected, received, unexpected int64 } // [0] firing, [1] resolved
	lat     [2]histogram
	forced  int64
	wrong   int64
	ignored int64
	invalid int64
	lastAt  time.Time // when an event last matched
}

func newAlertMatcher(devicePrefix string) *alertMatcher {
	return &alertMatcher{prefix: devicePrefix + "-", pending: map[alertKey]expectation{}}
}

func stateIndex(resolved bool) int {
	if resolved {
		return 1
	}
	return 0
}

// expect records the event the device's last reading, sent at sentNs,
// should raise.
func (m *alertMatcher) expect(d *device, sentNs int64) {
	e := d.edge
	k := alertKey{device: d.id, ts: e.ts, rule: e.rule, resolved: e.kind == edgeResolved}
	m.mu.Lock()
	m.pending[k] = expectation{sentNs: sentNs, value: e.value}
	m.counts[stateIndex(k.resolved)].expected++
	if e.forced {
		m.forced++
	}
	m.mu.Unlock()
}

// alertMessage is the part of borda's alert JSON (alerts.DefaultPayload)
// that identifies an event.
type alertMessage struct {
	Timestamp string   `json:"timestamp"`
	Type      string   `json:"type"`
	DeviceID  string   `json:"device_id"`
	Value     *float64 `json:"value"`
	State     string   `json:"state"`
}

// errNotAlert marks a message that is not alert JSON.
var errNotAlert = errors.New("not an alert")

// parseAlert decodes an alert event: its device, rule type name, reading
// time (Unix ms), value and whether it is a resolved event. A missing
// "state" is a firing event (the seed's alert JSON has none).
func parseAlert(payload []byte) (msg alertMessage, ts int64, resolved bool, err error) {
	if err := json.Unmarshal(payload, &msg); err != nil {
		return msg, 0, false, fmt.Errorf("%w: %v", errNotAlert, err)
	}
	if msg.Type == "" || msg.DeviceID == "" || msg.Timestamp == "" {
		return msg, 0, false, fmt.Errorf("%w: type, device_id or timestamp missing", errNotAlert)
	}
	t, err := time.Parse(time.RFC3339Nano, msg.Timestamp)
	if err != nil {
		return msg, 0, false, fmt.Errorf("%w: timestamp: %v", errNotAlert, err)
	}
	switch msg.State {
	case "", "firing":
	case "resolved":
		resolved = true
	default:
		return msg, 0, false, fmt.Errorf("%w: state %q", errNotAlert, msg.State)
	}
	return msg, t.UnixMilli(), resolved, nil
}

// receive matches one message received on the alert filter at nowNs.
func (m *alertMatcher) receive(payload []byte, nowNs int64) {
	msg, ts, resolved, err := parseAlert(payload)
	rule, known := rulesByType[msg.Type]
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case err != nil:
		m.invalid++
		return
	case !known || !strings.HasPrefix(msg.DeviceID, m.prefix):
		m.ignored++
		return
	}
	i := stateIndex(resolved)
	k := alertKey{device: msg.DeviceID, ts: ts, rule: rule, resolved: resolved}
	e, ok := m.pending[k]
	if !ok {
		m.counts[i].unexpected++
		return
	}
	delete(m.pending, k)
	m.counts[i].received++
	m.lat[i].record(nowNs - e.sentNs)
	if msg.Value == nil || math.Abs(*msg.Value-e.value) > 1e-9*max(1, math.Abs(e.value)) {
		m.wrong++
	}
	m.lastAt = time.Unix(0, nowNs)
}

// progress returns the firing events received and expected so far.
func (m *alertMatcher) progress() (received, expected int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts[0].received, m.counts[0].expected
}

// wait waits until every expected event has arrived, no event matched for
// grace (counted from the call), the subscription ends (done closed) or
// alertWaitLimit passes. Once ctx is done it waits at most grace in all.
func (m *alertMatcher) wait(ctx context.Context, done <-chan struct{}, grace time.Duration) {
	start := time.Now()
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		m.mu.Lock()
		n, last := len(m.pending), m.lastAt
		m.mu.Unlock()
		now := time.Now()
		limit := start.Add(alertWaitLimit)
		if ctx.Err() != nil {
			limit = start.Add(grace)
		}
		if n == 0 || now.Sub(later(start, last)) >= grace || now.After(limit) {
			return
		}
		select {
		case <-done:
			return
		case <-t.C:
		}
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// report summarises what was expected and received; what is still
// pending is missing.
func (m *alertMatcher) report(filter string, qos byte) AlertReport {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := AlertReport{Filter: filter, QoS: qos, Forced: m.forced, WrongValue: m.wrong, Ignored: m.ignored, Invalid: m.invalid}
	for i, c := range []*AlertCounts{&r.AlertCounts, &r.Resolved} {
		c.Expected, c.Received, c.Unexpected = m.counts[i].expected, m.counts[i].received, m.counts[i].unexpected
		c.Latency = m.lat[i].percentiles()
	}
	if len(m.pending) == 0 {
		return r
	}
	keys := make([]alertKey, 0, len(m.pending))
	r.MissingByType = map[string]int64{}
	for k := range m.pending {
		keys = append(keys, k)
		r.MissingByType[seedRules[k.rule].Type]++
		if k.resolved {
			r.Resolved.Missing++
		} else {
			r.Missing++
		}
	}
	slices.SortFunc(keys, func(a, b alertKey) int {
		return cmp.Or(cmp.Compare(a.ts, b.ts), strings.Compare(a.device, b.device), cmp.Compare(a.rule, b.rule))
	})
	for _, k := range keys[:min(len(keys), missingSample)] {
		state := "firing"
		if k.resolved {
			state = "resolved"
		}
		r.MissingSample = append(r.MissingSample, fmt.Sprintf("%s %s %s at %s", state, seedRules[k.rule].Type, k.device,
			time.UnixMilli(k.ts).UTC().Format("2006-01-02T15:04:05.000Z07:00")))
	}
	return r
}

// validFilter checks an MQTT topic filter.
func validFilter(f string) error {
	if f == "" || len(f) > 65535 {
		return errors.New("must be 1..65535 bytes")
	}
	if strings.ContainsRune(f, 0) {
		return errors.New("contains NUL")
	}
	levels := strings.Split(f, "/")
	for i, l := range levels {
		if strings.Contains(l, "#") && (l != "#" || i != len(levels)-1) {
			return fmt.Errorf("%q: '#' must be the whole last level", f)
		}
		if strings.Contains(l, "+") && l != "+" {
			return fmt.Errorf("%q: '+' must be a whole level", f)
		}
	}
	return nil
}
