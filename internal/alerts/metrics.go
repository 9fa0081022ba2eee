package alerts

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/telemetry"
)

// Outputs (queue_dropped_total{output}, queue_length{output}) and history
// backends (history_errors_total{backend}).
const (
	outWebhook  = "webhook"
	outHistory  = "history" // the embedded history
	outRedis    = "redis"
	backendBolt = "embedded"
)

// Action results (actions_total{result}, webhook_attempts_total{result}).
const (
	resultOK     = "ok"
	resultError  = "error"
	resultGaveUp = "gave_up"
)

type metrics struct {
	events         *prometheus.CounterVec
	firing         prometheus.Counter // events{state="firing"}, bound for the hot path
	resolved       prometheus.Counter
	actions        *prometheus.CounterVec
	mqttOK         prometheus.Counter
	mqttErr        prometheus.Counter
	dropped        *prometheus.CounterVec
	droppedBy      map[string]prometheus.Counter
	historyErrors  *prometheus.CounterVec
	historyWritten *prometheus.CounterVec
	attempts       *prometheus.CounterVec
	publish        prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, d *Dispatcher) *metrics {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_alerts_events_total",
			Help: "Alert events handed to the dispatcher, by state (firing, resolved, other)."}, []string{"state"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_alerts_actions_total",
			Help: "Actions run, by type (mqtt, webhook) and result (ok, error, gave_up)."}, []string{"type", "result"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_alerts_queue_dropped_total",
			Help: "Events not delivered to an output (webhook, history, redis) because its queue was full, " +
				"its retries ran out, or borda stopped first."}, []string{"output"}),
		historyErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_alerts_history_errors_total",
			Help: "Failed history writes (each retry counts), by backend (embedded, redis)."}, []string{"backend"}),
		historyWritten: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_alerts_history_written_total",
			Help: "Alert events written to the history, by backend (embedded, redis)."}, []string{"backend"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_alerts_webhook_attempts_total",
			Help: "Webhook HTTP attempts, by result (ok, error)."}, []string{"result"}),
		publish: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "borda_alerts_mqtt_publish_seconds",
			Help:    "Time to render and publish one MQTT action through the embedded broker.",
			Buckets: prometheus.ExponentialBuckets(1e-6, 4, 9)}),
	}
	m.firing = m.events.WithLabelValues(telemetry.AlertFiring)
	m.resolved = m.events.WithLabelValues(telemetry.AlertResolved)
	m.mqttOK = m.actions.WithLabelValues(ActionMQTT, resultOK)
	m.mqttErr = m.actions.WithLabelValues(ActionMQTT, resultError)
	for _, r := range []string{resultOK, resultError, resultGaveUp} {
		m.actions.WithLabelValues(ActionWebhook, r)
	}
	m.attempts.WithLabelValues(resultOK)
	m.attempts.WithLabelValues(resultError)
	m.droppedBy = map[string]prometheus.Counter{}
	for _, o := range []string{outWebhook, outHistory, outRedis} {
		m.droppedBy[o] = m.dropped.WithLabelValues(o)
	}
	for _, b := range []string{backendBolt, outRedis} {
		m.historyErrors.WithLabelValues(b)
		m.historyWritten.WithLabelValues(b)
	}
	reg.MustRegister(m.events, m.actions, m.dropped, m.historyErrors, m.historyWritten, m.attempts, m.publish)
	reg.MustRegister(d.gauges()...)
	return m
}

// gauges read the dispatcher's state at scrape time.
func (d *Dispatcher) gauges() []prometheus.Collector {
	queue := func(out string, q func() int) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "borda_alerts_queue_length",
			Help:        "Events waiting for an output (webhook, history, redis).",
			ConstLabels: prometheus.Labels{"output": out}}, func() float64 { return float64(q()) })
	}
	bolt := func(name, help string, f func(h *BoltHistory) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 {
			if h := d.embedded.Load(); h != nil {
				return f(h)
			}
			return 0
		})
	}
	return []prometheus.Collector{
		queue(outWebhook, func() int { return len(d.webhookQ) }),
		queue(outHistory, func() int { return len(d.historyQ) }),
		queue(outRedis, func() int { return len(d.redisQ) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "borda_alerts_history_entries",
			Help: "Alert events in the embedded history (expired ones count until purged)."},
			func() float64 {
				if h := d.embedded.Load(); h != nil {
					return float64(h.Len())
				}
				return 0
			}),
		bolt("borda_alerts_history_evicted_total", "Events evicted from the embedded history to stay within history.max_entries.",
			func(h *BoltHistory) float64 { return float64(h.evicted.Load()) }),
		bolt("borda_alerts_history_expired_total", "Events purged from the embedded history after history.ttl.",
			func(h *BoltHistory) float64 { return float64(h.expired.Load()) }),
	}
}
