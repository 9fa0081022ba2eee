package rules

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/telemetry"
)

func benchEngine(b *testing.B, rules []Rule) *Engine {
	b.Helper()
	cfg := DefaultConfig()
	cfg.Rules = rules
	e, err := New(cfg, Deps{Registry: prometheus.NewRegistry(), Notifier: nopNotifier{}})
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func conventionPoint(device string, v float64) (string, telemetry.Point) {
	st := step{Device: device, Value: &v}
	return st.point()
}

// BenchmarkEvaluateSeedRules: one temperature reading against the seed's
// three rules (one matches), as the ingest pipeline calls it.
func BenchmarkEvaluateSeedRules(b *testing.B) {
	e := benchEngine(b, SeedRules())
	topic, p := conventionPoint("s1", 23.5)
	pts := []telemetry.Point{p}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		pts[0].Time = t0.Add(time.Duration(i) * time.Millisecond)
		e.Evaluate(topic, pts, pts[0].Time)
	}
}

// hundredRules is a mix of simple and windowed conditions, all matching
// sensors/+/temperature, so every reading is evaluated by all 100.
func hundredRules() []Rule {
	var rules []Rule
	add := func(format string, n int, f func(i int) []any) {
		for i := range n {
			rules = append(rules, Rule{Name: fmt.Sprintf("r%03d", len(rules)), Match: Match{Topic: "sensors/+/temperature"},
				Condition: fmt.Sprintf(format, f(i)...)})
		}
	}
	th := func(i int) []any { return []any{90 + i} }
	add("value > %d", 40, th)
	add(`value > %d && location != "depot"`, 20, th)
	add("abs(delta()) > %d || rate() > 5", 10, th)
	add("mean(10) > %d", 5, th)
	add(`max("1m") > %d`, 5, th)
	add("count() > 30 && zscore() > %d", 10, func(i int) []any { return []any{4 + i} })
	add("mad_score(20) > %d", 5, func(i int) []any { return []any{5 + i} })
	add(`stuck("%dm")`, 5, func(i int) []any { return []any{10 + i} })
	return rules
}

// BenchmarkEvaluate100Rules1000Series: readings round-robin over 1000
// series (1s apart per series), each evaluated by 100 rules. evals/s is
// rule evaluations per second on one goroutine.
func BenchmarkEvaluate100Rules1000Series(b *testing.B) {
	e := benchEngine(b, hundredRules())
	const series = 1000
	topics := make([]string, series)
	pts := make([][]telemetry.Point, series)
	for i := range series {
		topic, p := conventionPoint(fmt.Sprintf("d%04d", i), 50)
		topics[i], pts[i] = topic, []telemetry.Point{p}
	}
	for i := range 40 * series { // warm up: histories full, every series tracked
		feed(e, topics, pts, i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 40 * series
	for b.Loop() {
		feed(e, topics, pts, i)
		i++
	}
	b.ReportMetric(float64(b.N)*100/b.Elapsed().Seconds(), "evals/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/eval")
}

// BenchmarkEvaluate100Rules1000SeriesParallel is the same on every core
// (GOMAXPROCS goroutines, shared series).
func BenchmarkEvaluate100Rules1000SeriesParallel(b *testing.B) {
	e := benchEngine(b, hundredRules())
	const series = 1000
	names, topics := make([]string, series), make([]string, series)
	for i := range series {
		names[i] = fmt.Sprintf("d%04d", i)
		topics[i] = "sensors/" + names[i] + "/temperature"
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		_, p := conventionPoint("x", 50)
		pts := []telemetry.Point{p}
		for pb.Next() {
			i := int(next.Add(1))
			d := i % series
			pts[0].Tags[0].Value = names[d] // device_id
			pts[0].Fields[0].Value = 50 + float64((i/series+d)%50)
			pts[0].Time = t0.Add(time.Duration(i/series) * time.Second)
			e.Evaluate(topics[d], pts, pts[0].Time)
		}
	})
	b.ReportMetric(float64(b.N)*100/b.Elapsed().Seconds(), "evals/s")
}

// feed sends reading i: series i%n, at second i/n, a value that crosses
// some thresholds now and then.
func feed(e *Engine, topics []string, pts [][]telemetry.Point, i int) {
	d := i % len(pts)
	p := &pts[d][0]
	p.Time = t0.Add(time.Duration(i/len(pts)) * time.Second)
	p.Fields[0].Value = 50 + float64((i/len(pts)+d)%50)
	e.Evaluate(topics[d], pts[d], p.Time)
}
