package link

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/promreg"
)

// Metrics are the series every output exports, labelled output=<name>;
// the queue registers its backlog series (borda_uplink_queue_*) itself.
// Defined once here so that outputs of different kinds can share a
// registry (Prometheus needs one help text per metric name).
type Metrics struct {
	group           *promreg.Group
	Connected       prometheus.Gauge
	Sent            prometheus.Counter
	Retries         prometheus.Counter
	ConnectFailures prometheus.Counter
	LastSuccess     prometheus.Gauge
	SentBytes       prometheus.Counter
	Dropped         *prometheus.CounterVec // reason
}

// Drop reasons of borda_uplink_dropped_total shared by the outputs.
const (
	ReasonCorrupt  = "corrupt"  // a queue entry that does not decode
	ReasonUnmapped = "unmapped" // no mapping/selection matches any more (config changed)
)

// NewMetrics creates (does not register) the metrics of one output.
func NewMetrics(output string) *Metrics {
	l := prometheus.Labels{"output": output}
	return &Metrics{
		Connected: prometheus.NewGauge(prometheus.GaugeOpts{Name: "borda_uplink_connected",
			Help: "1 while the output reaches its remote side (connected, or the last request succeeded).", ConstLabels: l}),
		Sent: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_uplink_sent_total",
			Help: "Queue entries confirmed by the remote side (PUBACK, HTTP 2xx).", ConstLabels: l}),
		Retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_uplink_retries_total",
			Help: "Queue entries handed back to the queue for another attempt.", ConstLabels: l}),
		ConnectFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_uplink_connect_failures_total",
			Help: "Failed connection attempts or failed requests to the remote side.", ConstLabels: l}),
		LastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "borda_uplink_last_success_timestamp_seconds",
			Help: "Unix time of the last confirmed delivery.", ConstLabels: l}),
		SentBytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_uplink_sent_bytes_total",
			Help: "Bytes sent to the remote side (request bodies or MQTT payloads, after compression).", ConstLabels: l}),
		Dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_uplink_dropped_total",
			Help: "Queue entries the output dropped or dead-lettered instead of delivering, by reason.", ConstLabels: l}, []string{"reason"}),
	}
}

// Register registers every metric on reg (nil: none), all or nothing.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	g, err := promreg.Register(reg, m.Connected, m.Sent, m.Retries, m.ConnectFailures,
		m.LastSuccess, m.SentBytes, m.Dropped)
	m.group = g
	return err
}

// Unregister removes them again (so the output can be recreated).
func (m *Metrics) Unregister() { m.group.Unregister() }
