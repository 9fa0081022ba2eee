package alerts

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
)

// TestDefaultPayloadGolden: the default action's message is the seed's
// alert JSON (plus state, rule, id) byte for byte.
func TestDefaultPayloadGolden(t *testing.T) {
	acts, err := Compile(DefaultActions())
	if err != nil {
		t.Fatal(err)
	}
	a := alertAt(5, "sensor-001", t0.Add(123456789*time.Nanosecond), telemetry.AlertFiring)
	got, err := acts[0].Payload(&a)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/default_payload.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != strings.TrimSpace(string(want)) {
		t.Fatalf("payload\n got %s\nwant %s", got, want)
	}
	topic, _ := acts[0].Topic(&a)
	if topic != "alerts/critical" || acts[0].Spec.QoS != 2 || acts[0].Spec.Retain {
		t.Fatalf("default action: topic %q qos %d retain %v", topic, acts[0].Spec.QoS, acts[0].Spec.Retain)
	}
}

// TestDefaultPayloadShape: the seed's six fields with their JSON types.
func TestDefaultPayloadShape(t *testing.T) {
	acts, _ := Compile(DefaultActions())
	tests := []struct {
		name  string
		value float64
		want  any // decoded "value"
	}{
		{"number", 85.5, 85.5},
		{"integer", 121, 121.0},
		{"NaN is null", math.NaN(), nil},
		{"+Inf is null", math.Inf(1), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := alertAt(0, `dev"<1>`, t0, telemetry.AlertResolved)
			a.Value = tt.value
			b, err := acts[0].Payload(&a)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			wantKeys := []string{"device_id", "id", "requires_action", "rule", "severity", "state", "timestamp", "type", "value"}
			if !slices.Equal(keys, wantKeys) {
				t.Fatalf("keys %v, want %v", keys, wantKeys)
			}
			if m["value"] != tt.want || m["device_id"] != `dev"<1>` || m["requires_action"] != true ||
				m["timestamp"] != "2023-11-14T22:13:20Z" || m["type"] != "HIGH_TEMPERATURE" ||
				m["severity"] != "critical" || m["state"] != "resolved" {
				t.Fatalf("payload %s", b)
			}
		})
	}
}

// TestFastPayloadMatchesTemplate: the hand-written renderer of the default
// payload gives exactly the template's bytes, for odd strings and floats.
func TestFastPayloadMatchesTemplate(t *testing.T) {
	tmpl := template.Must(template.New("p").Funcs(funcs).Parse(DefaultPayload))
	strs := []string{"", "plain", `quo"te`, `back\slash`, "<tag>&amp;", "tab\tnew\nline", "\x00\x1f\x7f",
		"ünïcødé", "\u2028\u2029", "bad\xffutf8", "emoji 🔥"}
	floats := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e-6, 9.99e-7, 1e20, 1e21, -1e21, 123456789.123,
		math.MaxFloat64, math.SmallestNonzeroFloat64, math.NaN(), math.Inf(-1)}
	times := []time.Time{t0, t0.Add(time.Nanosecond), time.Date(2024, 2, 29, 23, 59, 59, 5e8, time.FixedZone("x", 3600)), {}}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		a := telemetry.Alert{
			ID: strs[rng.IntN(len(strs))], Rule: strs[rng.IntN(len(strs))], Type: strs[rng.IntN(len(strs))],
			Severity: strs[rng.IntN(len(strs))], State: strs[rng.IntN(len(strs))], DeviceID: strs[rng.IntN(len(strs))],
			Value: floats[rng.IntN(len(floats))], RequiresAction: rng.IntN(2) == 0, Time: times[rng.IntN(len(times))],
		}
		if i%3 == 0 {
			a.Value = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(60)-30))
		}
		want, err := render(tmpl, &a)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(appendDefaultPayload(nil, &a)); got != want {
			t.Fatalf("alert %+v\nfast     %s\ntemplate %s", a, got, want)
		}
	}
}

func TestTemplates(t *testing.T) {
	a := alertAt(0, "s1", t0, telemetry.AlertFiring)
	a.Labels["line"] = "line1"
	tests := []struct {
		name                 string
		spec                 ActionSpec
		wantTopic, wantBody  string
		firing, resolvedRuns bool
	}{
		{"constant topic, default on", ActionSpec{Type: ActionMQTT, Topic: "alerts/critical", Payload: "x"},
			"alerts/critical", "x", true, true},
		{"command on firing only", ActionSpec{Type: ActionMQTT, Topic: "factory/{{.Labels.line}}/cmd",
			Payload: `{"cmd":"stop","device":{{json .DeviceID}}}`, On: []string{"firing"}},
			"factory/line1/cmd", `{"cmd":"stop","device":"s1"}`, true, false},
		{"missing label renders empty", ActionSpec{Type: ActionMQTT, Topic: "f/{{.Labels.nope}}/cmd", Payload: "{{.Type}}"},
			"f//cmd", "HIGH_TEMPERATURE", true, true},
		{"unix helper", ActionSpec{Type: ActionMQTT, Topic: "a/{{.DeviceID}}", Payload: "{{unix .Time}}", On: []string{"resolved"}},
			"a/s1", "1700000000", false, true},
		{"unix in json", ActionSpec{Type: ActionMQTT, Topic: "a", Payload: "{{json (unix .Time)}}"},
			"a", "1700000000", true, true},
		{"webhook resolved only", ActionSpec{Type: ActionWebhook, URL: "http://h/x", On: []string{"resolved"}, Payload: "{{.Rule}}"},
			"", "high_temp", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acts, err := Compile([]ActionSpec{tt.spec})
			if err != nil {
				t.Fatal(err)
			}
			topic, err := acts[0].Topic(&a)
			if err != nil || topic != tt.wantTopic {
				t.Fatalf("topic %q (%v), want %q", topic, err, tt.wantTopic)
			}
			body, err := acts[0].Payload(&a)
			if err != nil || string(body) != tt.wantBody {
				t.Fatalf("payload %q (%v), want %q", body, err, tt.wantBody)
			}
			if acts[0].Runs(telemetry.AlertFiring) != tt.firing || acts[0].Runs(telemetry.AlertResolved) != tt.resolvedRuns {
				t.Fatalf("runs firing=%v resolved=%v", acts[0].Runs(telemetry.AlertFiring), acts[0].Runs(telemetry.AlertResolved))
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		spec ActionSpec
		want string
	}{
		{"unknown type", ActionSpec{Type: "sms"}, `actions[0].type: "sms" is not one of mqtt, webhook`},
		{"mqtt without topic", ActionSpec{Type: ActionMQTT}, "actions[0].topic: is required"},
		{"wildcard topic", ActionSpec{Type: ActionMQTT, Topic: "a/#"}, "must not contain wildcards"},
		{"bad qos", ActionSpec{Type: ActionMQTT, Topic: "a", QoS: 3}, "actions[0].qos: 3 is not 0, 1 or 2"},
		{"bad on", ActionSpec{Type: ActionMQTT, Topic: "a", On: []string{"fire"}}, `actions[0].on: "fire"`},
		{"bad template", ActionSpec{Type: ActionMQTT, Topic: "a", Payload: "{{.Nope"}, "actions[0].payload:"},
		{"unknown field", ActionSpec{Type: ActionMQTT, Topic: "a", Payload: "{{.Nope}}"}, "actions[0].payload:"},
		{"webhook url", ActionSpec{Type: ActionWebhook, URL: "ftp://x"}, `actions[0].url: "ftp://x" is not an http(s) URL`},
		{"webhook timeout", ActionSpec{Type: ActionWebhook, URL: "http://x", Timeout: -1}, "actions[0].timeout:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile([]ActionSpec{tt.spec})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
