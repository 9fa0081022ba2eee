package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/borda-edge/borda/internal/alerts"
	"github.com/borda-edge/borda/internal/rules"
	"github.com/borda-edge/borda/internal/simulate"
	"github.com/borda-edge/borda/internal/testkit"
)

// seedAlert is the alert JSON the seed's collector publishes, plus state.
type seedAlert struct {
	Timestamp      string  `json:"timestamp"`
	Type           string  `json:"type"`
	DeviceID       string  `json:"device_id"`
	Value          float64 `json:"value"`
	Severity       string  `json:"severity"`
	RequiresAction bool    `json:"requires_action"`
	State          string  `json:"state"`
	ID             string  `json:"id"`
}

// TestSeedAlertsEndToEnd: with zero configuration the seed's three alerts
// fire on real MQTT publishes, reach a QoS 2 subscriber on alerts/critical
// in the seed's JSON shape, resolve when the reading is back under the
// threshold, and are listed by /api/v1/alerts.
func TestSeedAlertsEndToEnd(t *testing.T) {
	g := startGateway(t, testConfig(t))
	rec := newReceived()
	sub := v3Client(t, "tcp://"+g.mqttAddr(), "alert-sub", true, rec)
	waitToken(t, "subscribe", sub.Subscribe("alerts/critical", 2, nil))
	pub := v3Client(t, "tcp://"+g.mqttAddr(), "alert-pub", true, nil)
	steps := []struct{ topic, payload string }{
		{"sensors/t1/temperature", `{"value":85.5,"location":"hall"}`},    // fires
		{"sensors/t1/temperature", `{"value":90,"location":"hall"}`},      // still firing: nothing
		{"sensors/t1/temperature", `{"value":70,"location":"hall"}`},      // resolves
		{"sensors/p1/pressure", `{"value":101}`},                          // fires
		{"vehicles/v1/location", `{"lat":-23.5,"lon":-46.6,"speed":130}`}, // fires
		{"sensors/t2/temperature", `{"value":80}`},                        // not above 80
	}
	for _, s := range steps {
		waitToken(t, "publish", pub.Publish(s.topic, 1, false, s.payload))
	}
	got := rec.wait(t, 4)
	want := []struct {
		typ, device, state string
		value              float64
	}{
		{"HIGH_TEMPERATURE", "t1", "firing", 85.5},
		{"HIGH_TEMPERATURE", "t1", "resolved", 70},
		{"HIGH_PRESSURE", "p1", "firing", 101},
		{"SPEEDING", "v1", "firing", 130},
	}
	for i, w := range want {
		var a seedAlert
		if err := json.Unmarshal([]byte(got[i].payload), &a); err != nil {
			t.Fatalf("alert %d is not JSON: %v: %s", i, err, got[i].payload)
		}
		if a.Type != w.typ || a.DeviceID != w.device || a.State != w.state || a.Value != w.value ||
			a.Severity != "critical" || !a.RequiresAction || a.Timestamp == "" || got[i].qos != 2 {
			t.Errorf("alert %d = %+v (qos %d), want %+v at QoS 2", i, a, got[i].qos, w)
		}
	}
	time.Sleep(100 * time.Millisecond) // a fifth alert would have arrived by now
	if n := rec.count(); n != 4 {
		t.Errorf("%d alerts, want 4", n)
	}
	body := httpGet(t, g.httpURL()+"/api/v1/alerts?state=active", http.StatusOK)
	for _, want := range []string{`"HIGH_PRESSURE"`, `"SPEEDING"`} {
		if !strings.Contains(body, want) {
			t.Errorf("active alerts lack %s: %s", want, body)
		}
	}
	if strings.Contains(body, `"HIGH_TEMPERATURE"`) {
		t.Errorf("resolved alert listed as active: %s", body)
	}
	if got := g.metric(t, `borda_rules_alerts_fired_total{rule="high_temperature",severity="critical",type="HIGH_TEMPERATURE"}`); got != 1 {
		t.Errorf("fired high_temperature = %v, want 1", got)
	}
}

// TestRuleActionsAndReload: a reload adds a rule with a stop command and a
// webhook; a bad rule set is refused whole (400 naming the rule) and the
// running rules keep working.
func TestRuleActionsAndReload(t *testing.T) {
	var mu sync.Mutex
	var hooks []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hooks = append(hooks, string(b))
		mu.Unlock()
	}))
	defer hook.Close()

	g := startGateway(t, testConfig(t))
	rec := newReceived()
	sub := v3Client(t, "tcp://"+g.mqttAddr(), "cmd-sub", true, rec)
	waitToken(t, "subscribe", sub.Subscribe("factory/line1/cmd", 1, nil))
	pub := v3Client(t, "tcp://"+g.mqttAddr(), "cmd-pub", true, nil)

	next := g.cfg
	next.Rules.Rules = append(append([]rules.Rule{}, rules.SeedRules()...), rules.Rule{
		Name: "vibration_stop", Type: "HIGH_VIBRATION", Severity: "critical",
		Match:     rules.Match{Topic: "sensors/+/vibration"},
		Condition: "value > 7 && mean(3) > 5",
		Actions: []alerts.ActionSpec{
			{Type: alerts.ActionMQTT, Topic: "factory/line1/cmd", QoS: 1, On: []string{"firing"}, Payload: `{"cmd":"stop","device":{{json .DeviceID}}}`},
			{Type: alerts.ActionWebhook, URL: hook.URL, Timeout: 2 * time.Second},
		},
	})
	g.next.Store(&next)
	if body := postReload(t, g, http.StatusOK); !strings.Contains(body, "success") {
		t.Fatalf("reload: %s", body)
	}
	for _, v := range []string{"4", "6", "8"} { // mean(3) = 6 > 5 and 8 > 7
		waitToken(t, "publish", pub.Publish("sensors/m1/vibration", 1, false, v))
	}
	if got := rec.wait(t, 1); got[0].payload != `{"cmd":"stop","device":"m1"}` {
		t.Fatalf("command = %s", got[0].payload)
	}
	testkit.Eventually(t, 5*time.Second, "webhook called", func() bool { mu.Lock(); defer mu.Unlock(); return len(hooks) == 1 })
	if !strings.Contains(hooks[0], `"HIGH_VIBRATION"`) {
		t.Errorf("webhook body %s", hooks[0])
	}

	bad := next
	bad.Rules.Rules = append(append([]rules.Rule{}, next.Rules.Rules...), rules.Rule{Name: "broken", Condition: "value >> 3"})
	g.next.Store(&bad)
	if body := postReload(t, g, http.StatusBadRequest); !strings.Contains(body, "broken") {
		t.Fatalf("refused reload does not name the rule: %s", body)
	}
	waitToken(t, "publish", pub.Publish("sensors/m2/vibration", 1, false, "9"))
	waitToken(t, "publish", pub.Publish("sensors/m2/vibration", 1, false, "9"))
	waitToken(t, "publish", pub.Publish("sensors/m2/vibration", 1, false, "9"))
	if got := rec.wait(t, 2); got[1].payload != `{"cmd":"stop","device":"m2"}` {
		t.Fatalf("after a refused reload the running rule did not act: %s", got[1].payload)
	}
}

func postReload(t *testing.T, g *testGateway, wantCode int) string {
	t.Helper()
	resp, err := http.Post(g.httpURL()+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantCode {
		t.Fatalf("POST /-/reload: %d %s, want %d", resp.StatusCode, b, wantCode)
	}
	return string(b)
}

// TestSimulateExpectAlertsAgainstBorda: borda simulate --expect-alerts
// against borda's own seed rules: every forced threshold crossing raises
// its alert and every return under the threshold resolves it.
func TestSimulateExpectAlertsAgainstBorda(t *testing.T) {
	g := startGateway(t, testConfig(t))
	a := runSimulateJSON(t, "--broker", "tcp://"+g.mqttAddr(), "--devices", "20", "--conns", "2",
		"--count", "3000", "--rate", "3000", "--profile", "mixed", "--alert-rate", "0.05", "--expect-alerts",
		"--device-prefix", "ea", "--client-id", "ea", "--quiet").Alerts
	if a == nil || a.Expected == 0 || a.Missing != 0 || a.Received != a.Expected {
		t.Fatalf("alerts report %+v", a)
	}
	t.Logf("%d alerts, publish->alert p50 %v p99 %v max %v",
		a.Received, a.Latency.P50, a.Latency.P99, a.Latency.Max)
}

// TestReloadUnderLoad: rules are reloaded five times while a fleet
// publishes at QoS 1 with alert-worthy readings: no reading is lost and no
// alert is missed, because a reload swaps the rule set without stopping
// ingest and keeps the state of unchanged rules.
func TestReloadUnderLoad(t *testing.T) {
	g := startGateway(t, testConfig(t))
	cfg := simulate.Config{Broker: "tcp://" + g.mqttAddr(), Devices: 50, Conns: 4, Count: 20000, Rate: 10000,
		QoS: 1, Profile: simulate.ProfileMixed, AlertRate: 0.02, ExpectAlerts: true, DevicePrefix: "rl", ClientIDPrefix: "rl"}
	type result struct {
		rep simulate.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := simulate.Run(context.Background(), cfg, nil)
		done <- result{rep, err}
	}()
	for range 5 {
		time.Sleep(200 * time.Millisecond)
		postReload(t, g, http.StatusOK)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if a := r.rep.Alerts; a == nil || a.Expected == 0 || a.Missing != 0 {
		t.Fatalf("alerts across reloads: %+v", a)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := simulate.Verify(ctx, g.httpURL(), r.rep, 0)
	if err != nil || !v.OK() {
		t.Fatalf("readings across reloads: %+v %v", v, err)
	}
	if got := g.metric(t, `borda_config_reloads_total{result="success"}`); got != 5 {
		t.Errorf("successful reloads = %v, want 5", got)
	}
	if got := g.metric(t, "borda_config_last_reload_successful"); got != 1 {
		t.Errorf("borda_config_last_reload_successful = %v, want 1", got)
	}
}

// TestAlertsToAckingQoS2Subscriber: a burst of alert events published
// inline while a QoS 2 subscriber acknowledges them: each is delivered or
// counted as dropped by the subscriber's limits, and the broker keeps
// moving. (This is where mochi-mqtt v2.7.9 can deadlock, rarely:
// Inflight.NextImmediate took its read lock twice; borda builds with the
// patched copy in third_party/mochi-mqtt-server.) Bounded: it fails
// rather than hangs.
func TestAlertsToAckingQoS2Subscriber(t *testing.T) {
	g := startGateway(t, testConfig(t))
	rec := newReceived()
	sub := v3Client(t, "tcp://"+g.mqttAddr(), "qos2-sub", true, rec)
	waitToken(t, "subscribe", sub.Subscribe("alerts/critical", 2, nil))
	pub := v3Client(t, "tcp://"+g.mqttAddr(), "qos2-pub", true, nil)
	const readings = 4000 // alternately over and under 80: one alert event each
	for i := range readings {
		v := 70
		if i%2 == 0 {
			v = 90
		}
		tok := pub.Publish("sensors/dl/temperature", 0, false, fmt.Sprintf(`{"value":%d,"location":"x"}`, v))
		if !tok.WaitTimeout(10 * time.Second) {
			t.Fatalf("publish %d did not complete: broker stuck", i)
		}
	}
	// Every event is delivered or, past the subscriber's queue limits,
	// counted as dropped: the broker keeps moving either way.
	dropped := func() float64 {
		n := 0.0
		for _, r := range []string{"client_writes_pending", "inflight_quota", "packet_ids_exhausted"} {
			n += max(0, g.metric(t, fmt.Sprintf(`borda_mqtt_messages_dropped_total{reason=%q}`, r)))
		}
		return n
	}
	testkit.Eventually(t, 30*time.Second, "every alert event delivered or counted", func() bool {
		return float64(rec.count())+dropped() >= readings
	})
	t.Logf("%d alert events delivered, %v dropped by the subscriber's limits", rec.count(), dropped())
}

// TestAlertsToRedis: with alerts.history.redis set, 100 alerts of one
// device within the same second all land in a real redis-server under the
// seed's key prefix alert:critical:<device>:<unix time> (the seed's SETEX
// keeps 11 of 100), with a TTL, and in the stream.
func TestAlertsToRedis(t *testing.T) {
	port := testkit.FreePort(t)
	testkit.StartRedis(t, port)
	addr := fmt.Sprintf("127.0.0.1:%d", port)

	cfg := testConfig(t)
	cfg.Alerts.History.Redis.Address = addr
	g := startGateway(t, cfg)
	pub := v3Client(t, "tcp://"+g.mqttAddr(), "redis-pub", true, nil)
	ts := time.Now().Truncate(time.Second).UnixMilli()
	for i := range 200 { // 100 firing + 100 resolved events within one second of readings
		v := 70
		if i%2 == 0 {
			v = 90
		}
		waitToken(t, "publish", pub.Publish("sensors/r1/temperature", 1, false,
			fmt.Sprintf(`{"value":%d,"location":"x","ts":%d}`, v, ts+int64(i))))
	}
	rc := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true})
	defer rc.Close()
	ctx := context.Background()
	var keys []string
	testkit.Eventually(t, 5*time.Second, "200 alert keys in redis", func() bool {
		var err error
		keys, err = rc.Keys(ctx, "alert:critical:r1:*").Result()
		return err == nil && len(keys) == 200
	})
	if ttl := rc.TTL(ctx, keys[0]).Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("key %s TTL %v, want (0, 1h]", keys[0], ttl)
	}
	if n := rc.XLen(ctx, alerts.DefaultStream).Val(); n != 200 {
		t.Errorf("stream %s holds %d entries, want 200", alerts.DefaultStream, n)
	}
}

// TestReloadNamesSettingsNeedingRestart: a reload applies the rules only;
// other changed settings are not dropped silently but named in a warning.
func TestReloadNamesSettingsNeedingRestart(t *testing.T) {
	g := startGateway(t, testConfig(t))
	next := g.cfg
	next.Broker.MaxConnections = 7
	g.next.Store(&next)
	postReload(t, g, http.StatusOK)
	if !strings.Contains(g.logs.String(), "other changed settings take effect after a restart") {
		t.Fatalf("no warning about settings needing a restart:\n%s", g.logs)
	}
}
