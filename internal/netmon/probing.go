package netmon

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// prober runs u's probe rounds every interval, never two at once.
func (m *Monitor) prober(ctx context.Context, u *uplink, out chan<- roundResult) {
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(m.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case u.running <- struct{}{}:
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := m.round(ctx, u)
				<-u.running
				select {
				case out <- r:
				case <-ctx.Done():
				}
			}()
		default:
			select {
			case out <- roundResult{u: u, skipped: true}:
			case <-ctx.Done():
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// round probes every target of u at once; it takes at most the timeout.
func (m *Monitor) round(ctx context.Context, u *uplink) roundResult {
	r := roundResult{u: u, at: m.now(), rtts: make([]time.Duration, len(u.targets)), errs: make([]error, len(u.targets))}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	var wg sync.WaitGroup
	for i, t := range u.targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.rtts[i], r.errs[i] = probe(ctx, u.cfg.Interface, t, m.cfg.Timeout)
			if r.errs[i] != nil {
				r.errs[i] = fmt.Errorf("%s: %w", t, r.errs[i])
			}
		}()
	}
	wg.Wait()
	return r
}

func (m *Monitor) handleRound(r roundResult) {
	u := r.u
	name := u.cfg.Name
	if r.skipped {
		u.skipped++
		m.met.skipped.WithLabelValues(name).Inc()
		m.publish()
		return
	}
	u.rounds++
	var firstErr error
	ok := false
	for i := range r.rtts {
		if r.errs[i] == nil {
			ok = true
			u.win.add(r.rtts[i], true)
			m.met.probes.WithLabelValues(name, "ok").Inc()
		} else {
			if firstErr == nil {
				firstErr = r.errs[i]
			}
			u.win.add(0, false)
			m.met.probes.WithLabelValues(name, "failed").Inc()
		}
	}
	now := m.now()
	if ok {
		u.failStreak, u.failSince, u.lastErr = 0, time.Time{}, ""
		if !u.reachable || !u.reachKnown {
			u.reachable, u.reachKnown = true, true
			m.log.Info("netmon: uplink reachable", "uplink", name)
			m.emit(Event{Kind: Reachable, Uplink: name})
		}
	} else {
		u.failStreak++
		if u.failSince.IsZero() {
			u.failSince = r.at
		}
		u.lastErr = firstErr.Error()
		if u.failStreak == 1 {
			m.lim.Debug("netmon: probe round failed", "uplink", name, "err", firstErr)
		}
		if (u.reachable || !u.reachKnown) && (u.failStreak >= m.cfg.FailRounds ||
			m.cfg.FailAfter > 0 && now.Sub(u.failSince) >= m.cfg.FailAfter) {
			u.reachable, u.reachKnown = false, true
			m.log.Warn("netmon: uplink unreachable", "uplink", name, "rounds", u.failStreak, "err", firstErr)
			m.emit(Event{Kind: Unreachable, Uplink: name, Reason: u.lastErr})
		}
	}
	m.met.reachable.WithLabelValues(name).Set(b2f(u.reachable))
	avg, p95, loss := u.win.stats()
	m.met.latencyAvg.WithLabelValues(name).Set(avg.Seconds())
	m.met.latencyP95.WithLabelValues(name).Set(p95.Seconds())
	m.met.loss.WithLabelValues(name).Set(loss)
	if ok && avg > m.cfg.LatencyWarning && !u.latencyHigh {
		u.latencyHigh = true
		m.log.Warn("netmon: latency high", "uplink", name, "avg", avg, "p95", p95, "warning", m.cfg.LatencyWarning)
		m.emit(Event{Kind: LatencyHigh, Uplink: name, Latency: avg})
	} else if ok && avg <= m.cfg.LatencyWarning-m.cfg.LatencyHysteresis && u.latencyHigh {
		u.latencyHigh = false
		m.log.Info("netmon: latency normal", "uplink", name, "avg", avg)
		m.emit(Event{Kind: LatencyNormal, Uplink: name, Latency: avg})
	}
	m.ensureStandby(u)
	if u.rounds == 1 {
		m.waiting--
	}
	m.evaluate()
}
