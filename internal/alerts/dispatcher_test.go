package alerts

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/borda-edge/borda/internal/testkit"
)

func mustCompile(t *testing.T, specs ...ActionSpec) []*Action {
	t.Helper()
	acts, err := Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	return acts
}

func TestNewErrors(t *testing.T) {
	bad := DefaultConfig()
	bad.WebhookQueue = 0
	if _, err := New(bad, Deps{Publisher: &fakePublisher{}}); err == nil {
		t.Fatal("invalid config accepted")
	}
	if _, err := New(DefaultConfig(), Deps{}); err == nil {
		t.Fatal("missing publisher accepted")
	}
}

// TestNotifyDefaultAction: without rule actions, every event goes to
// alerts/critical at QoS 2 with the seed's JSON.
func TestNotifyDefaultAction(t *testing.T) {
	d, pub, _ := testDispatcher(t, DefaultConfig(), nil)
	a := alertAt(0, "s1", t0, telemetry.AlertFiring)
	d.Notify(a)
	r := a
	r.State = telemetry.AlertResolved
	d.Notify(r)
	msgs := pub.messages()
	if len(msgs) != 2 {
		t.Fatalf("%d publishes, want 2", len(msgs))
	}
	want := string(appendDefaultPayload(nil, &a))
	if m := msgs[0]; m.topic != "alerts/critical" || m.qos != 2 || m.retain || m.payload != want {
		t.Fatalf("publish %+v, want alerts/critical qos 2 %s", m, want)
	}
	if got := counter(d.m.firing) + counter(d.m.resolved); got != 2 || counter(d.m.mqttOK) != 2 {
		t.Fatalf("events %v, mqtt ok %v", got, counter(d.m.mqttOK))
	}
	if len(d.historyQ) != 2 {
		t.Fatalf("history queue %d, want 2", len(d.historyQ))
	}
}

// TestRuleActions: per-rule actions replace the defaults; an empty list
// means no actions; `on` selects firing/resolved.
func TestRuleActions(t *testing.T) {
	d, pub, _ := testDispatcher(t, DefaultConfig(), nil)
	d.SetRuleActions(map[string][]*Action{
		"stop_line": mustCompile(t, ActionSpec{Type: ActionMQTT, Topic: "factory/{{.Labels.line}}/cmd", QoS: 1,
			Payload: `{"cmd":"stop"}`, On: []string{"firing"}}),
		"quiet": {},
	})
	event := func(rule, state string) telemetry.Alert {
		a := alertAt(0, "s1", t0, state)
		a.Rule = rule
		a.Labels["line"] = "line1"
		return a
	}
	steps := []struct {
		a    telemetry.Alert
		want []string // topics published
	}{
		{event("stop_line", telemetry.AlertFiring), []string{"factory/line1/cmd"}},
		{event("stop_line", telemetry.AlertResolved), nil},
		{event("quiet", telemetry.AlertFiring), nil},
		{event("other", telemetry.AlertFiring), []string{"alerts/critical"}},
	}
	for i, s := range steps {
		before := len(pub.messages())
		d.Notify(s.a)
		var got []string
		for _, m := range pub.messages()[before:] {
			got = append(got, m.topic)
		}
		if !slices.Equal(got, s.want) {
			t.Fatalf("step %d (%s %s): published %v, want %v", i, s.a.Rule, s.a.State, got, s.want)
		}
	}
	d.SetDefaultActions(mustCompile(t, ActionSpec{Type: ActionMQTT, Topic: "alerts/{{.Severity}}"}))
	d.Notify(event("other", telemetry.AlertFiring))
	if msgs := pub.messages(); msgs[len(msgs)-1].topic != "alerts/critical" || len(msgs) != 3 {
		t.Fatalf("after SetDefaultActions: %+v", msgs)
	}
	d.SetRuleActions(nil) // every rule uses the defaults again
	d.Notify(event("quiet", telemetry.AlertFiring))
	if n := len(pub.messages()); n != 4 {
		t.Fatalf("after SetRuleActions(nil): %d publishes, want 4", n)
	}
}

// TestPublishFailureCounted: a failing publish is counted per type; the
// event is still recorded.
func TestPublishFailureCounted(t *testing.T) {
	d, pub, _ := testDispatcher(t, DefaultConfig(), nil)
	pub.fail = true
	d.Notify(alertAt(0, "s1", t0, telemetry.AlertFiring))
	if counter(d.m.mqttErr) != 1 || counter(d.m.mqttOK) != 0 || len(d.historyQ) != 1 {
		t.Fatalf("mqtt error %v ok %v, history queue %d", counter(d.m.mqttErr), counter(d.m.mqttOK), len(d.historyQ))
	}
}

// TestQueueFullDrops: with nobody consuming, full queues drop and count
// instead of blocking Notify; MQTT actions still run.
func TestQueueFullDrops(t *testing.T) {
	cfg := DefaultConfig()
	cfg.WebhookQueue, cfg.HistoryQueue = 2, 3
	cfg.History.Redis.Address = "127.0.0.1:1" // never connected: Run is not started
	d, pub, _ := testDispatcher(t, cfg, nil)
	d.SetDefaultActions(mustCompile(t, ActionSpec{Type: ActionMQTT, Topic: "alerts/critical"},
		ActionSpec{Type: ActionWebhook, URL: "http://127.0.0.1:1/hook"}))
	for i := range 10 {
		d.Notify(alertAt(i, "s1", t0, telemetry.AlertFiring))
	}
	want := map[string]float64{outWebhook: 8, outHistory: 7, outRedis: 7}
	for out, n := range want {
		if got := counter(d.m.droppedBy[out]); got != n {
			t.Errorf("%s dropped %v, want %v", out, got, n)
		}
	}
	if len(pub.messages()) != 10 || len(d.webhookQ) != 2 || len(d.historyQ) != 3 || len(d.redisQ) != 3 {
		t.Fatalf("published %d, queues %d %d %d", len(pub.messages()), len(d.webhookQ), len(d.historyQ), len(d.redisQ))
	}
}

// TestRunRecordsAndStops: events reach the embedded history; Run stops
// cleanly (goroutines are checked by TestMain) and refuses a second start.
func TestRunRecordsAndStops(t *testing.T) {
	d, _, _ := testDispatcher(t, DefaultConfig(), nil)
	stop := run(t, d)
	for _, a := range fixture(t) {
		d.Notify(a)
	}
	written := d.m.historyWritten.WithLabelValues(backendBolt)
	testkit.Eventually(t, 10*time.Second, "6 events written", func() bool { return counter(written) == 6 })
	got, err := d.History().Query(context.Background(), Filter{State: StateActive})
	if err != nil || !slices.Equal(ids(got), []string{"a4/firing", "a3/firing"}) {
		t.Fatalf("active %v (%v)", ids(got), err)
	}
	if err := d.Run(context.Background()); err == nil {
		t.Fatal("second Run: no error")
	}
	stop()
	d.Notify(alertAt(0, "s1", t0, telemetry.AlertFiring))
	if got := counter(d.m.droppedBy[outHistory]); got != 1 {
		t.Fatalf("after stop: history dropped %v, want 1", got)
	}
}

// TestDrainOnStop: queued webhooks and history writes are delivered when
// Run stops; a webhook that never answers is given up within drain_timeout.
func TestDrainOnStop(t *testing.T) {
	var hits atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/stuck" {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}
	}))
	defer srv.Close()
	defer close(release)
	cfg := fastConfig()
	cfg.DrainTimeout = 2 * time.Second
	cfg.WebhookWorkers = 1
	d, _, _ := testDispatcher(t, cfg, nil)
	d.SetDefaultActions(mustCompile(t, ActionSpec{Type: ActionWebhook, URL: srv.URL + "/ok"}))
	for i := range 5 {
		d.Notify(alertAt(i, "s1", t0, telemetry.AlertFiring))
	}
	d.SetRuleActions(map[string][]*Action{"stuck": mustCompile(t,
		ActionSpec{Type: ActionWebhook, URL: srv.URL + "/stuck", Timeout: time.Minute})})
	stuck := alertAt(9, "s1", t0, telemetry.AlertFiring)
	stuck.Rule = "stuck"
	d.Notify(stuck)
	stop := run(t, d)
	stop() // returns once drain_timeout has cut the stuck delivery short
	ok := counter(d.m.actions.WithLabelValues(ActionWebhook, resultOK))
	gaveUp := counter(d.m.actions.WithLabelValues(ActionWebhook, resultGaveUp))
	if ok != 5 || gaveUp+counter(d.m.droppedBy[outWebhook]) != 1 {
		t.Fatalf("webhooks ok %v, gave up %v, dropped %v; want 5 ok and the stuck one given up",
			ok, gaveUp, counter(d.m.droppedBy[outWebhook]))
	}
	written := counter(d.m.historyWritten.WithLabelValues(backendBolt))
	if written+counter(d.m.droppedBy[outHistory]) != 6 {
		t.Fatalf("history written %v + dropped %v, want 6", written, counter(d.m.droppedBy[outHistory]))
	}
}

// TestUnencodableEventDropped: an event whose JSON cannot be written (a
// time past year 9999) is dropped and counted without holding up others.
func TestUnencodableEventDropped(t *testing.T) {
	d, pub, _ := testDispatcher(t, DefaultConfig(), nil)
	bad := alertAt(0, "s1", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), telemetry.AlertFiring)
	d.Notify(bad)
	d.Notify(alertAt(1, "s1", t0, telemetry.AlertFiring))
	run(t, d)
	written := d.m.historyWritten.WithLabelValues(backendBolt)
	testkit.Eventually(t, 10*time.Second, "good event written", func() bool { return counter(written) == 1 })
	if got := counter(d.m.droppedBy[outHistory]); got != 1 || len(pub.messages()) != 2 {
		t.Fatalf("dropped %v, published %d; want 1, 2", got, len(pub.messages()))
	}
}
