package httpguard

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/ban"
	"github.com/borda-edge/borda/internal/promreg"
)

// Reasons of borda_http_auth_failures_total. Only bad_token, bad_password
// and malformed (credentials presented and wrong) count towards a ban.
const (
	authMissing       = "missing"        // protected request without credentials
	authNotConfigured = "not_configured" // no tokens or users, request not from loopback
	authBadToken      = "bad_token"
	authBadPassword   = "bad_password" // unknown user or wrong password
	authMalformed     = "malformed"    // unknown scheme or undecodable basic auth
)

// Kinds of borda_http_requests_total.
const (
	kindStatic  = "static"  // Deps.Static: not rate limited, always public
	kindDynamic = "dynamic" // everything else
)

type metrics struct {
	requests  *prometheus.CounterVec
	static    prometheus.Counter // requests{kind="static"}
	dynamic   prometheus.Counter // requests{kind="dynamic"}
	limited   prometheus.Counter
	banned    prometheus.Counter
	authFails *prometheus.CounterVec
	tooLarge  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, rate *ban.IPRate) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_http_requests_total",
			Help: "HTTP requests seen by the guard, by kind: static (the dashboard's page and assets, not rate limited) or dynamic (everything else, refused ones included)."},
			[]string{"kind"}),
		limited: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_http_requests_limited_total",
			Help: "HTTP requests refused with 429 because the client IP exceeded the request rate."}),
		banned: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_http_requests_banned_total",
			Help: "HTTP requests refused with 403 because the client IP is banned."}),
		authFails: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_http_auth_failures_total",
			Help: "HTTP requests refused with 401, by reason (missing, not_configured, bad_token, bad_password, malformed)."},
			[]string{"reason"}),
		tooLarge: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_http_bodies_too_large_total",
			Help: "HTTP requests refused with 413 because the body exceeded max_body_bytes."}),
	}
	for _, r := range []string{authMissing, authNotConfigured, authBadToken, authBadPassword, authMalformed} {
		m.authFails.WithLabelValues(r)
	}
	m.static, m.dynamic = m.requests.WithLabelValues(kindStatic), m.requests.WithLabelValues(kindDynamic)
	cs := []prometheus.Collector{m.requests, m.limited, m.banned, m.authFails, m.tooLarge}
	if rate != nil {
		cs = append(cs, prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "borda_http_rate_limit_evictions_total",
			Help: "Client IPs forgotten by the request rate limiter because rate_limit.max_tracked_ips was reached."},
			func() float64 { return float64(rate.Evictions()) }))
	}
	if _, err := promreg.Register(reg, cs...); err != nil {
		return nil, err
	}
	return m, nil
}

// count counts one request of its kind.
func (m *metrics) count(static bool) {
	if static {
		m.static.Inc()
		return
	}
	m.dynamic.Inc()
}
