package watchdog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/promreg"
)

// EventKind names a change.
type EventKind string

// Event kinds.
const (
	ServiceDown      EventKind = "service_down"      // a check failed after the service was up (or at start)
	ServiceRestarted EventKind = "service_restarted" // the restart command (or D-Bus restart) succeeded
	RestartFailed    EventKind = "restart_failed"    // it failed or timed out
	GaveUp           EventKind = "gave_up"           // max_restarts reached within restart_window
	ServiceUp        EventKind = "service_up"        // a check succeeded after the service was down
)

// Event is one change, passed to Deps.OnEvent.
type Event struct {
	Time    time.Time `json:"time"`
	Kind    EventKind `json:"kind"`
	Service string    `json:"service"`
	Reason  string    `json:"reason,omitempty"`
	// Output of the restart command (bounded), for restart events.
	Output string `json:"output,omitempty"`
	// Backoff before the next restart may run (restart events).
	Backoff time.Duration `json:"backoff,omitempty"`
	// Restarts within the current window (restart events and gave_up).
	Restarts int `json:"restarts,omitempty"`
}

// State of a service.
type State string

// States.
const (
	StateUnknown    State = "unknown"    // not checked yet
	StateUp         State = "up"         // last check succeeded
	StateDown       State = "down"       // last check failed
	StateRestarting State = "restarting" // a restart is running
	StateGaveUp     State = "gave_up"    // down and out of restarts until healthy again
	StateUnwatched  State = "unwatched"  // cannot be checked (no systemd D-Bus)
)

// ServiceStatus is one service's state.
type ServiceStatus struct {
	Name          string    `json:"name"`
	Check         string    `json:"check"`
	State         State     `json:"state"`
	LastError     string    `json:"last_error,omitempty"`
	LastCheck     time.Time `json:"last_check,omitzero"`
	Restarts      int       `json:"restarts"` // within the current window
	RestartsTotal int       `json:"restarts_total"`
	ChecksSkipped int       `json:"checks_skipped"`
}

// Deps are the watchdog's collaborators.
type Deps struct {
	Logger   *slog.Logger          // nil: slog.Default()
	Limited  *slog.Logger          // rate-limited, for repeated check failures; nil uses Logger
	Registry prometheus.Registerer // nil: no metrics registered
	Now      func() time.Time      // nil: time.Now; event times, backoff and restart window
	// OnEvent receives every event; calls are serialized (in order per
	// service). It must not block.
	OnEvent func(Event)
	// Systemd connects to systemd's D-Bus; nil: go-systemd's system bus
	// (ErrNoSystemd on hosts without systemd).
	Systemd func(ctx context.Context) (Systemd, error)
}

// Watchdog checks and restarts services.
type Watchdog struct {
	log, lim *slog.Logger
	now      func() time.Time
	reg      prometheus.Registerer
	dial     func(context.Context) (Systemd, error)
	met      *metrics
	ready    chan struct{}
	procRoot string

	evMu sync.Mutex
	onEv func(Event)

	mu       sync.Mutex
	svcs     []*service
	waiting  int
	readyHit bool
}

type service struct {
	cfg   ServiceConfig
	check checker
	st    ServiceStatus // guarded by Watchdog.mu

	// owned by the service loop
	attempts []time.Time // restart start times within the window
	backoff  time.Duration
	notUntil time.Time
	gaveUp   bool
	seen     bool // first check done
}

// New validates cfg and prepares the watchdog; Run starts it.
func New(cfg Config, d Deps) (*Watchdog, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
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
	if d.Systemd == nil {
		d.Systemd = dialSystemd
	}
	w := &Watchdog{log: d.Logger, lim: d.Limited, now: d.Now, onEv: d.OnEvent, reg: d.Registry,
		dial: d.Systemd, met: newMetrics(), ready: make(chan struct{}), procRoot: "/proc"}
	for _, raw := range cfg.Services {
		s := raw.withDefaults()
		w.svcs = append(w.svcs, &service{cfg: s, backoff: s.Backoff.Min,
			st: ServiceStatus{Name: s.Name, Check: s.Check, State: StateUnknown}})
	}
	w.waiting = len(w.svcs)
	if w.waiting == 0 {
		close(w.ready)
		w.readyHit = true
	}
	return w, nil
}

// Ready is closed once every service has been checked once (or found
// unwatchable).
func (w *Watchdog) Ready() <-chan struct{} { return w.ready }

// Status returns every service's state, in config order.
func (w *Watchdog) Status() []ServiceStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]ServiceStatus, len(w.svcs))
	for i, s := range w.svcs {
		out[i] = s.st
	}
	return out
}

// Run watches until ctx ends and returns nil then; an error only if it
// cannot start (metrics registration). Restart commands still running
// when ctx ends are killed.
func (w *Watchdog) Run(ctx context.Context) error {
	if w.reg != nil {
		g, err := promreg.Register(w.reg, w.met.up, w.met.restarts, w.met.skipped)
		if err != nil {
			return fmt.Errorf("watchdog: metrics: %w", err)
		}
		defer g.Unregister()
	}
	var sd Systemd
	var sdErr error
	for _, s := range w.svcs {
		if s.cfg.Check == CheckSystemd {
			dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			sd, sdErr = w.dial(dctx)
			cancel()
			if sdErr == nil && sd == nil {
				sdErr = ErrNoSystemd
			}
			break
		}
	}
	if sd != nil {
		defer sd.Close()
	}
	var wg sync.WaitGroup
	for _, s := range w.svcs {
		w.met.skipped.WithLabelValues(s.cfg.Name)
		for _, r := range []string{"ok", "failed"} {
			w.met.restarts.WithLabelValues(s.cfg.Name, r)
		}
		switch s.cfg.Check {
		case CheckTCP:
			s.check = tcpCheck(s.cfg.Address)
		case CheckPidfile:
			s.check = pidfileCheck(w.procRoot, s.cfg.Pidfile)
		case CheckProcess:
			s.check = processCheck(w.procRoot, s.cfg.Process)
		case CheckSystemd:
			if sdErr != nil {
				msg := sdErr.Error()
				if !strings.HasPrefix(msg, ErrNoSystemd.Error()) {
					msg = ErrNoSystemd.Error() + ": " + msg
				}
				w.log.Error(fmt.Sprintf("%s: service %s not watched", msg, s.cfg.Name),
					"service", s.cfg.Name, "unit", s.cfg.Unit)
				w.update(s, func(st *ServiceStatus) { st.State = StateUnwatched; st.LastError = msg })
				w.met.up.WithLabelValues(s.cfg.Name).Set(0)
				w.checked(s)
				continue
			}
			s.check = systemdCheck(sd, s.cfg.Unit)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(ctx, s, sd)
		}()
	}
	wg.Wait()
	return nil
}

type restartResult struct {
	err    error
	output string
}

// loop runs one service: a check every interval (skipped while the
// previous one runs), at most one restart in flight.
func (w *Watchdog) loop(ctx context.Context, s *service, sd Systemd) {
	checkDone := make(chan error, 1)
	restartDone := make(chan restartResult, 1)
	checking, restarting := false, false
	var bg sync.WaitGroup
	defer bg.Wait() // check and restart end with ctx

	startCheck := func() {
		if checking {
			w.met.skipped.WithLabelValues(s.cfg.Name).Inc()
			w.update(s, func(st *ServiceStatus) { st.ChecksSkipped++ })
			return
		}
		checking = true
		bg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
			defer cancel()
			checkDone <- s.check(cctx)
		})
	}
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	startCheck()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			startCheck()
		case err := <-checkDone:
			checking = false
			if ctx.Err() != nil {
				return
			}
			if w.result(s, err, restarting) {
				restarting = true
				bg.Go(func() { restartDone <- w.restart(ctx, s, sd) })
			}
		case r := <-restartDone:
			restarting = false
			if ctx.Err() != nil {
				return
			}
			w.restarted(s, r)
		}
	}
}

// result handles a check result and reports whether to start a restart.
func (w *Watchdog) result(s *service, err error, restarting bool) bool {
	now := w.now()
	name := s.cfg.Name
	first := !s.seen
	s.seen = true
	defer func() {
		if first {
			w.checked(s)
		}
	}()
	if err == nil {
		w.met.up.WithLabelValues(name).Set(1)
		var was State
		w.update(s, func(st *ServiceStatus) {
			was = st.State
			st.LastCheck = now
			st.LastError = ""
			st.State = StateUp
		})
		if was != StateUp && was != StateUnknown {
			w.log.Info("service up", "service", name)
			w.emit(Event{Time: now, Kind: ServiceUp, Service: name})
		}
		s.backoff = s.cfg.Backoff.Min
		s.notUntil = time.Time{}
		s.gaveUp = false
		s.attempts = s.attempts[:0]
		w.update(s, func(st *ServiceStatus) { st.Restarts = 0 })
		return false
	}
	w.met.up.WithLabelValues(name).Set(0)
	var was State
	w.update(s, func(st *ServiceStatus) {
		was = st.State
		st.LastCheck = now
		st.LastError = err.Error()
		if st.State == StateUp || st.State == StateUnknown {
			st.State = StateDown
		}
	})
	if was == StateUp || was == StateUnknown {
		w.log.Warn("service down", "service", name, "err", err)
		w.emit(Event{Time: now, Kind: ServiceDown, Service: name, Reason: err.Error()})
	} else {
		w.lim.Warn("service still down", "service", name, "err", err)
	}
	if restarting || s.gaveUp || now.Before(s.notUntil) {
		return false
	}
	if len(s.cfg.RestartCommand) == 0 && s.cfg.Check != CheckSystemd {
		return false // report only
	}
	// Restarts within the window.
	keep := s.attempts[:0]
	for _, a := range s.attempts {
		if s.cfg.RestartWindow == 0 || now.Sub(a) < s.cfg.RestartWindow {
			keep = append(keep, a)
		}
	}
	s.attempts = keep
	if len(s.attempts) >= s.cfg.MaxRestarts {
		s.gaveUp = true
		w.update(s, func(st *ServiceStatus) { st.State = StateGaveUp })
		w.log.Error("service watchdog gave up", "service", name, "restarts", len(s.attempts),
			"window", s.cfg.RestartWindow)
		w.emit(Event{Time: now, Kind: GaveUp, Service: name, Restarts: len(s.attempts),
			Reason: fmt.Sprintf("%d restarts within %s", len(s.attempts), s.cfg.RestartWindow)})
		return false
	}
	s.attempts = append(s.attempts, now)
	w.update(s, func(st *ServiceStatus) {
		st.State = StateRestarting
		st.Restarts = len(s.attempts)
		st.RestartsTotal++
	})
	return true
}

func (w *Watchdog) restarted(s *service, r restartResult) {
	now := w.now()
	name := s.cfg.Name
	wait := s.backoff
	s.notUntil = now.Add(wait)
	s.backoff = min(2*s.backoff, s.cfg.Backoff.Max)
	w.update(s, func(st *ServiceStatus) {
		if st.State == StateRestarting {
			st.State = StateDown
		}
	})
	ev := Event{Time: now, Service: name, Output: r.output, Backoff: wait, Restarts: len(s.attempts)}
	if r.err != nil {
		w.met.restarts.WithLabelValues(name, "failed").Inc()
		ev.Kind, ev.Reason = RestartFailed, r.err.Error()
		w.log.Error("service restart failed", "service", name, "err", r.err, "output", r.output, "backoff", wait)
	} else {
		w.met.restarts.WithLabelValues(name, "ok").Inc()
		ev.Kind = ServiceRestarted
		w.log.Info("service restarted", "service", name, "output", r.output, "backoff", wait)
	}
	w.emit(ev)
}

// maxOutput bounds the restart output kept for logs and events.
const maxOutput = 4096

type boundedBuffer struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	truncated bool
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := maxOutput - b.buf.Len(); room < len(p) {
		b.buf.Write(p[:max(room, 0)])
		b.truncated = true
	} else {
		b.buf.Write(p)
	}
	return len(p), nil
}

func (b *boundedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := strings.TrimSpace(b.buf.String())
	if b.truncated {
		s += " …(truncated)"
	}
	return s
}

func (w *Watchdog) restart(ctx context.Context, s *service, sd Systemd) restartResult {
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RestartTimeout)
	defer cancel()
	if len(s.cfg.RestartCommand) == 0 { // systemd (checked by the caller)
		return restartResult{err: sd.RestartUnit(rctx, s.cfg.Unit)}
	}
	argv := s.cfg.RestartCommand
	cmd := exec.CommandContext(rctx, argv[0], argv[1:]...)
	var out boundedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// A daemon started by the command may keep our pipe open: stop
	// waiting for it shortly after the command itself has exited.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil
	}
	if err != nil && rctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("timed out after %s: %w", s.cfg.RestartTimeout, err)
	}
	return restartResult{err: err, output: out.String()}
}

func (w *Watchdog) update(s *service, f func(*ServiceStatus)) {
	w.mu.Lock()
	f(&s.st)
	w.mu.Unlock()
}

// checked counts a service's first check towards Ready.
func (w *Watchdog) checked(*service) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.waiting--
	if w.waiting <= 0 && !w.readyHit {
		w.readyHit = true
		close(w.ready)
	}
}

func (w *Watchdog) emit(ev Event) {
	w.evMu.Lock()
	defer w.evMu.Unlock()
	w.onEv(ev)
}

type metrics struct {
	up       *prometheus.GaugeVec
	restarts *prometheus.CounterVec
	skipped  *prometheus.CounterVec
}

func newMetrics() *metrics {
	return &metrics{
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "borda_watchdog_service_up",
			Help: "1 while the service's last check succeeded."}, []string{"service"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_watchdog_restarts_total",
			Help: "Restarts run by the watchdog, by result (ok, failed)."}, []string{"service", "result"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_watchdog_checks_skipped_total",
			Help: "Checks skipped because the previous check was still running."}, []string{"service"}),
	}
}
