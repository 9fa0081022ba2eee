package netmon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// RecoveryConfig is the last resort of the seed's watchdog: when every
// link has been down for a while, run a command that resets the network
// stack (the seed restarts NetworkManager).
type RecoveryConfig struct {
	// Command and its arguments, run without a shell; empty: off.
	// The seed's: ["systemctl", "restart", "NetworkManager"].
	Command []string `yaml:"command"`
	// When: "links_down" (every uplink without carrier or missing, as the
	// seed) or "offline" (no uplink healthy: also covers links that are up
	// but reach nothing).
	When string `yaml:"when"`
	// After: the condition must hold this long before the first run.
	After time.Duration `yaml:"after"`
	// Timeout of one run; the command is killed after it.
	Timeout time.Duration `yaml:"timeout"`
	// Backoff before the next run while the condition holds; it doubles
	// after every run, up to 30 minutes.
	Backoff time.Duration `yaml:"backoff"`
	// MaxAttempts per outage; 0: no limit. The count starts again once the
	// condition clears.
	MaxAttempts int `yaml:"max_attempts"`
}

// Recovery triggers.
const (
	RecoverLinksDown = "links_down"
	RecoverOffline   = "offline"
)

const maxRecoveryBackoff = 30 * time.Minute

// DefaultRecoveryConfig is off (no command) with the seed's timing.
func DefaultRecoveryConfig() RecoveryConfig {
	return RecoveryConfig{When: RecoverLinksDown, After: 30 * time.Second, Timeout: time.Minute,
		Backoff: 2 * time.Minute, MaxAttempts: 5}
}

// Validate names each bad key.
func (c RecoveryConfig) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if len(c.Command) > 0 && strings.TrimSpace(c.Command[0]) == "" {
		add("command: the program name is empty")
	}
	if c.When != RecoverLinksDown && c.When != RecoverOffline {
		add("when: %q is not one of %s, %s", c.When, RecoverLinksDown, RecoverOffline)
	}
	if c.After < 0 {
		add("after: %s must not be negative", c.After)
	}
	if c.Timeout <= 0 {
		add("timeout: %s must be positive", c.Timeout)
	}
	if c.Backoff <= 0 {
		add("backoff: %s must be positive", c.Backoff)
	}
	if c.MaxAttempts < 0 {
		add("max_attempts: %d must not be negative", c.MaxAttempts)
	}
	return errors.Join(errs...)
}

// tick is how often the loop looks at the recovery condition.
func (c RecoveryConfig) tick() time.Duration {
	return min(max(c.After/4, 10*time.Millisecond), time.Second)
}

// recovery is the loop-owned state of the recovery command.
type recovery struct {
	since    time.Time // condition holds since (zero: it does not)
	next     time.Time // earliest next run
	attempts int
	running  bool
	gaveUp   bool
}

type recoveryResult struct {
	attempt int
	err     error
	output  string
	took    time.Duration
}

// recoveryNeeded reports whether the configured condition holds.
func (m *Monitor) recoveryNeeded() bool {
	for _, u := range m.ups {
		if m.cfg.Recovery.When == RecoverOffline && u.healthy() ||
			m.cfg.Recovery.When == RecoverLinksDown && u.present && u.up {
			return false
		}
	}
	return true
}

// checkRecovery starts the recovery command when the condition has held
// long enough, at most one run at a time, with backoff between runs.
func (m *Monitor) checkRecovery(ctx context.Context, start func(attempt int)) {
	rc, r := m.cfg.Recovery, &m.rec
	if len(rc.Command) == 0 {
		return
	}
	now := m.now()
	if !m.recoveryNeeded() {
		if !r.since.IsZero() && r.attempts > 0 {
			m.log.Info("netmon: network back after recovery", "attempts", r.attempts, "down_for", now.Sub(r.since).Round(time.Second))
		}
		*r = recovery{running: r.running}
		return
	}
	if r.since.IsZero() {
		r.since, r.next = now, now.Add(rc.After)
	}
	if r.running || now.Before(r.next) || ctx.Err() != nil {
		return
	}
	if rc.MaxAttempts > 0 && r.attempts >= rc.MaxAttempts {
		if !r.gaveUp {
			r.gaveUp = true
			m.log.Error("netmon: recovery gave up; it runs again after the network comes back and fails again",
				"attempts", r.attempts)
			m.emit(Event{Kind: RecoveryGaveUp, Reason: fmt.Sprintf("%d attempts", r.attempts)})
		}
		return
	}
	r.attempts++
	r.running = true
	r.next = now.Add(min(rc.Backoff<<min(r.attempts-1, 20), maxRecoveryBackoff))
	reason := fmt.Sprintf("%s for %s: running %q (attempt %d)", rc.When, now.Sub(r.since).Round(time.Millisecond),
		strings.Join(rc.Command, " "), r.attempts)
	m.log.Warn("netmon: recovery", "reason", reason)
	m.emit(Event{Kind: RecoveryRun, Reason: reason})
	start(r.attempts)
}

// runRecovery runs the command once; it returns within timeout plus a
// short grace period for the output pipes.
func runRecovery(ctx context.Context, rc RecoveryConfig, attempt int) recoveryResult {
	ctx, cancel := context.WithTimeout(ctx, rc.Timeout)
	defer cancel()
	var out tailBuffer
	cmd := exec.CommandContext(ctx, rc.Command[0], rc.Command[1:]...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 2 * time.Second
	began := time.Now()
	err := cmd.Run()
	if err != nil && ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("timed out after %s: %w", rc.Timeout, err)
	}
	return recoveryResult{attempt: attempt, err: err, output: strings.TrimSpace(out.String()), took: time.Since(began)}
}

func (m *Monitor) handleRecovery(res recoveryResult) {
	m.rec.running = false
	if res.err != nil {
		m.met.recoveries.WithLabelValues("failed").Inc()
		m.log.Error("netmon: recovery command failed", "attempt", res.attempt, "err", res.err, "output", res.output)
		m.emit(Event{Kind: RecoveryFailed, Reason: fmt.Sprintf("attempt %d: %v: %s", res.attempt, res.err, res.output)})
		return
	}
	m.met.recoveries.WithLabelValues("ok").Inc()
	m.log.Info("netmon: recovery command done", "attempt", res.attempt, "took", res.took.Round(time.Millisecond))
}

// tailBuffer keeps the last 1 KiB written to it.
type tailBuffer struct{ b bytes.Buffer }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b.Write(p)
	if over := t.b.Len() - 1024; over > 0 {
		t.b.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return t.b.String() }

// recoveryRunner returns the loop's recovery tick (nil when no command is
// configured), the channel results arrive on, and the function that starts
// one run in a goroutine tracked by wg.
func (m *Monitor) recoveryRunner(ctx context.Context, wg interface{ Go(func()) }) (<-chan time.Time, <-chan recoveryResult, func(int)) {
	if len(m.cfg.Recovery.Command) == 0 {
		return nil, nil, nil
	}
	t := time.NewTicker(m.cfg.Recovery.tick())
	context.AfterFunc(ctx, t.Stop)
	results := make(chan recoveryResult, 1)
	start := func(attempt int) {
		wg.Go(func() { results <- runRecovery(ctx, m.cfg.Recovery, attempt) })
	}
	return t.C, results, start
}
