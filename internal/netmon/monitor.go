// Package netmon watches the gateway's uplinks (Ethernet, 5G modem):
// link state through netlink events, reachability and latency through
// probes bound to each interface, and moves the default route to the most
// preferred healthy uplink, back only after a hold time.
package netmon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
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

type subscription struct {
	ch      chan netlink.LinkUpdate
	done    chan struct{}
	stopped atomic.Bool
}

func (m *Monitor) subscribe() *subscription {
	s := &subscription{ch: make(chan netlink.LinkUpdate, 64), done: make(chan struct{})}
	err := netlink.LinkSubscribeWithOptions(s.ch, s.done, netlink.LinkSubscribeOptions{
		ErrorCallback: func(err error) {
			if !s.stopped.Load() {
				m.lim.Warn("netmon: link subscription", "err", err)
			}
		},
	})
	if err != nil {
		m.log.Error("netmon: cannot subscribe to link changes; reading link state every interval instead", "err", err)
		close(s.done)
		s.ch, s.done = nil, nil
	}
	return s
}

// stop ends the subscription and drains its channel until the netlink
// goroutine has closed it (bounded).
func (s *subscription) stop() {
	if s.done == nil {
		return
	}
	s.stopped.Store(true)
	close(s.done)
	s.done = nil
	if s.ch == nil {
		return
	}
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case _, ok := <-s.ch:
			if !ok {
				return
			}
		case <-t.C:
			return
		}
	}
}

func linkIsUp(l netlink.Link) bool {
	a := l.Attrs()
	return a.Flags&net.FlagUp != 0 && a.RawFlags&unix.IFF_LOWER_UP != 0
}

func (m *Monitor) uplinkByIface(name string) *uplink {
	for _, u := range m.ups {
		if u.cfg.Interface == name {
			return u
		}
	}
	return nil
}

func (m *Monitor) linkUpdate(upd netlink.LinkUpdate) {
	if upd.Link == nil || upd.Link.Attrs() == nil {
		return
	}
	u := m.uplinkByIface(upd.Link.Attrs().Name)
	if u == nil {
		return
	}
	if upd.Header.Type == unix.RTM_DELLINK {
		m.setLink(u, false, false)
		return
	}
	m.setLink(u, true, linkIsUp(upd.Link))
}

func (m *Monitor) readLink(u *uplink) {
	l, err := netlink.LinkByName(u.cfg.Interface)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			m.setLink(u, false, false)
			return
		}
		m.lim.Warn("netmon: read link", "uplink", u.cfg.Name, "interface", u.cfg.Interface, "err", err)
		return
	}
	m.setLink(u, true, linkIsUp(l))
}

func (m *Monitor) setLink(u *uplink, present, up bool) {
	if !present {
		if !u.missingReported {
			u.missingReported = true
			m.log.Warn("netmon: interface does not exist; monitoring the other uplinks",
				"uplink", u.cfg.Name, "interface", u.cfg.Interface)
			m.emit(Event{Kind: LinkMissing, Uplink: u.cfg.Name, Reason: "interface " + u.cfg.Interface + " not found"})
		}
	} else {
		u.missingReported = false
	}
	wasUp := u.present && u.up
	u.present, u.up = present, present && up
	if u.up == wasUp {
		return
	}
	m.met.linkUp.WithLabelValues(u.cfg.Name).Set(b2f(u.up))
	if u.up {
		m.log.Info("netmon: link up", "uplink", u.cfg.Name, "interface", u.cfg.Interface)
		m.emit(Event{Kind: LinkUp, Uplink: u.cfg.Name})
	} else {
		m.log.Warn("netmon: link down", "uplink", u.cfg.Name, "interface", u.cfg.Interface)
		m.emit(Event{Kind: LinkDown, Uplink: u.cfg.Name})
	}
	// The kernel drops a device's routes when it goes down: write them again.
	u.standbyOK = false
	if m.applied == u.cfg.Name {
		m.applied = ""
	}
	m.ensureStandby(u)
	m.evaluate()
}

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
