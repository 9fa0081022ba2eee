package rules

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
)

func activeIDs(e *Engine) []string {
	var ids []string
	for _, a := range e.Active() {
		ids = append(ids, a.ID)
	}
	slices.Sort(ids)
	return ids
}

func TestReloadKeepsState(t *testing.T) {
	sustained := Rule{Name: "sustained", Match: Match{Topic: "sensors/+/temperature"}, Condition: "mean(3) > 80"}
	h := newHarness(t, hot("value > 80"), sustained)
	for i := range 3 {
		h.send("s1", time.Duration(i)*time.Second, 85)
	}
	fired := h.rec.take()
	if len(fired) != 2 {
		t.Fatalf("events: %v", fired)
	}
	before := activeIDs(h.e)
	// Same names, conditions, matches and fields: severity, clear, cooldown
	// and a new rule do not reset the state.
	h2 := hot("value > 80")
	h2.Severity = SeverityCritical
	s2 := sustained
	s2.Clear, s2.Cooldown = "mean(3) < 50", time.Hour
	extra := hot("value > 1000")
	extra.Name = "extra"
	if err := h.reload(h2, s2, extra); err != nil {
		t.Fatal(err)
	}
	if ev := h.rec.take(); len(ev) != 0 {
		t.Fatalf("reload emitted %v", ev)
	}
	if after := activeIDs(h.e); !slices.Equal(before, after) {
		t.Fatalf("active alerts changed: %v -> %v", before, after)
	}
	h.send("s1", 3*time.Second, 10) // mean(85, 85, 10) = 60: not below 50
	ev := h.rec.take()
	if len(ev) != 1 || ev[0].Rule != "hot" || ev[0].State != telemetry.AlertResolved || ev[0].ID != fired[0].ID {
		t.Fatalf("events: %v (hot fired as %s)", ev, fired[0].ID)
	}
	h.send("s1", 4*time.Second, 10) // mean(85, 10, 10) = 35, from history before the reload
	ev = h.rec.take()
	if len(ev) != 1 || ev[0].Rule != "sustained" || ev[0].State != telemetry.AlertResolved || ev[0].ID != fired[1].ID {
		t.Fatalf("events: %v (sustained fired as %s)", ev, fired[1].ID)
	}
}

func TestReloadRejectsABadSetWhole(t *testing.T) {
	h := newHarness(t, hot("value > 80"))
	bad := hot("mean(x) > 1")
	bad.Name = "bad"
	err := h.reload(hot("value > 50"), bad)
	for _, want := range []string{"reload rejected", `rules[1].condition: rule "bad": "mean(x) > 1": mean(): the window must be a constant`, "(line 1, column 6)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Reload error %v does not contain %q", err, want)
		}
	}
	h.send("s1", 0, 60) // the old rule (> 80) still runs, not the new one (> 50)
	if ev := h.rec.take(); len(ev) != 0 {
		t.Fatalf("events: %v", ev)
	}
	h.send("s1", time.Second, 85)
	if ev := h.rec.take(); len(ev) != 1 || ev[0].Rule != "hot" {
		t.Fatalf("events: %v", ev)
	}
	if h.metric("borda_rules_evaluations_total", "rule", "bad") != 0 {
		t.Fatal("the rejected rule was evaluated")
	}
}

func TestReloadResolvesRemovedAndResetRules(t *testing.T) {
	other := hot("value > 80")
	other.Name = "other"
	h := newHarness(t, hot("value > 80"), other)
	h.send("s1", 0, 85)
	h.send("s2", 0, 85)
	if ev := h.rec.take(); len(ev) != 4 {
		t.Fatalf("events: %v", ev)
	}
	h.mu.Lock()
	h.now = t0.Add(time.Minute)
	h.mu.Unlock()
	other.Condition = "value > 81" // a new condition: fresh state
	if err := h.reload(other); err != nil {
		t.Fatal(err)
	}
	ev := h.rec.take()
	if len(ev) != 4 {
		t.Fatalf("events: %v", ev)
	}
	for _, a := range ev {
		if a.State != telemetry.AlertResolved || !a.ResolvedAt.Equal(t0.Add(time.Minute)) || a.Value != 85 {
			t.Fatalf("not a resolved event at reload time: %+v", a)
		}
	}
	if len(h.e.Active()) != 0 || h.metric("borda_rules_alerts_firing") != 0 {
		t.Fatal("alerts still firing after their rules went away")
	}
	if h.metric("borda_rules_series_tracked", "rule", "hot") != 0 || h.metric("borda_rules_series_tracked", "rule", "other") != 0 {
		t.Fatal("series_tracked of retired state")
	}
	h.send("s1", time.Minute, 85) // the changed rule starts afresh
	if ev := h.rec.take(); len(ev) != 1 || ev[0].Rule != "other" || ev[0].State != telemetry.AlertFiring {
		t.Fatalf("events: %v", ev)
	}
}

// TestConcurrentEvaluate runs many publishers on shared and own series
// while rules are reloaded (keeping state, or removing rules), and checks that the counts
// add up and every alert's events are in order: firing, then resolved.
func TestConcurrentEvaluate(t *testing.T) {
	rules := []Rule{
		hot("value > 80"),
		{Name: "sustained", Match: Match{Topic: "sensors/+/temperature"}, Condition: `mean("10s") > 75`, Clear: `mean("10s") < 60`},
		{Name: "anomaly", Match: Match{Topic: "sensors/#"}, Condition: "count() > 20 && zscore() > 2", Cooldown: time.Minute},
		{Name: "jumpy", Match: Match{Measurement: "sensors_temperature"}, Condition: "abs(delta()) > 30 || mad_score(9) > 5"},
		{Name: "offline", Match: Match{Topic: "sensors/#"}, Silent: time.Second},
	}
	h := newHarness(t, rules...)
	const goroutines, readings = 8, 1500
	var pubs, bg sync.WaitGroup
	stop := make(chan struct{})
	for g := range goroutines {
		pubs.Add(1)
		go func() {
			defer pubs.Done()
			for i := range readings {
				device := fmt.Sprintf("shared-%d", i%4)
				if i%2 == 1 {
					device = fmt.Sprintf("g%d-%d", g, i%16)
				}
				h.send(device, time.Duration(i)*100*time.Millisecond, 60+40*math.Sin(float64(i*(g+1))/7))
			}
		}()
	}
	bg.Add(1)
	go func() { // reloads that keep state, Active, the silent checker
		defer bg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			next := slices.Clone(rules)
			next[0].Severity = []string{SeverityWarning, SeverityCritical}[i%2]
			if i%5 == 4 { // now and then remove rules: their alerts resolve, they come back afresh
				next = next[:2]
			}
			if err := h.reload(next...); err != nil {
				t.Error(err)
				return
			}
			h.e.Active()
			h.e.checkSilent(t0.Add(time.Duration(i) * time.Second))
		}
	}()
	pubs.Wait()
	close(stop)
	bg.Wait()
	if got := h.metric("borda_rules_evaluations_total", "rule", "hot"); got != goroutines*readings {
		t.Fatalf("evaluations_total{rule=hot} = %v, want %d", got, goroutines*readings)
	}
	checkEventOrder(t, h.rec.take(), h.e.Active())
}

func checkEventOrder(t *testing.T, events []telemetry.Alert, active []telemetry.Alert) {
	t.Helper()
	state := map[string]string{}
	for _, a := range events {
		prev := state[a.ID]
		switch {
		case a.State == telemetry.AlertFiring && prev == telemetry.AlertFiring:
			// The same ID may fire again after it resolved: a rule that was
			// removed and added back starts afresh, and the shared devices
			// repeat reading times. Never while it fires.
			t.Fatalf("%s fired twice", a.ID)
		case a.State == telemetry.AlertResolved && prev != telemetry.AlertFiring:
			t.Fatalf("%s resolved while %q", a.ID, prev)
		}
		state[a.ID] = a.State
	}
	var firing []string
	for id, s := range state {
		if s == telemetry.AlertFiring {
			firing = append(firing, id)
		}
	}
	slices.Sort(firing)
	var act []string
	for _, a := range active {
		act = append(act, a.ID)
	}
	slices.Sort(act)
	if !slices.Equal(firing, act) {
		t.Fatalf("Active() = %d alerts, events leave %d firing", len(act), len(firing))
	}
	if len(events) == 0 {
		t.Fatal("no events at all: the test exercises nothing")
	}
}
