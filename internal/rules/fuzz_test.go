package rules

import (
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/telemetry"
)

// FuzzCompile: whatever the condition (and clear) text, compiling never
// panics, and a condition that compiles evaluates on odd readings without
// panicking (a recovered panic would be counted as reason "panic").
// Seeds: testdata/fuzz/FuzzCompile.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{"value > 80", `speed > 120 && location != "depot"`, `mean("5m") > 3`,
		"zscore(0.2) > 3 || mad_score(20) > 3.5", `stuck("10m")`, "max(value, prev()) > 1", "let x = delta(); x > 1"} {
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, cond, clear string) {
		cfg := DefaultConfig()
		cfg.Rules = []Rule{{Name: "f", Match: Match{Topic: "#"}, Condition: cond, Clear: clear, For: time.Second}}
		if _, err := compileConfig(cfg); err != nil {
			return
		}
		reg := prometheus.NewRegistry()
		e, err := New(cfg, Deps{Registry: reg})
		if err != nil {
			t.Fatalf("compiled in Validate but not in New: %v", err)
		}
		for i, v := range []float64{0, 1e308, -1e308, 5e-324, 42, 42, 42, -1} {
			p := telemetry.Point{Measurement: "m", Time: t0.Add(time.Duration(i) * time.Second)}
			p.SetTag("device_id", "d")
			p.SetField("value", v)
			if i%2 == 0 {
				p.SetField("speed", math.Pi)
			}
			e.Evaluate("sensors/d/temperature", []telemetry.Point{p}, p.Time)
		}
		if n := metricSum(t, reg, "borda_rules_errors_total", "reason", "panic"); n > 0 {
			t.Fatalf("condition %q / clear %q panicked during evaluation", cond, clear)
		}
	})
}

// FuzzParseFile: whatever the rules file, parsing and validating it never
// panics.
func FuzzParseFile(f *testing.F) {
	f.Add([]byte("rules:\n  - name: a\n    match: {topic: '#'}\n    condition: value > 1\n    for: 5m\n"))
	f.Add([]byte("rules: [{name: b, match: {measurement: m, tags: {x: '=~a|b'}}, silent: 1m}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, _, err := parseFile("f.yaml", data)
		if err != nil {
			return
		}
		cfg := DefaultConfig()
		cfg.Rules = rules
		_ = cfg.Validate()
	})
}
