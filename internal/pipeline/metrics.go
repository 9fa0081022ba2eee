package pipeline

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/ingest"
)

// Metrics are the pipeline's counters; create once per registry.
type Metrics struct {
	messages    prometheus.Counter
	points      prometheus.Counter
	rejected    *prometheus.CounterVec
	dropped     prometheus.Counter
	failed      prometheus.Counter
	queueLength prometheus.Gauge
	batchSize   prometheus.Histogram
}

// NewMetrics registers the pipeline metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		messages: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_ingest_messages_total",
			Help: "Messages taken from the broker for ingestion."}),
		points: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_ingest_points_total",
			Help: "Points handed to storage successfully."}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_ingest_rejected_total",
			Help: "Messages (or line-protocol lines) that produced no point, by reason."}, []string{"reason"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_ingest_dropped_points_total",
			Help: "Points discarded because the queue was full (qos0_overflow: drop) or the pipeline had stopped."}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_ingest_store_failed_points_total",
			Help: "Points in batches that storage failed to append."}),
		queueLength: prometheus.NewGauge(prometheus.GaugeOpts{Name: "borda_ingest_queue_length",
			Help: "Messages waiting to be stored, sampled at each batch."}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "borda_ingest_batch_points",
			Help: "Points per storage batch.", Buckets: prometheus.ExponentialBuckets(1, 4, 8)}),
	}
	for _, r := range ingest.Reasons() {
		m.rejected.WithLabelValues(r)
	}
	reg.MustRegister(m.messages, m.points, m.rejected, m.dropped, m.failed, m.queueLength, m.batchSize)
	return m
}
