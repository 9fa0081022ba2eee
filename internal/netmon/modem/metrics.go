package modem

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/promreg"
)

type metrics struct {
	group      *promreg.Group
	up         prometheus.Gauge
	signal     *prometheus.GaugeVec // modem
	registered *prometheus.GaugeVec // modem
	connected  *prometheus.GaugeVec // modem
	info       *prometheus.GaugeVec
}

func newMetrics() *metrics {
	m := []string{"modem"}
	return &metrics{
		up: prometheus.NewGauge(prometheus.GaugeOpts{Name: "borda_netmon_modem_manager_up",
			Help: "1 while ModemManager answers on D-Bus."}),
		signal: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "borda_netmon_modem_signal_ratio",
			Help: "Signal quality reported by ModemManager (0..1)."}, m),
		registered: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "borda_netmon_modem_registered",
			Help: "1 while the modem is registered on its home network or roaming (3GPP)."}, m),
		connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "borda_netmon_modem_connected",
			Help: "1 while the modem has a data connection."}, m),
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "borda_netmon_modem_info",
			Help: "Always 1; the labels describe the modem."},
			[]string{"modem", "manufacturer", "model", "state", "registration", "access_tech", "operator"}),
	}
}

func (m *metrics) register(reg prometheus.Registerer) error {
	g, err := promreg.Register(reg, m.up, m.signal, m.registered, m.connected, m.info)
	m.group = g
	return err
}

// set replaces every per-modem series with the reading (modems that went
// away disappear).
func (m *metrics) set(mods []Status) {
	for _, v := range []*prometheus.GaugeVec{m.signal, m.registered, m.connected, m.info} {
		v.Reset()
	}
	for _, s := range mods {
		m.signal.WithLabelValues(s.Name).Set(float64(s.SignalPercent) / 100)
		m.registered.WithLabelValues(s.Name).Set(b2f(s.Registered()))
		m.connected.WithLabelValues(s.Name).Set(b2f(s.State == "connected"))
		m.info.WithLabelValues(s.Name, s.Manufacturer, s.Model, s.State, s.Registration, s.AccessTech, s.Operator).Set(1)
	}
}
