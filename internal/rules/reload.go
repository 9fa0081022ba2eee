package rules

import (
	"fmt"
	"slices"
	"time"
)

// Reload validates and compiles cfg (reading File again). On error it
// returns the error and the running rules stay. On success it swaps the
// rule set atomically: a rule whose name, condition, match, field and kind
// (silent or not) are unchanged keeps its state (history windows,
// detectors, pending and firing alerts, cooldowns); other rules start
// afresh, and the firing alerts of rules that are gone (or whose state
// was not kept) are resolved.
func (e *Engine) Reload(cfg Config) error {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	rules, err := compileConfig(cfg)
	if err != nil {
		return fmt.Errorf("rules: reload rejected, the running rules stay: %w", err)
	}
	old := e.set.Load()
	next := e.assemble(rules, old)
	e.setActions(next, old) // removed rules keep their actions for their resolved events
	kept := map[*ruleState]bool{}
	for _, r := range next.rules {
		kept[r.st] = true
	}
	// Retire first, then swap: every event of a retired state comes before
	// any event of the state that replaces it. Readings that arrive in
	// between are not evaluated by the retired rules only.
	removed := 0
	for _, r := range old.rules {
		if !kept[r.st] {
			e.retire(r, next.byName[r.name] == nil)
			removed++
		}
	}
	e.set.Store(next)
	e.setActions(next, nil)
	e.log.Info("rules reloaded", "rules", len(next.rules), "kept_state", len(next.rules)-countNew(next, old),
		"retired", removed)
	return nil
}

func countNew(next, old *ruleSet) int {
	n := 0
	for _, r := range next.rules {
		if o := old.byName[r.name]; o == nil || o.st != r.st {
			n++
		}
	}
	return n
}

// assemble builds a rule set from compiled rules, taking over the state
// of old's rules with the same identity, and attaches metrics.
func (e *Engine) assemble(rules []*rule, old *ruleSet) *ruleSet {
	set := &ruleSet{rules: rules, byName: make(map[string]*rule, len(rules))}
	for _, r := range rules {
		if o := old.byName[r.name]; o != nil && o.sig == r.sig && slices.Equal(o.l.alphas, r.l.alphas) {
			r.st = o.st
		} else {
			r.st = &ruleState{}
		}
		r.m = e.m.forRule(r)
		r.m.tracked.Set(float64(r.st.n.Load()))
		set.byName[r.name] = r
		if r.cfg.Silent > 0 {
			set.silent = append(set.silent, r)
		}
	}
	set.tick = silentTick(set.silent)
	return set
}

// retire stops a removed rule's state and resolves its firing alerts.
// Evaluations still running on the old set see retired under the series
// lock and do nothing.
func (e *Engine) retire(r *rule, gone bool) {
	r.st.retired.Store(true)
	now := e.now()
	r.st.each(nil, func(s *series) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.firing != nil {
			e.resolve(s, s.firing.Value, now, now, time.Time{})
		}
	})
	if gone {
		e.m.tracked.DeleteLabelValues(r.name)
	}
}
