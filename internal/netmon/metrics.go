package netmon

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/promreg"
)

type metrics struct {
	group      *promreg.Group
	linkUp     *prometheus.GaugeVec
	reachable  *prometheus.GaugeVec
	active     *prometheus.GaugeVec
	latencyAvg *prometheus.GaugeVec
	latencyP95 *prometheus.GaugeVec
	loss       *prometheus.GaugeVec
	probes     *prometheus.CounterVec // uplink, result
	skipped    *prometheus.CounterVec // uplink
	failovers  prometheus.Counter
	online     prometheus.Gauge
	cpu        prometheus.Gauge
	mem        prometheus.Gauge
	disk       *prometheus.GaugeVec   // path
	temp       *prometheus.GaugeVec   // zone
	recoveries *prometheus.CounterVec // result
}

func newMetrics() *metrics {
	u := []string{"uplink"}
	return &metrics{
		linkUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "borda_netmon_link_up",
			Help: "1 while the uplink's interface exists, is up and has carrier."}, u),
		reachable: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "borda_netmon_reachable",
			Help: "1 while probes through the uplink reach their targets."}, u),
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "borda_netmon_active",
			Help: "1 for the uplink the default route goes through."}, u),
		latencyAvg: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "borda_netmon_latency_avg_seconds",
			Help: "Average probe round-trip time over the window."}, u),
		latencyP95: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "borda_netmon_latency_p95_seconds",
			Help: "95th percentile probe round-trip time over the window."}, u),
		loss: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "borda_netmon_probe_loss_ratio",
			Help: "Share of failed probes over the window (0..1)."}, u),
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_netmon_probes_total",
			Help: "Probes sent, by result (ok, failed)."}, []string{"uplink", "result"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_netmon_probe_rounds_skipped_total",
			Help: "Probe rounds skipped because the previous round was still running."}, u),
		failovers: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_netmon_failovers_total",
			Help: "Switches of the active uplink (the first choice at start is not counted)."}),
		online: prometheus.NewGauge(prometheus.GaugeOpts{Name: "borda_netmon_online",
			Help: "1 while at least one uplink is up and reachable."}),
		cpu: prometheus.NewGauge(prometheus.GaugeOpts{Name: "borda_netmon_cpu_usage_ratio",
			Help: "Share of CPU time (all cores) not idle over the last resource interval."}),
		mem: prometheus.NewGauge(prometheus.GaugeOpts{Name: "borda_netmon_memory_usage_ratio",
			Help: "Share of memory not available (1 - MemAvailable/MemTotal)."}),
		disk: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "borda_netmon_disk_usage_ratio",
			Help: "Used share of the file system holding the path."}, []string{"path"}),
		temp: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "borda_netmon_temperature_celsius",
			Help: "Temperature of a thermal zone."}, []string{"zone"}),
		recoveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_netmon_recovery_runs_total",
			Help: "Runs of the recovery command (netmon.recovery), by result (ok, failed)."}, []string{"result"}),
	}
}

func (m *metrics) register(reg prometheus.Registerer) error {
	g, err := promreg.Register(reg, m.linkUp, m.reachable, m.active, m.latencyAvg, m.latencyP95,
		m.loss, m.probes, m.skipped, m.failovers, m.online, m.cpu, m.mem, m.disk, m.temp, m.recoveries)
	m.group = g
	return err
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
