package simulate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/ingest"
	"github.com/borda-edge/borda/internal/telemetry"
)

type message struct {
	topic, payload string
	cls            class
	dev            *device
	series         string
}

// generate builds the fleet of cfg and emits n messages round robin over
// its devices with a synthetic clock that advances step per message.
func generate(t *testing.T, cfg Config, n int, step time.Duration) []message {
	t.Helper()
	cfg.Broker = "tcp://127.0.0.1:1883"
	if cfg.Count == 0 {
		cfg.Count = int64(n)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	devs := newFleet(&cfg)
	now := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC).UnixNano()
	out := make([]message, 0, n)
	var buf []byte
	for i := range n {
		d := devs[i%len(devs)]
		series := d.series[d.next].metric
		topic, payload, cls := d.emit(buf, now)
		buf = payload[:0]
		out = append(out, message{string(topic), string(payload), cls, d, series})
		now += int64(step)
	}
	return out
}

func TestGeneratorsAreDeterministic(t *testing.T) {
	for _, profile := range []string{ProfileFactory, ProfileCity, ProfileVehicles, ProfileMixed} {
		t.Run(profile, func(t *testing.T) {
			cfg := Config{Devices: 17, Profile: profile, Seed: 42, AnomalyRate: 0.2, MalformedRate: 0.1}
			a := generate(t, cfg, 3000, time.Millisecond/3)
			b := generate(t, cfg, 3000, time.Millisecond/3)
			for i := range a {
				if a[i].topic != b[i].topic || a[i].payload != b[i].payload || a[i].cls != b[i].cls {
					t.Fatalf("message %d differs with the same seed:\n%s %s\n%s %s", i, a[i].topic, a[i].payload, b[i].topic, b[i].payload)
				}
			}
			cfg.Seed = 43
			c := generate(t, cfg, 3000, time.Millisecond/3)
			same := 0
			for i := range a {
				if a[i].payload == c[i].payload {
					same++
				}
			}
			if same > len(a)/10 {
				t.Errorf("seeds 42 and 43 give %d identical payloads of %d", same, len(a))
			}
		})
	}
}

// TestPayloadsDecodeWithBordaIngest routes every generated message through
// borda's own ingest router: readings become exactly one point under the
// metric the report names, with strictly increasing timestamps per series;
// malformed payloads are rejected.
func TestPayloadsDecodeWithBordaIngest(t *testing.T) {
	r, err := ingest.NewRouter(ingest.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, profile := range []string{ProfileFactory, ProfileCity, ProfileVehicles, ProfileMixed} {
		t.Run(profile, func(t *testing.T) {
			msgs := generate(t, Config{Devices: 40, Profile: profile, Seed: 7, AnomalyRate: 0.1, MalformedRate: 0.1}, 8000, 100*time.Microsecond)
			last := map[string]time.Time{}
			for i, m := range msgs {
				pts, err := r.Route(m.topic, []byte(m.payload), time.Now(), nil)
				if m.cls == classMalformed {
					if err == nil || len(pts) != 0 {
						t.Fatalf("message %d: malformed %s %q accepted: %v", i, m.topic, m.payload, pts)
					}
					continue
				}
				if err != nil || len(pts) != 1 {
					t.Fatalf("message %d: %s %q: %d points, %v", i, m.topic, m.payload, len(pts), err)
				}
				checkPoint(t, m, pts[0], last)
			}
		})
	}
}

func checkPoint(t *testing.T, m message, p telemetry.Point, last map[string]time.Time) {
	t.Helper()
	field := "value"
	if !strings.HasPrefix(m.series, p.Measurement) {
		t.Fatalf("%s: measurement %s, series %s", m.topic, p.Measurement, m.series)
	}
	if rest := strings.TrimPrefix(m.series, p.Measurement); rest != "" {
		field = strings.TrimPrefix(rest, "_")
	}
	if _, ok := p.Field(field); !ok {
		t.Fatalf("%s %q: no field %q for series %s", m.topic, m.payload, field, m.series)
	}
	if id, _ := p.Tag("device_id"); id != m.dev.id {
		t.Fatalf("%s: device_id %q", m.topic, id)
	}
	if loc, _ := p.Tag("location"); loc != m.dev.location {
		t.Fatalf("%s: location %q, want %q", m.topic, loc, m.dev.location)
	}
	key := m.dev.id + "/" + m.series
	if prev, ok := last[key]; ok && !p.Time.After(prev) {
		t.Fatalf("%s: timestamp %v not after %v", key, p.Time, prev)
	}
	last[key] = p.Time
}

func TestFaultRates(t *testing.T) {
	tests := []struct {
		name               string
		anomaly, malformed float64
	}{
		{"none", 0, 0},
		{"some", 0.05, 0.02},
		{"many", 0.3, 0.2},
		{"all anomalous", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 40000
			msgs := generate(t, Config{Devices: 50, Profile: ProfileMixed, Seed: 3, AnomalyRate: tt.anomaly, MalformedRate: tt.malformed}, n, time.Millisecond)
			var anomalies, malformed, readings int
			for _, m := range msgs {
				switch m.cls {
				case classAnomaly:
					anomalies++
					readings++
				case classMalformed:
					malformed++
				default:
					readings++
				}
			}
			within(t, "malformed", float64(malformed)/n, tt.malformed)
			within(t, "anomalous", float64(anomalies)/float64(readings), tt.anomaly)
		})
	}
}

// within checks a seeded sample fraction against its rate: ±20% relative
// or ±0.005 absolute (the sample is fixed, so this is not flaky).
func within(t *testing.T, what string, got, want float64) {
	t.Helper()
	if d := got - want; d > want*0.2+0.005 || -d > want*0.2+0.005 {
		t.Errorf("%s fraction %.4f, want about %.4f", what, got, want)
	}
}

// TestThresholds: without anomalies nothing crosses the seed's alert
// thresholds (temperature > 80, pressure > 100, speed > 120); with them,
// spikes do.
func TestThresholds(t *testing.T) {
	for _, rate := range []float64{0, 0.2} {
		msgs := generate(t, Config{Devices: 40, Profile: ProfileMixed, Seed: 11, AnomalyRate: rate}, 20000, time.Second)
		over := map[string]int{}
		for _, m := range msgs {
			var v map[string]any
			if err := json.Unmarshal([]byte(m.payload), &v); err != nil {
				t.Fatalf("%q: %v", m.payload, err)
			}
			switch {
			case strings.HasSuffix(m.topic, "/temperature") && v["value"].(float64) > 80,
				strings.HasSuffix(m.topic, "/pressure") && v["value"].(float64) > 100,
				strings.HasSuffix(m.topic, "/location") && v["speed"].(float64) > 120:
				over[m.topic[strings.LastIndexByte(m.topic, '/')+1:]]++
			}
		}
		if rate == 0 && len(over) > 0 {
			t.Errorf("without anomalies, readings over thresholds: %v", over)
		}
		if rate > 0 && (over["temperature"] == 0 || over["pressure"] == 0 || over["location"] == 0) {
			t.Errorf("with anomalies, readings over thresholds: %v", over)
		}
	}
}

func TestProfileMix(t *testing.T) {
	tests := []struct {
		profile string
		want    map[string]int // of 20 devices
	}{
		{ProfileFactory, map[string]int{"machine": 12, "environment": 4, "status": 3, "camera": 1}},
		{ProfileCity, map[string]int{"environment": 8, "camera": 5, "vehicle": 4, "status": 3}},
		{ProfileVehicles, map[string]int{"vehicle": 18, "status": 2}},
		{ProfileMixed, map[string]int{"machine": 4, "environment": 4, "vehicle": 4, "status": 4, "camera": 4}},
	}
	for _, tt := range tests {
		cfg := Config{Broker: "tcp://x", Devices: 20, Profile: tt.profile, Count: 1}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, d := range newFleet(&cfg) {
			got[d.kind.String()]++
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: kinds %v, want %v", tt.profile, got, tt.want)
		}
	}
}

func TestWholeNumberSensors(t *testing.T) {
	msgs := generate(t, Config{Devices: 40, Profile: ProfileCity, Seed: 5}, 2000, time.Second)
	whole, decimal := 0, 0
	for _, m := range msgs {
		if !strings.HasPrefix(m.topic, "sensors/") {
			continue
		}
		v := m.payload[len(`{"value":`):strings.IndexByte(m.payload, ',')]
		if strings.Contains(v, ".") {
			decimal++
		} else {
			whole++
		}
	}
	if whole == 0 || decimal == 0 {
		t.Errorf("sensor values: %d whole, %d with decimals; want both", whole, decimal)
	}
}

func TestSilentDevices(t *testing.T) {
	cfg := Config{Broker: "tcp://x", Devices: 50, Count: 5000, SilentRate: 0.2, Seed: 9}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range newFleet(&cfg) {
		if d.silentAt > 0 {
			n++
			if d.silentAt < 20 || d.silentAt > 80 { // 20-80% of 100 messages per device
				t.Errorf("%s silent after %d messages", d.id, d.silentAt)
			}
		}
	}
	if n != 10 {
		t.Errorf("%d silent devices, want 10", n)
	}
}

func TestSentStamp(t *testing.T) {
	tests := []struct {
		payload string
		want    int64
	}{
		{`{"value":1,"sent":"1732488780123456789"}`, 1732488780123456789},
		{`{"value":1,"sent":"17324887`, 0},                 // truncated: no closing quote
		{`{"value":1,"sent":"1732488780123456789123"}`, 0}, // too long
		{`{"value":1,"sent":""}`, 0},
		{`{"value":1,"sent":"12a"}`, 0},
		{`{"value":1}`, 0},
	}
	for _, tt := range tests {
		if got := sentStamp([]byte(tt.payload)); got != tt.want {
			t.Errorf("sentStamp(%s) = %d, want %d", tt.payload, got, tt.want)
		}
	}
}

func TestPayloadShapes(t *testing.T) {
	msgs := generate(t, Config{Devices: 5, Profile: ProfileMixed, Seed: 1}, 10, time.Second)
	for _, m := range msgs {
		if !json.Valid([]byte(m.payload)) || !bytes.Contains([]byte(m.payload), []byte(`"ts":`)) {
			t.Errorf("%s %s", m.topic, m.payload)
		}
		t.Logf("%s %s", m.topic, m.payload)
	}
}

// TestGeneratorCoversEverySeries: Series() calls of Next yield each topic
// once, with the timestamp of the simulated send time.
func TestGeneratorCoversEverySeries(t *testing.T) {
	g, err := NewGenerator(Config{Devices: 50, Profile: ProfileMixed, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for round := range 3 {
		seen := map[string]bool{}
		for range g.Series() {
			topic, payload := g.Next(now + int64(round)*1e9)
			if seen[string(topic)] {
				t.Fatalf("round %d: %s twice", round, topic)
			}
			seen[string(topic)] = true
			if !bytes.Contains(payload, []byte(`"ts":`+strconv.FormatInt(now/1e6+int64(round)*1000, 10))) {
				t.Fatalf("payload %s lacks the simulated timestamp", payload)
			}
		}
		if len(seen) < 50 {
			t.Fatalf("round %d: %d topics for 50 devices", round, len(seen))
		}
	}
}
