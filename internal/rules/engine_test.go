package rules

import (
	"context"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/borda-edge/borda/internal/alerts"
	"github.com/borda-edge/borda/internal/telemetry"
)

// TestMain checks that no test leaves a goroutine behind (Run included).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type harness struct {
	t   *testing.T
	e   *Engine
	rec *recorder
	reg *prometheus.Registry
	now time.Time
	mu  sync.Mutex
}

func newHarness(t *testing.T, rules ...Rule) *harness {
	t.Helper()
	h := &harness{t: t, rec: &recorder{}, reg: prometheus.NewRegistry(), now: t0}
	cfg := DefaultConfig()
	cfg.Rules = rules
	e, err := New(cfg, Deps{Registry: h.reg, Notifier: h.rec, Now: h.clock})
	if err != nil {
		t.Fatal(err)
	}
	h.e = e
	return h
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

// send evaluates one convention reading sensors/<device>/temperature.
func (h *harness) send(device string, at time.Duration, v float64) {
	st := step{Device: device, At: at, Value: &v}
	topic, p := st.point()
	h.e.Evaluate(topic, []telemetry.Point{p}, p.Time.Add(5*time.Millisecond))
}

func (h *harness) reload(rules ...Rule) error {
	cfg := DefaultConfig()
	cfg.Rules = rules
	return h.e.Reload(cfg)
}

func (h *harness) metric(name string, labels ...string) float64 {
	return metricSum(h.t, h.reg, name, labels...)
}

func hot(cond string) Rule {
	return Rule{Name: "hot", Match: Match{Topic: "sensors/+/temperature"}, Condition: cond}
}

func TestAlertEvents(t *testing.T) {
	h := newHarness(t, SeedRules()...)
	h.send("s1", time.Second, 85)
	ev := h.rec.take()
	if len(ev) != 1 {
		t.Fatalf("events: %v", ev)
	}
	a := ev[0]
	at := t0.Add(time.Second)
	want := telemetry.Alert{
		ID: a.ID, Rule: "high_temperature", Type: "HIGH_TEMPERATURE", Severity: "critical", State: "firing",
		DeviceID: "s1", Series: `sensors_temperature{device_id="s1",device_type="sensors",location="hall"}`,
		Labels: map[string]string{"device_id": "s1", "device_type": "sensors", "location": "hall"},
		Value:  85, RequiresAction: true, FiredAt: at, Time: at, Received: at.Add(5 * time.Millisecond),
	}
	if !alertEqual(a, want) {
		t.Fatalf("firing event\n got %+v\nwant %+v", a, want)
	}
	if !strings.HasPrefix(a.ID, "high_temperature:") || !strings.HasSuffix(a.ID, ":1732485601000000000") {
		t.Fatalf("ID %q is not rule:series-hash:fired-at-ns", a.ID)
	}
	if act := h.e.Active(); len(act) != 1 || act[0].ID != a.ID {
		t.Fatalf("Active = %v", act)
	}
	if h.metric("borda_rules_alerts_firing", "type", "HIGH_TEMPERATURE") != 1 {
		t.Fatal("alerts_firing gauge is not 1")
	}
	h.send("s1", 2*time.Second, 70)
	ev = h.rec.take()
	r := ev[0]
	want.State, want.Value, want.ResolvedAt = "resolved", 70, t0.Add(2*time.Second)
	want.Time, want.Received = want.ResolvedAt, want.ResolvedAt.Add(5*time.Millisecond)
	if len(ev) != 1 || !alertEqual(r, want) {
		t.Fatalf("resolved event\n got %+v\nwant %+v", r, want)
	}
	if len(h.e.Active()) != 0 || h.metric("borda_rules_alerts_firing") != 0 ||
		h.metric("borda_rules_alerts_fired_total", "rule", "high_temperature") != 1 ||
		h.metric("borda_rules_alerts_resolved_total", "rule", "high_temperature") != 1 {
		t.Fatal("metrics or Active not updated on resolve")
	}
	// A second episode at the same reading time still gets a new ID.
	h.send("s1", 2*time.Second, 90)
	if ev := h.rec.take(); len(ev) != 1 || ev[0].ID == a.ID || !strings.HasSuffix(ev[0].ID, ":1732485602000000000") {
		t.Fatalf("second episode: %v", ev)
	}
	h.send("s1", 2*time.Second, 10)
	h.send("s1", 2*time.Second, 90)
	if ev := h.rec.take(); len(ev) != 2 || !strings.HasSuffix(ev[1].ID, ":1732485602000000001") {
		t.Fatalf("third episode at the same time: %v", ev)
	}
}

func alertEqual(a, b telemetry.Alert) bool {
	if len(a.Labels) != len(b.Labels) {
		return false
	}
	for k, v := range a.Labels {
		if b.Labels[k] != v {
			return false
		}
	}
	a.Labels, b.Labels = nil, nil
	return reflect.DeepEqual(a, b)
}

func TestAlertSeriesNames(t *testing.T) {
	h := newHarness(t, SeedRules()[2],
		Rule{Name: "offline", Match: Match{Topic: "vehicles/#"}, Silent: time.Minute, Message: "no GPS fix"})
	st := step{Topic: "vehicles/truck-12/location", At: 0, Location: `dock "7"`, Fields: map[string]float64{"speed": 130, "lat": 1}}
	topic, p := st.point()
	p.SetTag("9zone", "")
	h.e.Evaluate(topic, []telemetry.Point{p}, p.Time)
	ev := h.rec.take()
	if len(ev) != 1 || ev[0].Series != `vehicles_location_speed{device_id="truck-12",device_type="vehicles",location="dock \"7\""}` ||
		ev[0].Type != "SPEEDING" || ev[0].Value != 130 {
		t.Fatalf("overspeed event: %+v", ev)
	}
	h.e.checkSilent(t0.Add(time.Minute))
	ev = h.rec.take()
	if len(ev) != 1 || ev[0].Type != TypeDeviceOffline || ev[0].Severity != SeverityWarning || ev[0].Message != "no GPS fix" ||
		!ev[0].FiredAt.Equal(t0.Add(time.Minute)) || ev[0].Series != `vehicles_location{device_id="truck-12",device_type="vehicles",location="dock \"7\""}` {
		t.Fatalf("offline event: %+v", ev)
	}
}

func TestRuntimeErrorsAreCountedByReason(t *testing.T) {
	h := newHarness(t,
		Rule{Name: "missing", Match: Match{Topic: "#"}, Condition: "humidity > 3"},
		Rule{Name: "mismatch", Match: Match{Topic: "#"}, Condition: `location > 3`},
		Rule{Name: "notbool", Match: Match{Topic: "#"}, Condition: `location`},
		Rule{Name: "eval", Match: Match{Topic: "#"}, Condition: `[1, 2][int(value)] > 1`}, // index out of range
		Rule{Name: "field", Match: Match{Topic: "#"}, Field: "speed", Condition: `value > 1`},
		Rule{Name: "budget", Match: Match{Topic: "#"}, Condition: `len(1..100000000) > 1`},
	)
	h.send("s1", 0, 20)
	h.send("s1", time.Second, math.NaN())
	for rule, reason := range map[string]string{"missing": "missing_field", "mismatch": "type", "notbool": "type",
		"eval": "eval", "budget": "eval"} {
		if got := h.metric("borda_rules_errors_total", "rule", rule, "reason", reason); got != 1 {
			t.Errorf("errors_total{rule=%s,reason=%s} = %v, want 1", rule, reason, got)
		}
	}
	if got := h.metric("borda_rules_errors_total", "rule", "field", "reason", "missing_field"); got != 2 {
		t.Errorf("errors_total{rule=field,reason=missing_field} = %v, want 2 (no speed in either reading)", got)
	}
	if got := h.metric("borda_rules_errors_total", "reason", "nan"); got != 5 {
		t.Errorf("errors_total{reason=nan} = %v, want 5 (one per rule tracking value)", got)
	}
	if got := h.metric("borda_rules_evaluations_total"); got != 12 {
		t.Errorf("evaluations_total = %v, want 12", got)
	}
	if len(h.rec.take()) != 0 {
		t.Error("an erroring rule fired")
	}
}

func TestPanicsInTheNotifierAreRecovered(t *testing.T) {
	h := newHarness(t, hot("value > 80"))
	h.e.notifier = panicky{}
	h.send("s1", 0, 90) // must not panic, and must leave the series unlocked
	h.send("s1", time.Second, 90)
	if got := h.metric("borda_rules_errors_total", "reason", "panic"); got != 1 {
		t.Fatalf("errors_total{reason=panic} = %v, want 1", got)
	}
}

type panicky struct{}

func (panicky) Notify(telemetry.Alert) { panic("boom") }

func TestMaxSeriesPerRule(t *testing.T) {
	h := newHarness(t)
	cfg := DefaultConfig()
	cfg.Rules, cfg.MaxSeriesPerRule = []Rule{hot("value > 80")}, 3
	if err := h.e.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		h.send(string(rune('a'+i)), 0, 20)
		h.send(string(rune('a'+i)), time.Second, 20)
	}
	if got := h.metric("borda_rules_series_tracked", "rule", "hot"); got != 3 {
		t.Fatalf("series_tracked = %v, want 3", got)
	}
	if got := h.metric("borda_rules_series_dropped_total", "rule", "hot"); got != 14 {
		t.Fatalf("series_dropped_total = %v, want 14", got)
	}
}

func TestRunChecksSilentRulesAndStops(t *testing.T) {
	h := newHarness(t, Rule{Name: "offline", Match: Match{Topic: "sensors/#"}, Silent: time.Second})
	h.send("s1", 0, 1)
	h.mu.Lock()
	h.now = t0.Add(time.Hour) // the next tick finds s1 silent
	h.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- h.e.Run(ctx) }()
	<-h.e.Ready()
	for len(h.e.Active()) == 0 { // the checker ticks every 100ms
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if ev := h.rec.take(); len(ev) != 1 || ev[0].Type != TypeDeviceOffline {
		t.Fatalf("events: %v", ev)
	}
}

func TestNewRejectsBadConfigAndDoubleRegistration(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Rules = []Rule{hot("value >")}
	if _, err := New(cfg, Deps{}); err == nil || !strings.Contains(err.Error(), `rules[0].condition: rule "hot": "value >"`) {
		t.Fatalf("New: %v", err)
	}
	reg := prometheus.NewRegistry()
	if _, err := New(DefaultConfig(), Deps{Registry: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(DefaultConfig(), Deps{Registry: reg}); err == nil {
		t.Fatal("a second engine registered the same metrics")
	}
}

// actionRecorder is a Notifier that is also an ActionSetter.
type actionRecorder struct {
	recorder
	sets []map[string][]*alerts.Action
}

func (a *actionRecorder) SetRuleActions(m map[string][]*alerts.Action) { a.sets = append(a.sets, m) }

func TestActionsAreHandedToTheDispatcher(t *testing.T) {
	ar := &actionRecorder{}
	cfg := DefaultConfig()
	quiet := hot("value > 90")
	quiet.Name, quiet.Actions = "quiet", []alerts.ActionSpec{}
	cfg.Rules = []Rule{hot("value > 80"), quiet}
	e, err := New(cfg, Deps{Notifier: ar})
	if err != nil {
		t.Fatal(err)
	}
	if len(ar.sets) != 1 || len(ar.sets[0]["hot"]) != 1 || ar.sets[0]["hot"][0].Spec.Topic != "alerts/critical" ||
		ar.sets[0]["quiet"] == nil || len(ar.sets[0]["quiet"]) != 0 {
		t.Fatalf("after New: %v", ar.sets)
	}
	cfg.Rules = cfg.Rules[1:]
	if err := e.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	// First the union (the removed rule's resolved events still find its
	// actions), then the new set.
	if len(ar.sets) != 3 || ar.sets[1]["hot"] == nil || ar.sets[2]["hot"] != nil || len(e.Actions()) != 1 {
		t.Fatalf("after Reload: %v", ar.sets)
	}
}
