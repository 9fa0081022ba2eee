package ban

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/promreg"
)

// Refusal reasons of borda_connections_refused_total.
const (
	refusedBanned      = "banned"
	refusedRateLimited = "rate_limited"
)

// Causes of borda_bans_removed_total.
const (
	causeExpired = "expired"
	causeAPI     = "api"
	causeMaxBans = "max_bans"
)

type metrics struct {
	failures   *prometheus.CounterVec // source, reason
	bans       *prometheus.CounterVec // source
	active     prometheus.Gauge
	removed    *prometheus.CounterVec // cause
	refused    *prometheus.CounterVec // listener, reason
	evictions  prometheus.Counter
	storeErrs  prometheus.Counter
	registered *promreg.Group
}

func newMetrics(reg prometheus.Registerer, rate func() *IPRate) (*metrics, error) {
	m := &metrics{
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_auth_failures_total",
			Help: "Authentication failures reported to the ban component, by source (mqtt, http) and reason."},
			[]string{"source", "reason"}),
		bans: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_bans_total",
			Help: "IPs banned after max_retry failures within find_time, by source of the last failure."},
			[]string{"source"}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{Name: "borda_bans_active",
			Help: "IPs banned now."}),
		removed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_bans_removed_total",
			Help: "Bans lifted, by cause (expired, api, max_bans)."}, []string{"cause"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_connections_refused_total",
			Help: "Connections closed at accept time, by listener and reason (banned, rate_limited)."},
			[]string{"listener", "reason"}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_ban_tracker_evictions_total",
			Help: "IPs whose recent failures were forgotten because max_tracked_ips was reached."}),
		storeErrs: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_ban_store_errors_total",
			Help: "Failed writes of the bans file (the ban still holds in memory)."}),
	}
	for _, c := range []string{causeExpired, causeAPI, causeMaxBans} {
		m.removed.WithLabelValues(c)
	}
	connEvictions := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "borda_ban_connection_rate_evictions_total",
		Help: "IPs forgotten by the connection rate limiter because connection_rate.max_tracked_ips was reached."},
		func() float64 {
			if r := rate(); r != nil {
				return float64(r.Evictions())
			}
			return 0
		})
	g, err := promreg.Register(reg, m.failures, m.bans, m.active, m.removed, m.refused, m.evictions,
		m.storeErrs, connEvictions)
	if err != nil {
		return nil, err
	}
	m.registered = g
	return m, nil
}
