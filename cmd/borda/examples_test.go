package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/config"
	"github.com/borda-edge/borda/internal/simulate"
	"github.com/borda-edge/borda/internal/testkit"
)

// exampleConfig loads examples/<name>/borda.yaml as an operator would, then
// moves it to free loopback ports and a temporary data directory, and
// shortens its device-silent rules to silent (the examples use 30 s – 1 min,
// which a test of a few seconds cannot wait for).
func exampleConfig(t *testing.T, name string, silent time.Duration) config.File {
	t.Helper()
	cfg, err := config.Load("../../examples/" + name + "/borda.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	for i := range cfg.Broker.Listeners {
		cfg.Broker.Listeners[i].Address, cfg.Broker.Listeners[i].Port = "127.0.0.1", 0
	}
	cfg.HTTP.Address, cfg.HTTP.Port = "127.0.0.1", 0
	cfg.MemoryLimit = 0
	for i := range cfg.Rules.Rules {
		if cfg.Rules.Rules[i].Silent > 0 {
			cfg.Rules.Rules[i].Silent = silent
		}
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// exampleRun is one example against the simulator's matching profile.
type exampleRun struct {
	example, profile string
	topics           []string // subscribed before the run
	alerts           []string // alert types that must arrive: what examples/README.md promises
	commands         []string // topic prefixes of commands that must arrive
	command          string   // in the payload of each of them
}

// promisedAlerts reads the alert types each example promises from the
// table in examples/README.md (its "alerts" column): example → types.
func promisedAlerts(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile("../../examples/README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`^\| \[([a-z-]+)\]\([a-z-]+/\) \|[^|]*\|([^|]*)\|$`)
	out := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if m := row.FindStringSubmatch(line); m != nil {
			out[m[1]] = regexp.MustCompile(`\b[A-Z][A-Z_]{3,}\b`).FindAllString(m[2], -1)
		}
	}
	return out
}

// TestExamplesPromiseEveryRule: every rule type in an example's
// borda.yaml is among the alerts examples/README.md promises for it, and
// every promised alert has a rule.
func TestExamplesPromiseEveryRule(t *testing.T) {
	promised := promisedAlerts(t)
	for _, name := range []string{"smart-factory", "smart-city", "vehicles"} {
		cfg, err := config.Load("../../examples/" + name + "/borda.yaml")
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, r := range cfg.Rules.Rules {
			types = append(types, r.Type)
		}
		slices.Sort(types)
		want := slices.Sorted(slices.Values(promised[name]))
		if !slices.Equal(slices.Compact(types), want) {
			t.Errorf("%s: rule types %v, examples/README.md promises %v", name, types, want)
		}
	}
}

// TestExamplesAgainstSimulator runs each example config with the
// simulator's matching profile (anomalies and devices going silent) for a
// few seconds and checks that every alert examples/README.md promises for
// it fires, on MQTT and in /api/v1/alerts, and that the commands are
// published.
func TestExamplesAgainstSimulator(t *testing.T) {
	promised := promisedAlerts(t)
	runs := []exampleRun{
		{"smart-factory", simulate.ProfileFactory, []string{"alerts/#", "factory/+/cmd"}, nil,
			[]string{"factory/line-"}, `{"cmd":"stop","device":"ex-`},
		{"smart-city", simulate.ProfileCity, []string{"alerts/#", "city/+/signal"}, nil,
			[]string{"city/gate-"}, `{"cmd":"extend_pedestrian_phase","camera":"ex-`},
		{"vehicles", simulate.ProfileVehicles, []string{"alerts/#"}, nil, nil, ""},
	}
	for _, r := range runs {
		r.alerts = promised[r.example]
		if len(r.alerts) == 0 {
			t.Fatalf("examples/README.md promises no alert for %s", r.example)
		}
		t.Run(r.example, func(t *testing.T) { runExample(t, r) })
	}
}

// TestExamplesQuietWithoutFaults: a healthy fleet (no anomalies, nobody
// silent) raises no alert and no command with any example: the anomaly
// detectors do not fire on normal noise.
func TestExamplesQuietWithoutFaults(t *testing.T) {
	for _, r := range []struct{ example, profile string }{
		{"smart-factory", simulate.ProfileFactory}, {"smart-city", simulate.ProfileCity}, {"vehicles", simulate.ProfileVehicles},
	} {
		t.Run(r.example, func(t *testing.T) {
			g := startGateway(t, exampleConfig(t, r.example, time.Second))
			rec := newReceived()
			sub := v3Client(t, "tcp://"+g.mqttAddr(), "quiet-sub", true, rec)
			for _, topic := range []string{"alerts/#", "factory/#", "city/#"} {
				waitToken(t, "subscribe", sub.Subscribe(topic, 2, nil))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := simulate.Run(ctx, simulate.Config{Broker: "tcp://" + g.mqttAddr(), Devices: 40, Conns: 4,
				Rate: 4000, Duration: 3 * time.Second, QoS: 1, Profile: r.profile, Seed: 11,
				DevicePrefix: "q", ClientIDPrefix: "q"}, nil)
			if err != nil {
				t.Fatalf("simulate: %v", err)
			}
			time.Sleep(500 * time.Millisecond) // alerts arrive within milliseconds
			if n := rec.count(); n != 0 {
				types, cmds := tally(t, rec)
				t.Errorf("%d messages from a healthy fleet: alerts %v, commands %v", n, types, cmds)
			}
		})
	}
}

func runExample(t *testing.T, r exampleRun) {
	g := startGateway(t, exampleConfig(t, r.example, time.Second))
	rec := newReceived()
	sub := v3Client(t, "tcp://"+g.mqttAddr(), "example-sub", true, rec)
	for _, topic := range r.topics {
		waitToken(t, "subscribe", sub.Subscribe(topic, 2, nil))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A count, not a duration: on a loaded machine a 3 s run sends fewer
	// readings, and a rare anomaly (a temperature spike) may then not come.
	rep, err := simulate.Run(ctx, simulate.Config{Broker: "tcp://" + g.mqttAddr(), Devices: 40, Conns: 4,
		Rate: 4000, Count: 12000, QoS: 1, Profile: r.profile, Seed: 7,
		AnomalyRate: 0.08, SilentRate: 0.15, DevicePrefix: "ex", ClientIDPrefix: "ex"}, nil)
	if err != nil {
		t.Fatalf("simulate: %v", err)
	}
	t.Logf("%s: sent %d readings, %d anomalies, %d silent devices", r.example, rep.Readings, rep.Anomalies, rep.Silent)
	types := map[string]int{}
	var commands []string
	missing := func() []string {
		var out []string
		for _, want := range r.alerts {
			if types[want] == 0 {
				out = append(out, want)
			}
		}
		for _, prefix := range r.commands {
			if !slices.ContainsFunc(commands, func(c string) bool { return strings.HasPrefix(c, prefix) }) {
				out = append(out, "command "+prefix+"*")
			}
		}
		return out
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s: got alerts %v and %d commands; missing %v", r.example, types, len(commands), missing())
		}
	})
	testkit.Eventually(t, 15*time.Second, "every expected alert and command", func() bool {
		types, commands = tally(t, rec)
		return len(missing()) == 0
	})
	t.Logf("%s: alerts by type %v, %d commands", r.example, types, len(commands))
	for _, c := range commands {
		if !strings.Contains(c, r.command) {
			t.Errorf("command %s lacks %s", c, r.command)
		}
	}
	// The history is written asynchronously: it may trail MQTT a little.
	testkit.Eventually(t, 5*time.Second, "every expected alert in /api/v1/alerts", func() bool {
		body := httpGet(t, g.httpURL()+"/api/v1/alerts?limit=10000", http.StatusOK)
		for _, want := range r.alerts {
			if !strings.Contains(body, `"`+want+`"`) {
				return false
			}
		}
		return true
	})
	if r.example == "vehicles" {
		checkLocationTracking(t, g)
	}
	if r.example == "smart-city" {
		checkCountsPerIntersection(t, g)
	}
}

// tally counts the alert types received on alerts/... and lists the
// topics of everything else (commands).
func tally(t *testing.T, rec *received) (map[string]int, []string) {
	rec.mu.Lock()
	msgs := append([]msg(nil), rec.msgs...)
	rec.mu.Unlock()
	types := map[string]int{}
	var commands []string
	for _, m := range msgs {
		if !strings.HasPrefix(m.topic, "alerts/") {
			commands = append(commands, m.topic+" "+m.payload)
			continue
		}
		var a seedAlert
		if err := json.Unmarshal([]byte(m.payload), &a); err != nil {
			t.Errorf("alert on %s is not JSON: %s", m.topic, m.payload)
			continue
		}
		if a.State == "firing" {
			types[a.Type]++
		}
	}
	return types, commands
}

// sample is one element of an instant query's result vector.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  []any             `json:"value"`
}

// promQuery returns the result vector of an instant query.
func promQuery(t *testing.T, g *testGateway, q string) []sample {
	t.Helper()
	return promQueryAt(t, g.httpURL(), q)
}

// promQueryAt runs an instant query against the borda at baseURL.
func promQueryAt(t testing.TB, baseURL, q string) []sample {
	t.Helper()
	body := httpGet(t, baseURL+"/api/v1/query?query="+url.QueryEscape(q), http.StatusOK)
	var res struct {
		Data struct {
			Result []sample `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatalf("query %s: %v: %s", q, err, body)
	}
	return res.Data.Result
}

// checkLocationTracking: every vehicle's last position is in the store.
func checkLocationTracking(t *testing.T, g *testGateway) {
	t.Helper()
	const q = `last_over_time(vehicles_location_lat[5m]) and on(device_id) last_over_time(vehicles_location_lon[5m])`
	var n int
	testkit.Eventually(t, 10*time.Second, "positions stored", func() bool {
		n = len(promQuery(t, g, q))
		return n >= 30 // 36 of the 40 devices are vehicles
	})
}

// checkCountsPerIntersection: objects seen per intersection (camera
// location), as the README's Grafana panel queries them.
func checkCountsPerIntersection(t *testing.T, g *testGateway) {
	t.Helper()
	const q = `sum by (location) (sum_over_time(cameras_detection_objects[5m]))`
	testkit.Eventually(t, 10*time.Second, "counts per intersection", func() bool {
		res := promQuery(t, g, q)
		return len(res) >= 2 && strings.HasPrefix(res[0].Metric["location"], "gate-")
	})
}
