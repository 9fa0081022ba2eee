package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"github.com/borda-edge/borda/internal/telemetry"
)

// sequence is one testdata/sequences/*.yaml file: rules, then steps that
// are readings (or silent-checker ticks) with the alert events they must
// produce, as "state rule device value".
type sequence struct {
	Description      string `yaml:"description"`
	Rules            []Rule `yaml:"rules"`
	MaxSeriesPerRule int    `yaml:"max_series_per_rule"`
	Steps            []step `yaml:"steps"`
}

type step struct {
	At       time.Duration      `yaml:"at"`   // reading time, offset from t0
	Tick     time.Duration      `yaml:"tick"` // instead of a reading: the silent checker runs at t0+tick
	Topic    string             `yaml:"topic"`
	Device   string             `yaml:"device"`
	Location string             `yaml:"location"`
	Value    *float64           `yaml:"value"`
	Fields   map[string]float64 `yaml:"fields"`
	Want     []string           `yaml:"want"`
	Errors   float64            `yaml:"errors"`  // increase of borda_rules_errors_total
	Dropped  float64            `yaml:"dropped"` // increase of borda_rules_series_dropped_total
}

// recorder is a Notifier that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []telemetry.Alert
}

func (r *recorder) Notify(a telemetry.Alert) {
	r.mu.Lock()
	r.events = append(r.events, a)
	r.mu.Unlock()
}

func (r *recorder) take() []telemetry.Alert {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func brief(a telemetry.Alert) string {
	return fmt.Sprintf("%s %s %s %s", a.State, a.Rule, a.DeviceID, strconv.FormatFloat(a.Value, 'g', -1, 64))
}

// point builds a reading the way ingest's convention does.
func (s step) point() (string, telemetry.Point) {
	device := s.Device
	if device == "" {
		device = "s1"
	}
	topic := s.Topic
	if topic == "" {
		topic = "sensors/" + device + "/temperature"
	}
	parts := strings.Split(topic, "/")
	loc := s.Location
	if loc == "" {
		loc = "hall"
	}
	p := telemetry.Point{Measurement: parts[0] + "_" + parts[len(parts)-1], Time: t0.Add(s.At)}
	p.SetTag("device_id", parts[1])
	p.SetTag("device_type", parts[0])
	p.SetTag("location", loc)
	if s.Value != nil {
		p.SetField("value", *s.Value)
	}
	p.SetField("quality", 1)
	keys := make([]string, 0, len(s.Fields))
	for k := range s.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p.SetField(k, s.Fields[k])
	}
	return topic, p
}

func TestSequences(t *testing.T) {
	files, err := filepath.Glob("testdata/sequences/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sequences: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var seq sequence
			if err := yaml.Unmarshal(data, &seq); err != nil {
				t.Fatal(err)
			}
			runSequence(t, seq)
		})
	}
}

func runSequence(t *testing.T, seq sequence) {
	cfg := DefaultConfig()
	cfg.Rules = seq.Rules
	if seq.MaxSeriesPerRule > 0 {
		cfg.MaxSeriesPerRule = seq.MaxSeriesPerRule
	}
	rec := &recorder{}
	reg := prometheus.NewRegistry()
	e, err := New(cfg, Deps{Registry: reg, Notifier: rec, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range seq.Steps {
		errs, dropped := metricSum(t, reg, "borda_rules_errors_total"), metricSum(t, reg, "borda_rules_series_dropped_total")
		what := fmt.Sprintf("step %d (at %v)", i, st.At)
		if st.Tick > 0 {
			what = fmt.Sprintf("step %d (tick %v)", i, st.Tick)
			e.checkSilent(t0.Add(st.Tick))
		} else {
			topic, p := st.point()
			e.Evaluate(topic, []telemetry.Point{p}, p.Time)
		}
		var got []string
		for _, a := range rec.take() {
			got = append(got, brief(a))
		}
		if !slices.Equal(got, st.Want) {
			t.Fatalf("%s: events %q, want %q", what, got, st.Want)
		}
		if d := metricSum(t, reg, "borda_rules_errors_total") - errs; d != st.Errors {
			t.Fatalf("%s: %v evaluation errors, want %v", what, d, st.Errors)
		}
		if d := metricSum(t, reg, "borda_rules_series_dropped_total") - dropped; d != st.Dropped {
			t.Fatalf("%s: %v dropped, want %v", what, d, st.Dropped)
		}
	}
}

// metricSum adds up every series of a counter or gauge family.
func metricSum(t *testing.T, g prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					found = found || (lp.GetName() == labels[i] && lp.GetValue() == labels[i+1])
				}
				if !found {
					continue metric
				}
			}
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}
