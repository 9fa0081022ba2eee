package auth

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// How a client authenticated (borda_mqtt_auth_successes_total{method}).
const (
	MethodPassword    = "password"
	MethodCertificate = "certificate"
	MethodAnonymous   = "anonymous"
)

// Why authentication failed: the reason label of
// borda_mqtt_auth_failures_total and the reason given to Failures.
const (
	ReasonUnknownUser   = "unknown_user"   // no such user
	ReasonBadPassword   = "bad_password"   // wrong (or missing, or over-long) password
	ReasonAnonymous     = "anonymous"      // no username, and the anonymous policy refuses this client
	ReasonCertificateCN = "certificate_cn" // a verified client certificate without a CN
	// ReasonOverloaded: no password check slot became free in time. Not a
	// client's fault, so Failures is not told.
	ReasonOverloaded = "overloaded"
)

// ACL actions (borda_mqtt_acl_denied_total{action}).
const (
	ActionPublish   = "publish"   // PUBLISH from the client (and its will message)
	ActionSubscribe = "subscribe" // a SUBSCRIBE filter
	ActionRead      = "read"      // delivery of a message to the client
)

type metrics struct {
	successes *prometheus.CounterVec
	failures  *prometheus.CounterVec
	denied    *prometheus.CounterVec
	users     prometheus.Gauge
	reloads   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		successes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "borda_mqtt_auth_successes_total",
			Help: "MQTT clients authenticated, by method (password, certificate, anonymous).",
		}, []string{"method"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "borda_mqtt_auth_failures_total",
			Help: "MQTT connections refused by authentication, by reason.",
		}, []string{"reason"}),
		denied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "borda_mqtt_acl_denied_total",
			Help: "MQTT operations denied by the ACL, by action (publish, subscribe, read).",
		}, []string{"action"}),
		users: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "borda_mqtt_auth_users",
			Help: "Users loaded from the password file and the inline users.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "borda_mqtt_auth_reloads_total",
			Help: "Reloads of the auth configuration and password file, by result (success, failure).",
		}, []string{"result"}),
	}
	for _, v := range []string{MethodPassword, MethodCertificate, MethodAnonymous} {
		m.successes.WithLabelValues(v)
	}
	for _, v := range []string{ReasonUnknownUser, ReasonBadPassword, ReasonAnonymous, ReasonCertificateCN, ReasonOverloaded} {
		m.failures.WithLabelValues(v)
	}
	for _, v := range []string{ActionPublish, ActionSubscribe, ActionRead} {
		m.denied.WithLabelValues(v)
	}
	for _, v := range []string{"success", "failure"} {
		m.reloads.WithLabelValues(v)
	}
	for _, c := range []prometheus.Collector{m.successes, m.failures, m.denied, m.users, m.reloads} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("auth: register metrics: %w", err)
		}
	}
	return m, nil
}
