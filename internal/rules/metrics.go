package rules

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// reason is a label value of borda_rules_errors_total.
type reason int

const (
	reasonMissingField reason = iota // the reading lacks the tracked field, or a field/tag the condition names
	reasonType                       // type mismatch, or a condition that is not a boolean
	reasonNaN                        // the tracked field is NaN or ±Inf
	reasonEval                       // any other evaluation error
	reasonPanic                      // a recovered panic (a bug)
	numReasons
)

func (r reason) String() string {
	return [numReasons]string{"missing_field", "type", "nan", "eval", "panic"}[r]
}

// reasonCooldown is the reason of borda_rules_suppressed_total.
const reasonCooldown = "cooldown"

type metrics struct {
	evals      *prometheus.CounterVec
	matches    *prometheus.CounterVec
	errors     *prometheus.CounterVec
	seconds    prometheus.Histogram
	fired      *prometheus.CounterVec
	resolved   *prometheus.CounterVec
	firing     *prometheus.GaugeVec
	suppressed *prometheus.CounterVec
	tracked    *prometheus.GaugeVec
	dropped    *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_rules_" + name, Help: help}, labels)
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "borda_rules_" + name, Help: help}, labels)
	}
	m := &metrics{
		evals:   counter("evaluations_total", "Readings evaluated by a rule.", "rule"),
		matches: counter("matches_total", "Evaluations whose condition was true.", "rule"),
		errors:  counter("errors_total", "Evaluations that failed, by reason.", "rule", "reason"),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "borda_rules_evaluation_seconds",
			Help:    "Time to evaluate one reading against every rule.",
			Buckets: prometheus.ExponentialBuckets(1e-6, 2, 16), // 1µs .. 33ms
		}),
		fired:      counter("alerts_fired_total", "Alerts that started firing.", "rule", "type", "severity"),
		resolved:   counter("alerts_resolved_total", "Firing alerts that resolved.", "rule", "type", "severity"),
		firing:     gauge("alerts_firing", "Alerts firing now.", "type", "severity"),
		suppressed: counter("suppressed_total", "Alert episodes not fired, by reason.", "rule", "reason"),
		tracked:    gauge("series_tracked", "Series a rule keeps state for.", "rule"),
		dropped:    counter("series_dropped_total", "Readings not evaluated because the rule tracks max_series_per_rule series.", "rule"),
	}
	for _, c := range []prometheus.Collector{m.evals, m.matches, m.errors, m.seconds, m.fired,
		m.resolved, m.firing, m.suppressed, m.tracked, m.dropped} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("rules: register metrics: %w", err)
		}
	}
	return m, nil
}

// ruleMetrics are one rule's children, looked up once per (re)load so
// that evaluation does no label lookups.
type ruleMetrics struct {
	evals, matches, dropped, suppressed, fired prometheus.Counter
	errs                                       [numReasons]prometheus.Counter
	tracked                                    prometheus.Gauge
}

func (m *metrics) forRule(r *rule) ruleMetrics {
	rm := ruleMetrics{
		evals:      m.evals.WithLabelValues(r.name),
		matches:    m.matches.WithLabelValues(r.name),
		dropped:    m.dropped.WithLabelValues(r.name),
		suppressed: m.suppressed.WithLabelValues(r.name, reasonCooldown),
		fired:      m.fired.WithLabelValues(r.name, r.cfg.Type, r.cfg.Severity),
		tracked:    m.tracked.WithLabelValues(r.name),
	}
	for i := range numReasons {
		rm.errs[i] = m.errors.WithLabelValues(r.name, i.String())
	}
	return rm
}
