package writeapi

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/ingest"
)

type metrics struct {
	requests *prometheus.CounterVec
	points   prometheus.Counter
	rejected *prometheus.CounterVec
	bytes    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_write_requests_total",
			Help: "Line-protocol write requests (POST /write, /api/v2/write) by API and HTTP status code."}, []string{"api", "code"}),
		points: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_write_points_total",
			Help: "Points from write requests handed to storage."}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_write_rejected_lines_total",
			Help: "Lines of write requests that produced no point, by reason."}, []string{"reason"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_write_body_bytes_total",
			Help: "Decompressed bytes of write request bodies."}),
	}
	for _, r := range ingest.Reasons() {
		m.rejected.WithLabelValues(r)
	}
	reg.MustRegister(m.requests, m.points, m.rejected, m.bytes)
	return m
}
