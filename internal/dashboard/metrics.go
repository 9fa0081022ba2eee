package dashboard

import (
	"math"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// sample is one series of a gathered metric family.
type sample struct {
	labels map[string]string
	value  float64
}

// snapshot is one gathering of the registry, by metric name.
type snapshot map[string][]sample

// gather reads every metric family once. Families that fail to gather are
// skipped (Gather returns what it could alongside the error).
func gather(g prometheus.Gatherer) snapshot {
	fams, _ := g.Gather()
	out := make(snapshot, len(fams))
	for _, f := range fams {
		out[f.GetName()] = familySamples(f)
		if f.GetType() == dto.MetricType_HISTOGRAM { // the value is the count; the sum beside it
			out[f.GetName()+"_sum"] = histogramSums(f)
		}
	}
	return out
}

func familySamples(f *dto.MetricFamily) []sample {
	ss := make([]sample, 0, len(f.GetMetric()))
	for _, m := range f.GetMetric() {
		lbl := make(map[string]string, len(m.GetLabel()))
		for _, l := range m.GetLabel() {
			lbl[l.GetName()] = l.GetValue()
		}
		ss = append(ss, sample{labels: lbl, value: metricValue(f.GetType(), m)})
	}
	return ss
}

func histogramSums(f *dto.MetricFamily) []sample {
	ss := familySamples(f)
	for i, m := range f.GetMetric() {
		ss[i].value = m.GetHistogram().GetSampleSum()
	}
	return ss
}

func metricValue(t dto.MetricType, m *dto.Metric) float64 {
	switch t {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	case dto.MetricType_UNTYPED:
		return m.GetUntyped().GetValue()
	case dto.MetricType_HISTOGRAM:
		return float64(m.GetHistogram().GetSampleCount())
	case dto.MetricType_SUMMARY:
		return float64(m.GetSummary().GetSampleCount())
	}
	return math.NaN()
}

// has reports whether the metric exists.
func (s snapshot) has(name string) bool { _, ok := s[name]; return ok }

// sum adds up every series of a metric (0 when absent).
func (s snapshot) sum(name string) float64 {
	var t float64
	for _, x := range s[name] {
		t += x.value
	}
	return t
}

// opt is sum as a pointer, nil when the metric is absent (JSON null: "not
// available" rather than 0).
func (s snapshot) opt(name string) *float64 {
	if !s.has(name) {
		return nil
	}
	v := s.sum(name)
	return &v
}

// by sums a metric per value of one label.
func (s snapshot) by(name, label string) map[string]float64 {
	out := map[string]float64{}
	for _, x := range s[name] {
		out[x.labels[label]] += x.value
	}
	return out
}

// byTwo sums a metric per value of label a, then of label b.
func (s snapshot) byTwo(name, a, b string) map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for _, x := range s[name] {
		m := out[x.labels[a]]
		if m == nil {
			m = map[string]float64{}
			out[x.labels[a]] = m
		}
		m[x.labels[b]] += x.value
	}
	return out
}

// labelValues lists the distinct values of label across the metrics, sorted.
func (s snapshot) labelValues(label string, names ...string) []string {
	seen := map[string]bool{}
	for _, n := range names {
		for _, x := range s[n] {
			if v, ok := x.labels[label]; ok {
				seen[v] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}
