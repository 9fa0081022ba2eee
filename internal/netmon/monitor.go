// Package netmon watches the gateway's uplinks (Ethernet, 5G modem):
// link state through netlink events, reachability and latency through
// probes bound to each interface, and moves the default route to the most
// preferred healthy uplink, back only after a hold time.
package netmon

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Deps are the monitor's collaborators.
type Deps struct {
	Logger   *slog.Logger          // nil: slog.Default()
	Limited  *slog.Logger          // rate-limited, for repeated probe/route failures; nil uses Logger
	Registry prometheus.Registerer // nil: no metrics registered
	Now      func() time.Time      // nil: time.Now; used for fail_after and hold_time
	// OnEvent receives every event, from the monitor's goroutine, in order.
	// It must not block (hand the event to a channel or queue).
	OnEvent func(Event)
}

// UplinkStatus is one uplink's state.
type UplinkStatus struct {
	Name       string        `json:"name"`
	Interface  string        `json:"interface"`
	Priority   int           `json:"priority"`
	Present    bool          `json:"present"` // the interface exists
	Up         bool          `json:"up"`      // admin up with carrier
	Reachable  bool          `json:"reachable"`
	Healthy    bool          `json:"healthy"` // up and reachable
	LatencyAvg time.Duration `json:"latency_avg"`
	LatencyP95 time.Duration `json:"latency_p95"`
	Loss       float64       `json:"loss"`
	LastError  string        `json:"last_error,omitempty"` // of the last failed round
	Rounds     int64         `json:"rounds"`
	Skipped    int64         `json:"skipped"` // rounds skipped: the previous one was still running
}

// Status is a snapshot of the monitor.
type Status struct {
	Active  string         `json:"active"` // uplink the default route goes through ("" before the first choice)
	Online  bool           `json:"online"` // some uplink is healthy
	Routes  string         `json:"routes"` // "managed", "disabled" or "denied" (no permission)
	Uplinks []UplinkStatus `json:"uplinks"`
	// Resources is the last host sample (zero before the first one).
	Resources ResourceStatus `json:"resources"`
}

type uplink struct {
	cfg     UplinkConfig
	targets []Target
	running chan struct{} // cap 1: held while a round runs

	// owned by the loop goroutine
	present, up     bool
	missingReported bool
	reachable       bool
	reachKnown      bool
	failStreak      int
	failSince       time.Time
	healthySince    time.Time
	latencyHigh     bool
	win             window
	standbyOK       bool
	lastErr         string
	rounds, skipped int64
}

func (u *uplink) healthy() bool { return u.present && u.up && u.reachable }

type roundResult struct {
	u       *uplink
	at      time.Time
	rtts    []time.Duration
	errs    []error
	skipped bool
}

// Monitor is the connectivity monitor.
type Monitor struct {
	cfg   Config
	log   *slog.Logger
	lim   *slog.Logger
	now   func() time.Time
	onEv  func(Event)
	reg   prometheus.Registerer
	met   *metrics
	ups   []*uplink
	ready chan struct{}

	// owned by the loop goroutine
	active      string
	applied     string // uplink the active route was last written through
	routeDenied bool
	waiting     int // uplinks without a first round yet
	resHigh     map[string]bool
	rec         recovery
	procRoot    string // /proc, replaced in tests
	sysRoot     string // /sys

	mu       sync.Mutex
	status   Status
	online   bool
	watchers []chan bool
	closed   bool
}

// New validates cfg and returns a monitor; Run starts it.
func New(cfg Config, d Deps) (*Monitor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.Uplinks) == 0 {
		return nil, errors.New("netmon: no uplinks configured")
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Limited == nil {
		d.Limited = d.Logger
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.OnEvent == nil {
		d.OnEvent = func(Event) {}
	}
	m := &Monitor{cfg: cfg, log: d.Logger, lim: d.Limited, now: d.Now, onEv: d.OnEvent,
		reg: d.Registry, met: newMetrics(), ready: make(chan struct{}),
		resHigh: map[string]bool{}, procRoot: "/proc", sysRoot: "/sys"}
	for _, uc := range cfg.normalized() {
		u := &uplink{cfg: uc, running: make(chan struct{}, 1), win: window{n: cfg.Window}}
		for _, s := range uc.Targets {
			t, _ := ParseTarget(s) // validated
			u.targets = append(u.targets, t)
		}
		m.ups = append(m.ups, u)
	}
	m.waiting = len(m.ups)
	m.publish()
	return m, nil
}

// Ready is closed once every uplink has had its first link read and
// probe round and the first active uplink has been chosen (if any is healthy).
func (m *Monitor) Ready() <-chan struct{} { return m.ready }

// Status returns a snapshot; safe for concurrent use.
func (m *Monitor) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.status
	s.Uplinks = append([]UplinkStatus(nil), s.Uplinks...)
	return s
}

// Online reports whether some uplink is up and reachable.
func (m *Monitor) Online() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.online
}

// Watch returns a channel that receives the current online state at once
// and then every change. Only the latest value is kept for a slow reader.
// The channel is closed when Run returns.
func (m *Monitor) Watch() <-chan bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	ch := make(chan bool, 1)
	if m.closed {
		close(ch)
		return ch
	}
	ch <- m.online
	m.watchers = append(m.watchers, ch)
	return ch
}

func (m *Monitor) setOnline(on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if on == m.online {
		return
	}
	m.online = on
	for _, ch := range m.watchers {
		select { // replace a value the reader has not taken yet
		case <-ch:
		default:
		}
		ch <- on
	}
}

// emit refreshes the status snapshot first, so that an OnEvent handler
// calling Status sees the state the event reports.
func (m *Monitor) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = m.now()
	}
	m.publish()
	m.onEv(e)
}

// Run monitors until ctx ends. It returns an error only when it cannot
// start (metrics registration); missing interfaces, failed probes and a
// denied route change are reported and monitoring goes on.
func (m *Monitor) Run(ctx context.Context) error {
	defer func() {
		m.mu.Lock()
		m.closed = true
		for _, ch := range m.watchers {
			close(ch)
		}
		m.watchers = nil
		m.mu.Unlock()
	}()
	if err := m.met.register(m.reg); err != nil {
		return err
	}
	defer m.met.group.Unregister()
	if !m.cfg.ManageRoutes {
		m.log.Info("netmon: route management disabled; reporting only")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	sub := m.subscribe()
	defer sub.stop()
	for _, u := range m.ups { // initial read, after subscribing so no change is lost
		m.readLink(u)
	}

	results := make(chan roundResult, len(m.ups))
	var wg sync.WaitGroup
	for _, u := range m.ups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.prober(ctx, u, results)
		}()
	}
	samples := make(chan sample, 1)
	if m.cfg.Resources.Interval > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.sampler(ctx, samples)
		}()
	}
	recoveryTick, recovered, startRecovery := m.recoveryRunner(ctx, &wg)
	defer wg.Wait()
	defer cancel()

	// Reconcile is a safety net for lost netlink messages (receive buffer
	// overrun) and covers a broken subscription; changes arrive as events.
	reconcile := time.NewTicker(max(m.cfg.Interval, time.Second))
	defer reconcile.Stop()
	var resub <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case upd, ok := <-sub.ch:
			if !ok {
				m.lim.Warn("netmon: link subscription ended; resubscribing in 1s")
				sub.ch = nil
				resub = time.After(time.Second)
				continue
			}
			m.linkUpdate(upd)
		case <-resub:
			resub = nil
			sub.stop()
			sub = m.subscribe()
			for _, u := range m.ups {
				m.readLink(u)
			}
		case r := <-results:
			m.handleRound(r)
		case s := <-samples:
			m.handleSample(s)
		case <-recoveryTick:
			m.checkRecovery(ctx, startRecovery)
		case res := <-recovered:
			m.handleRecovery(res)
		case <-reconcile.C:
			for _, u := range m.ups {
				m.readLink(u)
			}
		}
	}
}

// errRouteDenied marks EPERM/EACCES from netlink.
func isDenied(err error) bool {
	return errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES)
}

// sampler reads the host resources every resources.interval.
func (m *Monitor) sampler(ctx context.Context, out chan<- sample) {
	r := &resourceReader{proc: m.procRoot, sys: m.sysRoot, disk: m.cfg.Resources.DiskPath}
	t := time.NewTicker(m.cfg.Resources.Interval)
	defer t.Stop()
	r.read() // CPU needs two readings
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		select {
		case out <- r.read():
		case <-ctx.Done():
			return
		}
	}
}
