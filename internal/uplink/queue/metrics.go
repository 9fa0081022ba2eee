package queue

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/promreg"
)

// Drop reasons, the "reason" label of borda_uplink_queue_dropped_total.
const (
	ReasonMaxBytes = "max_bytes"
	ReasonMaxAge   = "max_age"
)

type metrics struct {
	group        *promreg.Group
	gauges       []prometheus.Collector // computed from Stats at scrape time
	appended     prometheus.Counter
	acked        prometheus.Counter
	dropped      *prometheus.CounterVec
	appendErrors prometheus.Counter
	appendSecs   prometheus.Histogram
}

func newMetrics(output string, stats func() Stats) *metrics {
	cl := prometheus.Labels{"output": output}
	m := &metrics{
		gauges: gaugeFuncs(output, stats),
		appended: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_uplink_queue_appended_total",
			Help: "Entries appended (committed).", ConstLabels: cl}),
		acked: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_uplink_queue_acked_total",
			Help: "Entries acknowledged and deleted.", ConstLabels: cl}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_uplink_queue_dropped_total",
			Help: "Entries dropped by retention, by reason.", ConstLabels: cl}, []string{"reason"}),
		appendErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_uplink_queue_append_errors_total",
			Help: "Append calls that failed to commit (write errors, disk full).", ConstLabels: cl}),
		appendSecs: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "borda_uplink_queue_append_seconds",
			Help: "Append latency including the group commit.", ConstLabels: cl,
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 8)}),
	}
	m.dropped.WithLabelValues(ReasonMaxBytes)
	m.dropped.WithLabelValues(ReasonMaxAge)
	return m
}

func (m *metrics) all() []prometheus.Collector {
	return append([]prometheus.Collector{m.appended, m.acked, m.dropped, m.appendErrors, m.appendSecs},
		m.gauges...)
}

func (m *metrics) register(reg prometheus.Registerer) error {
	g, err := promreg.Register(reg, m.all()...)
	m.group = g
	return err
}

func (m *metrics) unregister() { m.group.Unregister() }

// gaugeFuncs are the backlog gauges, read from Stats when scraped so they
// are never stale.
func gaugeFuncs(output string, stats func() Stats) []prometheus.Collector {
	cl := prometheus.Labels{"output": output}
	gs := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "borda_uplink_queue_bytes",
			Help: "Bytes (keys and values) stored in the uplink queue.", ConstLabels: cl},
			func() float64 { return float64(stats().Bytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "borda_uplink_queue_oldest_age_seconds",
			Help: "Age of the oldest stored entry since it was appended.", ConstLabels: cl},
			func() float64 { return stats().OldestAge.Seconds() }),
	}
	for _, p := range []Priority{Low, High} {
		gs = append(gs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "borda_uplink_queue_entries",
			Help:        "Entries stored in the uplink queue (including in flight).",
			ConstLabels: prometheus.Labels{"output": output, "priority": p.String()}},
			func() float64 { return float64(stats().ByPriority[p].Entries) }))
	}
	return gs
}
