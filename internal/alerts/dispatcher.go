// Package alerts runs the actions of alert events (MQTT publish through
// the embedded broker, webhooks) and keeps the alert history (embedded,
// and Redis when configured), served at /api/v1/alerts.
package alerts

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/telemetry"
)

// Publisher publishes a message through the embedded broker (mochi's
// Server.Publish, adapted). It must not block on subscribers.
type Publisher interface {
	Publish(topic string, payload []byte, retain bool, qos byte) error
}

// Deps are the dispatcher's collaborators.
type Deps struct {
	Logger   *slog.Logger
	Limited  *slog.Logger // rate-limited, for per-event warnings (drops, failures)
	Registry prometheus.Registerer
	// Publisher runs mqtt actions; required.
	Publisher Publisher
	Now       func() time.Time // clock for recording and TTL; time.Now if nil
	DataDir   string           // the embedded history is <DataDir>/alerts.db
	// Forward also gets every event (the uplink's HTTP outputs); optional.
	// Its Notify must not block.
	Forward interface{ Notify(telemetry.Alert) }
}

// Dispatcher takes alert events from the rules engine (Notify), runs their
// actions and records them. Create it with New, then call Run.
type Dispatcher struct {
	cfg     Config
	log     *slog.Logger
	limited *slog.Logger
	pub     Publisher
	forward interface{ Notify(telemetry.Alert) }
	now     func() time.Time
	path    string
	m       *metrics
	client  *http.Client

	actions  atomic.Pointer[actionSet]
	actionMu sync.Mutex // serializes the Set*Actions copy-on-write

	webhookQ chan webhookJob
	historyQ chan entry
	redisQ   chan entry // nil without Redis

	embedded atomic.Pointer[BoltHistory] // set once Run has opened it
	open     atomic.Bool                 // the embedded history serves queries
	ready    chan struct{}
	started  atomic.Bool
	stopped  atomic.Bool // Run has finished: queued events would never be handled

	// retry backoff of history writes; variables for tests.
	retryMin, retryMax time.Duration
}

type actionSet struct {
	defaults []*Action
	rules    map[string][]*Action
}

type webhookJob struct {
	action *Action
	alert  telemetry.Alert
}

// New checks cfg and builds the dispatcher with the default actions
// (DefaultActions) and registers its metrics. Nothing is opened here.
func New(cfg Config, d Deps) (*Dispatcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	if d.Publisher == nil {
		return nil, errors.New("alerts: Deps.Publisher is required")
	}
	defaults, err := Compile(DefaultActions())
	if err != nil {
		return nil, fmt.Errorf("alerts: default actions: %w", err)
	}
	x := &Dispatcher{
		cfg: cfg, log: d.Logger, limited: d.Limited, pub: d.Publisher, forward: d.Forward, now: d.Now,
		path:     filepath.Join(d.DataDir, "alerts.db"),
		webhookQ: make(chan webhookJob, cfg.WebhookQueue),
		historyQ: make(chan entry, cfg.HistoryQueue),
		ready:    make(chan struct{}),
		retryMin: 100 * time.Millisecond, retryMax: 5 * time.Second,
	}
	if x.log == nil {
		x.log = slog.New(slog.DiscardHandler)
	}
	if x.limited == nil {
		x.limited = x.log
	}
	if x.now == nil {
		x.now = time.Now
	}
	if cfg.History.Redis.Address != "" {
		x.redisQ = make(chan entry, cfg.HistoryQueue)
	}
	reg := d.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	x.m = newMetrics(reg, x)
	x.client = newHTTPClient(cfg.WebhookWorkers)
	x.actions.Store(&actionSet{defaults: defaults, rules: map[string][]*Action{}})
	return x, nil
}

// SetRuleActions replaces the actions per rule name, atomically: an event
// of a rule with an entry runs exactly those actions (none for an empty
// list); an event of a rule without an entry runs the default actions.
func (d *Dispatcher) SetRuleActions(perRule map[string][]*Action) {
	d.actionMu.Lock()
	defer d.actionMu.Unlock()
	old := d.actions.Load()
	d.actions.Store(&actionSet{defaults: old.defaults, rules: maps.Clone(perRule)})
}

// SetDefaultActions replaces the actions of rules without an entry in
// SetRuleActions (initially DefaultActions: publish to alerts/critical).
func (d *Dispatcher) SetDefaultActions(acts []*Action) {
	d.actionMu.Lock()
	defer d.actionMu.Unlock()
	old := d.actions.Load()
	d.actions.Store(&actionSet{defaults: acts, rules: old.rules})
}

// Notify runs the event's MQTT actions inline (an in-memory enqueue in the
// embedded broker) and queues its webhooks and history writes. It never
// blocks: an event that finds a queue full is dropped for that output and
// counted. a.Labels must not be modified after the call.
func (d *Dispatcher) Notify(a telemetry.Alert) {
	switch a.State {
	case telemetry.AlertFiring:
		d.m.firing.Inc()
	case telemetry.AlertResolved:
		d.m.resolved.Inc()
	default:
		d.m.events.WithLabelValues("other").Inc()
	}
	set := d.actions.Load()
	acts, ok := set.rules[a.Rule]
	if !ok {
		acts = set.defaults
	}
	for _, act := range acts {
		if !act.Runs(a.State) {
			continue
		}
		if act.Spec.Type == ActionMQTT {
			d.publish(act, &a)
		} else {
			offer(d, d.webhookQ, webhookJob{act, a}, outWebhook)
		}
	}
	if d.forward != nil {
		d.forward.Notify(a)
	}
	e := entry{at: d.now(), alert: a}
	offer(d, d.historyQ, e, outHistory)
	if d.redisQ != nil {
		offer(d, d.redisQ, e, outRedis)
	}
}

// offer queues v without blocking, or counts it as dropped for out.
func offer[T any](d *Dispatcher, q chan T, v T, out string) {
	if !d.stopped.Load() {
		select {
		case q <- v:
			return
		default:
		}
	}
	d.m.droppedBy[out].Inc()
	d.limited.Warn(dropMessage(out), "output", out, "queue", cap(q))
}

// dropMessage is one log message per output, so that the rate limiter
// (which folds lines by message) keeps one line per output.
func dropMessage(out string) string {
	switch out {
	case outWebhook:
		return "alert webhook dropped: queue full or stopped"
	case outRedis:
		return "alert event not sent to redis: queue full or stopped"
	}
	return "alert event not recorded: history queue full or stopped"
}

func (d *Dispatcher) publish(act *Action, a *telemetry.Alert) {
	start := time.Now()
	err := d.publishErr(act, a)
	d.m.publish.Observe(time.Since(start).Seconds())
	if err != nil {
		d.m.mqttErr.Inc()
		d.limited.Warn("alert action failed", "type", ActionMQTT, "rule", a.Rule, "err", err)
		return
	}
	d.m.mqttOK.Inc()
}

func (d *Dispatcher) publishErr(act *Action, a *telemetry.Alert) error {
	topic, err := act.Topic(a)
	if err != nil {
		return fmt.Errorf("topic: %w", err)
	}
	if topic == "" {
		return errors.New("topic rendered empty")
	}
	payload, err := act.Payload(a)
	if err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	if err := d.pub.Publish(topic, payload, act.Spec.Retain, act.Spec.QoS); err != nil {
		return fmt.Errorf("publish %s: %w", topic, err)
	}
	return nil
}

// Ready is closed once Run has opened the embedded history.
func (d *Dispatcher) Ready() <-chan struct{} { return d.ready }

// History is the embedded history (nil before Run has opened it).
func (d *Dispatcher) History() History {
	if h := d.embedded.Load(); h != nil {
		return h
	}
	return nil
}
