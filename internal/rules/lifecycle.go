package rules

import (
	"strconv"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
)

// step advances the alert lifecycle of a condition rule for one reading
// at time t (the reading's time). The caller holds s.mu.
//
//	inactive --cond true--> pending (since t) --cond true, t-since >= for--> firing
//	pending --cond false--> inactive
//	firing --clear true (or cond false without clear)--> resolved (inactive)
//
// A firing that would come within cooldown of the series' previous firing
// is suppressed (counted once per episode) until a reading after the
// cooldown still finds the condition true.
func (e *Engine) step(r *rule, s *series, env *evalEnv, t, received time.Time) {
	if s.firing != nil {
		prog, resolveOn := r.cond, false
		if r.clear != nil {
			prog, resolveOn = r.clear, true
		}
		res, ok := e.test(r, prog, env)
		if !ok {
			return
		}
		if r.clear == nil && res {
			r.m.matches.Inc()
		}
		if res == resolveOn {
			e.resolve(s, env.Value, t, t, received)
		}
		return
	}
	res, ok := e.test(r, r.cond, env)
	if !ok {
		return // an error changes nothing: a pending alert stays pending
	}
	if !res {
		s.pending, s.suppressed = false, false
		return
	}
	r.m.matches.Inc()
	if !s.pending {
		s.pending, s.pendingSince = true, t
	}
	if t.Sub(s.pendingSince) < r.cfg.For || e.cooling(r, s, t) {
		return
	}
	e.fire(r, s, env.Value, t, t, received)
}

// cooling reports whether a firing at time at is within the cooldown of
// the series' previous firing, and counts the suppressed episode once.
func (e *Engine) cooling(r *rule, s *series, at time.Time) bool {
	if r.cfg.Cooldown <= 0 || s.lastFired.IsZero() || at.Sub(s.lastFired) >= r.cfg.Cooldown {
		return false
	}
	if !s.suppressed {
		s.suppressed = true
		r.m.suppressed.Inc()
	}
	return true
}

// fire starts an episode. The caller holds s.mu.
func (e *Engine) fire(r *rule, s *series, value float64, firedAt, at, received time.Time) {
	n := firedAt.UnixNano()
	if n <= s.lastIDNano { // same reading time as the previous episode: keep IDs unique
		n = s.lastIDNano + 1
	}
	s.lastIDNano = n
	a := telemetry.Alert{
		ID:   r.name + ":" + strconv.FormatUint(s.hash, 16) + ":" + strconv.FormatInt(n, 10),
		Rule: r.name, Type: r.cfg.Type, Severity: r.cfg.Severity, State: telemetry.AlertFiring,
		DeviceID: s.deviceID(), Series: s.seriesName(r.cfg.Field), Labels: s.labelMap(),
		Value: value, Message: r.cfg.Message, RequiresAction: r.cfg.RequiresAction,
		FiredAt: firedAt, Time: at, Received: received,
	}
	s.firing = &a
	s.lastFired = firedAt
	s.pending, s.suppressed = false, false
	e.activeMu.Lock()
	e.active[a.ID] = a
	e.activeMu.Unlock()
	r.m.fired.Inc()
	e.m.firing.WithLabelValues(a.Type, a.Severity).Inc()
	e.notifier.Notify(a)
}

// resolve ends the firing episode of s. The caller holds s.mu.
func (e *Engine) resolve(s *series, value float64, resolvedAt, at, received time.Time) {
	a := *s.firing
	s.firing = nil
	s.pending = false
	a.State, a.ResolvedAt, a.Time, a.Received, a.Value = telemetry.AlertResolved, resolvedAt, at, received, value
	e.activeMu.Lock()
	delete(e.active, a.ID)
	e.activeMu.Unlock()
	e.m.resolved.WithLabelValues(a.Rule, a.Type, a.Severity).Inc()
	e.m.firing.WithLabelValues(a.Type, a.Severity).Dec()
	e.notifier.Notify(a)
}

// seen records a reading of a silent rule's series: the engine-clock
// receive time, and it resolves a DEVICE_OFFLINE alert.
func (e *Engine) seen(r *rule, s *series, v float64, hasValue bool, t, received time.Time) {
	s.lastSeen = received
	if hasValue {
		s.lastT, s.lastV = t.UnixNano(), v
	}
	s.count++
	s.suppressed = false
	if s.firing != nil {
		value := s.firing.Value
		if hasValue {
			value = v
		}
		e.resolve(s, value, received, t, received)
	}
}

// checkSilent fires the silent rules' series that have had no reading
// for their rule's silent duration at now (engine clock).
func (e *Engine) checkSilent(now time.Time) {
	e.checkMu.Lock()
	defer e.checkMu.Unlock()
	for _, r := range e.set.Load().silent {
		e.checkBuf = r.st.each(e.checkBuf, func(s *series) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if r.st.retired.Load() || s.firing != nil || now.Sub(s.lastSeen) < r.cfg.Silent {
				return
			}
			if e.cooling(r, s, now) {
				return
			}
			e.fire(r, s, s.lastV, now, now, time.Time{})
		})
	}
}

// silentTick is the checker period: a tenth of the shortest silent
// duration, between 100ms and 1s.
func silentTick(rules []*rule) time.Duration {
	tick := time.Second
	for _, r := range rules {
		tick = min(tick, r.cfg.Silent/10)
	}
	return max(tick, 100*time.Millisecond)
}
