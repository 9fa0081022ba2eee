package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/borda-edge/borda/internal/simulate"
)

// The alert probe of the alert scenarios: a light, paced simulator whose
// readings are forced over the seed rules' thresholds at a steady rate
// (simulate.Config.AlertRate; every forced reading starts a new alert
// episode and the next reading resolves it), subscribed to alerts/# at
// QoS 2 (simulate.Config.ExpectAlerts) to match each alert to its reading.
const (
	alertProbeRate    = 1000 // msgs/s (less when --rate is smaller)
	alertProbeDevices = 100  // at most; fewer when --devices is smaller
	alertProbeShare   = 0.05 // of the probe's readings forced over a threshold: ~50 alerts/s + 50 resolved/s
	// backgroundRate is the background load of borda-alert-load when
	// --rate is 0 (issue #5: "100,000 readings/s of background load").
	backgroundRate = 100_000
)

// alertProbeConfig is the probe's simulator configuration against broker
// address addr. Its client and device ids differ from the background
// load's, whose alerts (none: it has no anomalies) it would ignore.
func (l Load) alertProbeConfig(addr string) simulate.Config {
	rate := float64(alertProbeRate)
	if l.Rate > 0 {
		rate = min(rate, l.Rate)
	}
	return simulate.Config{
		Broker: "tcp://" + addr, Devices: min(l.Devices, alertProbeDevices), Conns: 1, Rate: rate,
		Duration: l.Duration, QoS: 0, Profile: l.Profile, Seed: l.Seed,
		AlertRate: alertProbeShare, ExpectAlerts: true,
		ClientIDPrefix: "borda-bench-probe", DevicePrefix: "probe",
	}
}

// backgroundConfig is the background load of borda-alert-load: the run's
// fleet at QoS 0, paced at --rate, or backgroundRate when --rate is 0. It
// has no anomalies, so none of its readings raises an alert, but borda
// evaluates the rules on every one of them.
func (l Load) backgroundConfig(addr string) simulate.Config {
	cfg := l.simConfig(addr, 0)
	if cfg.Rate <= 0 {
		cfg.Rate = backgroundRate
	}
	return cfg
}

// publishAlerts runs the alert probe, with the background load at the
// same time when the scenario has one, and records what the probe's
// subscriber matched.
func (m *measurement) publishAlerts(ctx context.Context) {
	addr := m.srv.mqttAddr()
	probe := m.r.opts.alertProbeConfig(addr)
	start := time.Now()
	var bg simulate.Report
	var bgErr error
	var bgEnd time.Time
	var wg sync.WaitGroup
	probeProgress := m.r.progress
	if m.sc.Background {
		m.cfg = m.r.opts.backgroundConfig(addr)
		probeProgress = nil // one progress line: the background's
		wg.Go(func() {
			bg, bgErr = simulate.Run(ctx, m.cfg, m.r.progress)
			bgEnd = time.Now()
		})
	} else {
		m.cfg = probe
	}
	m.r.logf("   alert probe: %d devices, %.0f msgs/s, %.0f%% of its readings over a threshold; background: %s",
		probe.Devices, probe.Rate, 100*probe.AlertRate, background(m.sc, m.cfg))
	rep, err := simulate.Run(ctx, probe, probeProgress)
	wg.Wait()
	m.rep = rep
	// The probe's Run also waited for late alerts: the publishers ended
	// when the probe's (or the background's) last message was sent.
	m.pubEnd = start.Add(rep.Elapsed)
	if bgEnd.After(m.pubEnd) {
		m.pubEnd = bgEnd
	}
	m.res.fail(err)
	if bgErr != nil {
		m.res.fail(fmt.Errorf("background load: %w", bgErr))
	}
	if ctx.Err() != nil {
		m.res.fail(fmt.Errorf("interrupted after %.1fs of %s", rep.Elapsed.Seconds(), probe.Duration))
	}
	m.res.Sent = rep.Sent + bg.Sent
	m.res.PublishS = max(rep.Elapsed, bg.Elapsed).Seconds()
	m.res.SimErrors = rep.Errors + bg.Errors
	// Both simulators run in this process: each one's ProcessCPU is the
	// whole process's during its run, so the longer one counts.
	m.res.SimCPU = max(rep.ProcessCPU, bg.ProcessCPU)
	if rep.Alerts != nil {
		m.res.setAlerts(*rep.Alerts)
	}
}

func background(sc Scenario, cfg simulate.Config) string {
	if !sc.Background {
		return "none"
	}
	return fmt.Sprintf("%d devices, %.0f msgs/s at QoS 0", cfg.Devices, cfg.Rate)
}
