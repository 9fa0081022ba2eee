package selfscrape

import (
	"math"
	"strconv"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/borda-edge/borda/internal/telemetry"
)

// convert turns gathered families into points as Prometheus' text format
// would expose them: counters, gauges and untyped values under their name;
// summaries as <name>{quantile}, <name>_sum, <name>_count; histograms as
// <name>_bucket{le}, <name>_sum, <name>_count. Each point has the series'
// labels plus the target labels (a clashing series label is renamed
// exported_<name>) and the one scrape time.
func convert(fams []*dto.MetricFamily, keep func(string) bool, target map[string]string, at time.Time) []telemetry.Point {
	var out []telemetry.Point
	for _, f := range fams {
		name := f.GetName()
		if !keep(name) {
			continue
		}
		for _, m := range f.GetMetric() {
			tags := seriesTags(m.GetLabel(), target)
			add := func(metric string, v float64, extra ...telemetry.Tag) {
				p := telemetry.Point{Measurement: metric, Time: at, Fields: []telemetry.Field{{Key: "value", Value: v}}}
				p.Tags = append(make([]telemetry.Tag, 0, len(tags)+len(extra)), tags...)
				for _, t := range extra {
					p.SetTag(t.Key, t.Value)
				}
				out = append(out, p)
			}
			emit(f.GetType(), name, m, add)
		}
	}
	return out
}

// emit calls add for every sample of one metric.
func emit(typ dto.MetricType, name string, m *dto.Metric, add func(string, float64, ...telemetry.Tag)) {
	switch typ {
	case dto.MetricType_COUNTER:
		add(name, m.GetCounter().GetValue())
	case dto.MetricType_GAUGE:
		add(name, m.GetGauge().GetValue())
	case dto.MetricType_UNTYPED:
		add(name, m.GetUntyped().GetValue())
	case dto.MetricType_SUMMARY:
		s := m.GetSummary()
		for _, q := range s.GetQuantile() {
			add(name, q.GetValue(), telemetry.Tag{Key: "quantile", Value: formatFloat(q.GetQuantile())})
		}
		add(name+"_sum", s.GetSampleSum())
		add(name+"_count", float64(s.GetSampleCount()))
	case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
		h := m.GetHistogram()
		for _, b := range h.GetBucket() {
			if !math.IsInf(b.GetUpperBound(), +1) {
				add(name+"_bucket", float64(b.GetCumulativeCount()), telemetry.Tag{Key: "le", Value: formatFloat(b.GetUpperBound())})
			}
		}
		add(name+"_bucket", float64(h.GetSampleCount()), telemetry.Tag{Key: "le", Value: "+Inf"})
		add(name+"_sum", h.GetSampleSum())
		add(name+"_count", float64(h.GetSampleCount()))
	}
}

// seriesTags are a series' labels and the target labels, sorted.
func seriesTags(labels []*dto.LabelPair, target map[string]string) []telemetry.Tag {
	var p telemetry.Point
	for _, l := range labels {
		k := l.GetName()
		if _, clash := target[k]; clash {
			k = "exported_" + k
		}
		p.SetTag(k, l.GetValue())
	}
	for k, v := range target {
		p.SetTag(k, v)
	}
	return p.Tags
}

// formatFloat writes bucket bounds and quantiles like Prometheus' text
// format (0.005, 1, 2.5, +Inf).
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, +1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
