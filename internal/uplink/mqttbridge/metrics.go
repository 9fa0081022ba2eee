package mqttbridge

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/promreg"
)

// metrics are the bridge's own series, labelled output=<name>. The queue
// registers its backlog series itself.
type metrics struct {
	group       *promreg.Group
	connected   prometheus.Gauge
	sent        prometheus.Counter
	retries     prometheus.Counter
	connectErrs prometheus.Counter
	lastSuccess prometheus.Gauge
	inMessages  prometheus.Counter
	dropped     *prometheus.CounterVec
}

func newMetrics(name string) *metrics {
	l := prometheus.Labels{"output": name}
	return &metrics{
		connected: prometheus.NewGauge(prometheus.GaugeOpts{Name: "borda_uplink_connected",
			Help: "1 while the output is connected to the cloud broker.", ConstLabels: l}),
		sent: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_uplink_sent_total",
			Help: "Messages confirmed by the cloud broker (PUBACK, or written for QoS 0).", ConstLabels: l}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_uplink_retries_total",
			Help: "Messages handed back to the queue for another attempt (connection lost or publish failed).", ConstLabels: l}),
		connectErrs: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_uplink_connect_failures_total",
			Help: "Failed connection attempts to the cloud broker.", ConstLabels: l}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "borda_uplink_last_success_timestamp_seconds",
			Help: "Unix time of the last confirmed delivery.", ConstLabels: l}),
		inMessages: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_uplink_in_messages_total",
			Help: "Messages received from the cloud through an in mapping and republished locally.", ConstLabels: l}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_uplink_bridge_dropped_total",
			Help: "Queued entries the bridge could not send and dropped, by reason.", ConstLabels: l}, []string{"reason"}),
	}
}

func (m *metrics) all() []prometheus.Collector {
	return []prometheus.Collector{m.connected, m.sent, m.retries, m.connectErrs, m.lastSuccess, m.inMessages, m.dropped}
}

func (m *metrics) register(reg prometheus.Registerer) error {
	g, err := promreg.Register(reg, m.all()...)
	m.group = g
	return err
}

func (m *metrics) unregister() { m.group.Unregister() }
