package selfscrape

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

type metrics struct {
	scrapes     *prometheus.CounterVec
	ok, failed  prometheus.Counter // scrapes{result}
	appended    prometheus.Counter
	notAppended prometheus.Counter
	scraped     prometheus.Gauge
	duration    prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		scrapes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_selfscrape_scrapes_total",
			Help: "Scrapes of borda's own metrics into its store, by result (ok, error)."}, []string{"result"}),
		appended: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_selfscrape_samples_appended_total",
			Help: "Samples of borda's own metrics stored."}),
		notAppended: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_selfscrape_samples_not_appended_total",
			Help: "Samples of borda's own metrics not stored (the store counts why in borda_store_samples_rejected_total)."}),
		scraped: prometheus.NewGauge(prometheus.GaugeOpts{Name: "borda_selfscrape_samples",
			Help: "Samples in the last scrape of borda's own metrics."}),
		duration: prometheus.NewGauge(prometheus.GaugeOpts{Name: "borda_selfscrape_duration_seconds",
			Help: "How long the last scrape of borda's own metrics took, storing included."}),
	}
	m.ok, m.failed = m.scrapes.WithLabelValues("ok"), m.scrapes.WithLabelValues("error")
	return m
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.scrapes, m.appended, m.notAppended, m.scraped, m.duration}
}

// lastDuration is the previous scrape's duration (0 before the first).
func (m *metrics) lastDuration() float64 {
	var d dto.Metric
	if err := m.duration.Write(&d); err != nil {
		return 0
	}
	return d.GetGauge().GetValue()
}
