package attach

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/promreg"
)

type metrics struct {
	group         *promreg.Group
	connected     prometheus.Gauge
	received      prometheus.Counter
	failed        prometheus.Counter
	disconnects   prometheus.Counter
	connectErrors prometheus.Counter
	published     prometheus.Counter
	publishFailed prometheus.Counter
	adoptions     *prometheus.CounterVec
	adopted       prometheus.Gauge
	peerOnline    *prometheus.GaugeVec
}

func newMetrics(name string) *metrics {
	l := prometheus.Labels{"broker": name}
	g := func(n, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: n, Help: help, ConstLabels: l})
	}
	c := func(n, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: n, Help: help, ConstLabels: l})
	}
	return &metrics{
		connected:     g("borda_attach_connected", "1 while the session with the external broker is up."),
		received:      c("borda_attach_messages_received_total", "Messages received from the external broker."),
		failed:        c("borda_attach_messages_not_stored_total", "Messages whose readings the store refused (also counted by the ingest pipeline); acknowledged."),
		disconnects:   c("borda_attach_disconnects_total", "Lost connections to the external broker."),
		connectErrors: c("borda_attach_connect_errors_total", "Failed connection attempts."),
		published:     c("borda_attach_published_total", "Messages published to the external broker (rule actions)."),
		publishFailed: c("borda_attach_publish_failed_total", "Publishes to the external broker that failed (not connected, refused)."),
		adoptions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_attach_adoptions_total",
			Help: "Attempts to adopt an offline peer's session, by result (adopted, no_session, failed).", ConstLabels: l},
			[]string{"result"}),
		adopted: g("borda_attach_adopted_sessions", "Peer sessions this collector is storing for (their owners are offline)."),
		peerOnline: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "borda_attach_peer_online",
			Help: "Last presence seen of each peer collector (1 online, 0 offline).", ConstLabels: l}, []string{"peer"}),
	}
}

func (m *metrics) register(reg prometheus.Registerer) error {
	g, err := promreg.Register(reg, m.connected, m.received, m.failed, m.disconnects, m.connectErrors,
		m.published, m.publishFailed, m.adoptions, m.adopted, m.peerOnline)
	m.group = g
	return err
}
