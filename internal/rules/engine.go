package rules

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr/vm"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/alerts"
	"github.com/borda-edge/borda/internal/telemetry"
)

// Notifier receives alert events (internal/alerts' Dispatcher). Notify
// must not block: it is called on the publisher's goroutine, with the
// series locked, so that a series' events arrive in order. It must not
// call back into the engine's Evaluate for the same series.
type Notifier interface{ Notify(a telemetry.Alert) }

// ActionSetter is implemented by a Notifier that runs per-rule actions
// (alerts.Dispatcher). The engine hands it every rule's compiled actions
// on New and on every Reload.
type ActionSetter interface {
	SetRuleActions(perRule map[string][]*alerts.Action)
}

// Deps are the engine's collaborators. All are optional.
type Deps struct {
	Logger   *slog.Logger
	Limited  *slog.Logger // rate-limited: per-reading evaluation errors
	Registry prometheus.Registerer
	Notifier Notifier
	Now      func() time.Time // the silent checker's clock; time.Now if nil
}

// Engine evaluates rules. It is safe for concurrent use.
type Engine struct {
	log, limited *slog.Logger
	notifier     Notifier
	now          func() time.Time
	m            *metrics
	seed         maphash.Seed

	set      atomic.Pointer[ruleSet]
	reloadMu sync.Mutex
	envs     sync.Pool

	activeMu sync.Mutex
	active   map[string]telemetry.Alert

	ready     chan struct{}
	readyOnce sync.Once
	checkBuf  []*series // used by the silent checker only
	checkMu   sync.Mutex
}

// ruleSet is one immutable, compiled generation of rules.
type ruleSet struct {
	rules  []*rule
	silent []*rule
	byName map[string]*rule
	tick   time.Duration // silent checker period
}

// New validates and compiles cfg and registers the metrics.
func New(cfg Config, d Deps) (*Engine, error) {
	rules, err := compileConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	e := &Engine{
		log: d.Logger, limited: d.Limited, notifier: d.Notifier, now: d.Now,
		seed: maphash.MakeSeed(), active: map[string]telemetry.Alert{}, ready: make(chan struct{}),
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.limited == nil {
		e.limited = e.log
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.notifier == nil {
		e.notifier = nopNotifier{}
	}
	reg := d.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	if e.m, err = newMetrics(reg); err != nil {
		return nil, err
	}
	e.envs.New = func() any { return newEvalEnv() }
	set := e.assemble(rules, &ruleSet{byName: map[string]*rule{}})
	e.set.Store(set)
	e.setActions(set, nil)
	e.log.Info("rules loaded", "rules", len(set.rules), "silent", len(set.silent))
	return e, nil
}

type nopNotifier struct{}

func (nopNotifier) Notify(telemetry.Alert) {}

// Evaluate runs every rule whose match matches each point. topic is the
// MQTT topic the points came from ("" for other sources); received is
// when they reached borda. It never blocks on I/O.
func (e *Engine) Evaluate(topic string, pts []telemetry.Point, received time.Time) {
	set := e.set.Load()
	if len(set.rules) == 0 || len(pts) == 0 {
		return
	}
	env := e.envs.Get().(*evalEnv)
	for i := range pts {
		start := time.Now()
		e.evalPoint(set, env, topic, &pts[i], received)
		e.m.seconds.Observe(time.Since(start).Seconds())
	}
	env.release()
	e.envs.Put(env)
}

func (e *Engine) evalPoint(set *ruleSet, env *evalEnv, topic string, p *telemetry.Point, received time.Time) {
	var buf [256]byte
	var key []byte
	var h uint64
	for _, r := range set.rules {
		if !r.match.matches(topic, p) {
			continue
		}
		if key == nil {
			key = appendKey(buf[:0], p)
			h = maphash.Bytes(e.seed, key)
		}
		e.evalRule(r, env, topic, p, key, h, received)
	}
}

func (e *Engine) evalRule(r *rule, env *evalEnv, topic string, p *telemetry.Point, key []byte, h uint64, received time.Time) {
	defer func() {
		if x := recover(); x != nil {
			e.failed(r, reasonPanic, fmt.Errorf("panic: %v", x), p)
		}
	}()
	if r.st.retired.Load() { // a reload removed the rule while this reading was on its way
		return
	}
	r.m.evals.Inc()
	v, ok := p.Field(r.cfg.Field)
	if r.cfg.Silent == 0 {
		if !ok {
			e.failed(r, reasonMissingField, missingError{r.cfg.Field}, p)
			return
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			e.failed(r, reasonNaN, fmt.Errorf("field %q is %v", r.cfg.Field, v), p)
			return
		}
	}
	s, created := r.st.lookup(key, h, p, r.l, r.limit)
	if s == nil {
		r.m.dropped.Inc()
		return
	}
	if created {
		r.m.tracked.Set(float64(r.st.n.Load()))
	}
	t := p.Time
	if t.IsZero() {
		t = received
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.st.retired.Load() {
		return
	}
	if r.cfg.Silent > 0 {
		e.seen(r, s, v, ok, t, received)
		return
	}
	env.bind(topic, p, s, r.l, t.UnixNano(), v)
	e.step(r, s, env, t, received)
	s.observe(r.l, t.UnixNano(), v)
}

// test runs prog; ok is false (and the error counted) when it fails.
func (e *Engine) test(r *rule, prog *vm.Program, env *evalEnv) (result, ok bool) {
	out, err := env.vm.Run(prog, env)
	if err != nil {
		e.failed(r, classify(err), err, env.p)
		return false, false
	}
	b, ok := out.(bool)
	if !ok {
		e.failed(r, reasonType, fmt.Errorf("the expression is %T, not a boolean", out), env.p)
	}
	return b, ok
}

func classify(err error) reason {
	var me missingError
	if errors.As(err, &me) {
		return reasonMissingField
	}
	msg := err.Error()
	if strings.Contains(msg, "mismatched types") || strings.Contains(msg, "invalid operation") ||
		strings.Contains(msg, "cannot ") || strings.Contains(msg, "interface conversion") {
		return reasonType
	}
	return reasonEval
}

func (e *Engine) failed(r *rule, why reason, err error, p *telemetry.Point) {
	r.m.errs[why].Inc()
	e.limited.Warn("rule evaluation failed", "rule", r.name, "reason", why.String(),
		"measurement", p.Measurement, "error", position(err))
}

// Run checks silent-device rules on a ticker until ctx is done. Ready is
// closed once it runs.
func (e *Engine) Run(ctx context.Context) error {
	tick := e.set.Load().tick
	t := time.NewTicker(tick)
	defer t.Stop()
	e.readyOnce.Do(func() { close(e.ready) })
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			e.checkSilent(e.now())
			if d := e.set.Load().tick; d != tick {
				tick = d
				t.Reset(d)
			}
		}
	}
}

// Ready is closed when Run has started.
func (e *Engine) Ready() <-chan struct{} { return e.ready }

// Active returns the alerts firing now, oldest first.
func (e *Engine) Active() []telemetry.Alert {
	e.activeMu.Lock()
	out := make([]telemetry.Alert, 0, len(e.active))
	for _, a := range e.active {
		out = append(out, a)
	}
	e.activeMu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].FiredAt.Equal(out[j].FiredAt) {
			return out[i].FiredAt.Before(out[j].FiredAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Actions returns every rule's compiled actions (the defaults resolved;
// empty for `actions: []`), for alerts.Dispatcher.SetRuleActions. A
// Notifier that is an ActionSetter gets them automatically.
func (e *Engine) Actions() map[string][]*alerts.Action {
	set := e.set.Load()
	out := make(map[string][]*alerts.Action, len(set.rules))
	for _, r := range set.rules {
		out[r.name] = r.actions
	}
	return out
}

// setActions hands the actions of set (and of old, for the resolved
// events of removed rules) to an ActionSetter notifier.
func (e *Engine) setActions(set, old *ruleSet) {
	as, ok := e.notifier.(ActionSetter)
	if !ok {
		return
	}
	m := make(map[string][]*alerts.Action, len(set.rules))
	if old != nil {
		for _, r := range old.rules {
			m[r.name] = r.actions
		}
	}
	for _, r := range set.rules {
		m[r.name] = r.actions
	}
	as.SetRuleActions(m)
}
