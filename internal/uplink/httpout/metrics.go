package httpout

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/promreg"
	"github.com/borda-edge/borda/internal/uplink/link"
)

// Results of borda_uplink_http_points_total.
const (
	resultSent       = "sent"        // confirmed by a 2xx
	resultDeadLetter = "dead_letter" // rejected for good, kept in the dead-letter queue
	resultSkipped    = "skipped"     // selected but not encodable (no finite field, invalid labels)
)

// metrics are the HTTP outputs' own series (labelled output=<name>), in
// addition to link.Metrics and the queue's.
type metrics struct {
	requests *prometheus.CounterVec // code
	points   *prometheus.CounterVec // result
}

func newMetrics(output string) *metrics {
	l := prometheus.Labels{"output": output}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_uplink_http_requests_total",
			Help: "HTTP requests of an uplink output by status code (\"error\": no answer).", ConstLabels: l}, []string{"code"}),
		points: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_uplink_http_points_total",
			Help: "Points (lines, samples) of an HTTP uplink output by result: sent, dead_letter, skipped.", ConstLabels: l},
			[]string{"result"}),
	}
	for _, r := range []string{resultSent, resultDeadLetter, resultSkipped} {
		m.points.WithLabelValues(r)
	}
	return m
}

// group registers link.Metrics and the HTTP metrics together.
type group struct {
	lm *link.Metrics
	g  *promreg.Group
}

func registerAll(reg prometheus.Registerer, lm *link.Metrics, m *metrics) (*group, error) {
	if err := lm.Register(reg); err != nil {
		return nil, err //nolint:wrapcheck // already says what failed
	}
	g, err := promreg.Register(reg, m.requests, m.points)
	if err != nil {
		lm.Unregister()
		return nil, err //nolint:wrapcheck
	}
	return &group{lm: lm, g: g}, nil
}

func (g *group) unregister() {
	g.g.Unregister()
	g.lm.Unregister()
}
