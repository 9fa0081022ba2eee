package broker

import (
	"sync/atomic"

	"github.com/mochi-mqtt/server/v2/system"
	"github.com/prometheus/client_golang/prometheus"
)

// Reasons a message to a subscriber is dropped (borda_mqtt_messages_dropped_total).
const (
	dropWritesPending = "client_writes_pending" // max_client_writes_pending reached
	dropInflightQuota = "inflight_quota"        // max_queued_messages reached
	dropPacketIDs     = "packet_ids_exhausted"  // 65535 unacknowledged messages
	dropExpired       = "expired"               // message_expiry or MQTT 5 expiry passed
	dropSessionEnded  = "session_ended"         // clean session disconnected or session expired
)

// Reasons a publish is refused (borda_mqtt_publish_rejected_total).
const (
	rejectTooLarge     = "message_too_large"
	rejectInvalidTopic = "invalid_topic"
	rejectRate         = "publish_rate"
)

type metrics struct {
	drops           map[string]*atomic.Int64 // fixed set of reasons, read by infoCollector
	rejected        *prometheus.CounterVec
	connErrors      *prometheus.CounterVec
	retainedExpired prometheus.Counter
	sessionsExpired prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, info *system.Info, maxConnections int) *metrics {
	m := &metrics{
		drops: map[string]*atomic.Int64{},
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "borda_mqtt_publish_rejected_total",
			Help: "PUBLISH packets refused from clients, by reason.",
		}, []string{"reason"}),
		connErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "borda_mqtt_connection_errors_total",
			Help: "Client connections ended by an error, by listener and reason.",
		}, []string{"listener", "reason"}),
		retainedExpired: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_mqtt_retained_expired_total",
			Help: "Retained messages removed because they expired."}),
		sessionsExpired: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_mqtt_sessions_expired_total",
			Help: "Persistent sessions removed because session_expiry passed."}),
	}
	for _, r := range []string{dropWritesPending, dropPacketIDs, dropExpired, dropSessionEnded} {
		m.drops[r] = new(atomic.Int64)
	}
	for _, r := range []string{rejectTooLarge, rejectInvalidTopic, rejectRate} {
		m.rejected.WithLabelValues(r)
	}
	maxConns := prometheus.NewGauge(prometheus.GaugeOpts{Name: "borda_mqtt_max_connections",
		Help: "The configured max_connections (alert on borda_mqtt_clients_connected near it)."})
	maxConns.Set(float64(maxConnections))
	reg.MustRegister(m.rejected, m.connErrors, m.retainedExpired, m.sessionsExpired, maxConns,
		&infoCollector{info: info, drops: m.drops})
	return m
}

// infoCollector exposes mochi-mqtt's own counters, read at scrape time.
type infoCollector struct {
	info  *system.Info
	drops map[string]*atomic.Int64
}

var infoDescs = map[string]*prometheus.Desc{
	"clients":     prometheus.NewDesc("borda_mqtt_clients_connected", "Clients connected now.", nil, nil),
	"sessions":    prometheus.NewDesc("borda_mqtt_sessions_disconnected", "Persistent sessions whose client is offline.", nil, nil),
	"msgsRecv":    prometheus.NewDesc("borda_mqtt_messages_received_total", "PUBLISH packets received from clients.", nil, nil),
	"msgsSent":    prometheus.NewDesc("borda_mqtt_messages_sent_total", "PUBLISH packets sent to clients.", nil, nil),
	"bytesRecv":   prometheus.NewDesc("borda_mqtt_received_bytes_total", "Bytes received from clients.", nil, nil),
	"bytesSent":   prometheus.NewDesc("borda_mqtt_sent_bytes_total", "Bytes sent to clients.", nil, nil),
	"packetsRecv": prometheus.NewDesc("borda_mqtt_packets_received_total", "MQTT packets received from clients.", nil, nil),
	"packetsSent": prometheus.NewDesc("borda_mqtt_packets_sent_total", "MQTT packets sent to clients.", nil, nil),
	"retained":    prometheus.NewDesc("borda_mqtt_retained_messages", "Retained messages held.", nil, nil),
	"subs":        prometheus.NewDesc("borda_mqtt_subscriptions", "Active subscriptions.", nil, nil),
	"inflight":    prometheus.NewDesc("borda_mqtt_inflight_messages", "QoS 1/2 messages held for clients (in flight or queued).", nil, nil),
	"dropped":     prometheus.NewDesc("borda_mqtt_messages_dropped_total", "Messages to subscribers the broker gave up on, by reason.", []string{"reason"}, nil),
}

func (c *infoCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range infoDescs {
		ch <- d
	}
}

func (c *infoCollector) Collect(ch chan<- prometheus.Metric) {
	i := c.info
	load := atomic.LoadInt64
	gauge := func(k string, v int64) {
		ch <- prometheus.MustNewConstMetric(infoDescs[k], prometheus.GaugeValue, float64(v))
	}
	counter := func(k string, v int64) {
		ch <- prometheus.MustNewConstMetric(infoDescs[k], prometheus.CounterValue, float64(v))
	}
	gauge("clients", load(&i.ClientsConnected))
	gauge("sessions", load(&i.ClientsDisconnected))
	counter("msgsRecv", load(&i.MessagesReceived))
	counter("msgsSent", load(&i.MessagesSent))
	counter("bytesRecv", load(&i.BytesReceived))
	counter("bytesSent", load(&i.BytesSent))
	counter("packetsRecv", load(&i.PacketsReceived))
	counter("packetsSent", load(&i.PacketsSent))
	gauge("retained", load(&i.Retained))
	gauge("subs", load(&i.Subscriptions))
	gauge("inflight", load(&i.Inflight))
	// mochi-mqtt counts quota drops without a hook; packet-ID exhaustion is
	// in the same counter and already reported under its own reason.
	quota := load(&i.InflightDropped) - c.drops[dropPacketIDs].Load()
	ch <- prometheus.MustNewConstMetric(infoDescs["dropped"], prometheus.CounterValue, float64(max(quota, 0)), dropInflightQuota)
	for reason, n := range c.drops {
		ch <- prometheus.MustNewConstMetric(infoDescs["dropped"], prometheus.CounterValue, float64(n.Load()), reason)
	}
}
