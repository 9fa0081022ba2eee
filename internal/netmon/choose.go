package netmon

import (
	"fmt"
	"time"
)

// evaluate picks the active uplink and writes the route.
func (m *Monitor) evaluate() {
	now := m.now()
	var best, cur *uplink
	for _, u := range m.ups {
		if u.healthy() {
			if u.healthySince.IsZero() {
				u.healthySince = now
			}
			if best == nil {
				best = u
			}
		} else {
			u.healthySince = time.Time{}
		}
		if u.cfg.Name == m.active {
			cur = u
		}
	}
	switch {
	case best == nil:
		// Nothing healthy: leave the route where it is.
	case cur == nil:
		// At start, wait for every uplink's first round unless the most
		// preferred one is already healthy (no needless switch back).
		if m.waiting <= 0 || best == m.ups[0] {
			m.switchTo(best, "initial choice")
		}
	case !cur.healthy():
		reason := "unreachable"
		if !cur.up {
			reason = "link down"
		}
		m.switchTo(best, cur.cfg.Name+" "+reason)
	case best.cfg.Priority < cur.cfg.Priority && now.Sub(best.healthySince) >= m.cfg.HoldTime:
		m.switchTo(best, fmt.Sprintf("%s healthy for %s", best.cfg.Name, m.cfg.HoldTime))
	}
	online := best != nil
	if online != m.Online() {
		m.setOnline(online)
		m.met.online.Set(b2f(online))
		if online {
			m.emit(Event{Kind: Online, Uplink: best.cfg.Name})
		} else {
			m.log.Warn("netmon: no uplink is healthy")
			m.emit(Event{Kind: Offline})
		}
	}
	m.applyRoute()
	m.publish()
	if m.waiting <= 0 {
		select {
		case <-m.ready:
		default:
			close(m.ready)
		}
	}
}

func (m *Monitor) switchTo(u *uplink, reason string) {
	from := m.active
	m.active = u.cfg.Name
	if from != "" {
		m.met.failovers.Inc()
		m.met.active.WithLabelValues(from).Set(0)
	}
	m.met.active.WithLabelValues(u.cfg.Name).Set(1)
	m.log.Warn("netmon: active uplink changed", "from", from, "to", u.cfg.Name, "reason", reason)
	m.emit(Event{Kind: Failover, From: from, To: u.cfg.Name, Reason: reason})
}

func (m *Monitor) publish() {
	s := Status{Active: m.active, Routes: "managed"}
	switch {
	case !m.cfg.ManageRoutes:
		s.Routes = "disabled"
	case m.routeDenied:
		s.Routes = "denied"
	}
	for _, u := range m.ups {
		avg, p95, loss := u.win.stats()
		s.Uplinks = append(s.Uplinks, UplinkStatus{Name: u.cfg.Name, Interface: u.cfg.Interface,
			Priority: u.cfg.Priority, Present: u.present, Up: u.up, Reachable: u.reachable,
			Healthy: u.healthy(), LatencyAvg: avg, LatencyP95: p95, Loss: loss, LastError: u.lastErr,
			Rounds: u.rounds, Skipped: u.skipped})
	}
	m.mu.Lock()
	s.Online = m.online
	s.Resources = m.status.Resources
	m.status = s
	m.mu.Unlock()
}
