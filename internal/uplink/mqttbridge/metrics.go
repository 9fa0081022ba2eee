package mqttbridge

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/promreg"
	"github.com/borda-edge/borda/internal/uplink/link"
)

// metrics are the series every output exports (link.Metrics) plus the
// bridge's own, labelled output=<name>. The queue registers its backlog
// series itself.
type metrics struct {
	*link.Metrics
	group      *promreg.Group
	inMessages prometheus.Counter
}

func newMetrics(name string) *metrics {
	return &metrics{
		Metrics: link.NewMetrics(name),
		inMessages: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_uplink_in_messages_total",
			Help:        "Messages received from the cloud through an in mapping and republished locally.",
			ConstLabels: prometheus.Labels{"output": name}}),
	}
}

func (m *metrics) register(reg prometheus.Registerer) error {
	if err := m.Metrics.Register(reg); err != nil {
		return err //nolint:wrapcheck // already says what
	}
	g, err := promreg.Register(reg, m.inMessages)
	if err != nil {
		m.Metrics.Unregister()
		return err //nolint:wrapcheck // already says what
	}
	m.group = g
	return nil
}

func (m *metrics) unregister() {
	m.group.Unregister()
	m.Metrics.Unregister()
}
