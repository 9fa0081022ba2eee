package simulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"syscall"
	"time"
)

// drainTimeout bounds the wait for outstanding QoS 1 acknowledgements at
// the end of a run (also after cancellation, so the report is complete).
const drainTimeout = 5 * time.Second

// Run simulates the fleet described by cfg until its Duration or Count is
// reached or ctx is cancelled, and reports what was sent. A progress line
// is written to progress every second (nil: none). Run returns an error
// (with the report so far) when cfg is invalid, a connection cannot be
// established, or a connection fails during the run.
func Run(ctx context.Context, cfg Config, progress io.Writer) (Report, error) {
	if err := cfg.Validate(); err != nil {
		return Report{}, fmt.Errorf("simulate: %w", err)
	}
	var alerts *alertMatcher
	var asub *alertSub
	if cfg.ExpectAlerts {
		alerts = newAlertMatcher(cfg.DevicePrefix)
		var err error
		if asub, err = subscribeAlerts(ctx, &cfg, alerts); err != nil {
			return Report{}, fmt.Errorf("simulate: %w", err)
		}
		defer asub.Close()
	}
	workers, err := connect(ctx, &cfg, newFleet(&cfg))
	if err != nil {
		return Report{}, err
	}
	for _, w := range workers {
		w.alerts = alerts
	}
	pl := &plan{start: time.Now(), timeMode: cfg.Duration > 0, rate: cfg.Rate / float64(cfg.Conns)}
	cpu0 := processCPU()
	runCtx, cancel := ctx, context.CancelFunc(func() {})
	if cfg.Duration > 0 {
		runCtx, cancel = context.WithDeadline(ctx, pl.start.Add(cfg.Duration))
	}
	defer cancel()
	stopProgress := startProgress(progress, workers, alerts, pl.start)

	results := make([]workerResult, len(workers))
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Go(func() { results[i] = w.runAndFinish(runCtx, ctx, pl) })
	}
	wg.Wait()
	elapsed := time.Since(pl.start)
	stopProgress()

	rep := buildReport(&cfg, workers, results, elapsed)
	rep.ProcessCPU = (processCPU() - cpu0).Seconds()
	var errs []error
	for i, r := range results {
		if r.err != nil {
			errs = append(errs, fmt.Errorf("connection %d: %w", i, r.err))
		}
	}
	if alerts != nil {
		alerts.wait(ctx, asub.done, cfg.AlertGrace)
		if err := asub.Err(); err != nil {
			errs = append(errs, err)
		}
		asub.Close()
		ar := alerts.report(cfg.AlertFilter, asub.granted)
		rep.Alerts = &ar
	}
	if len(errs) > 0 {
		return rep, fmt.Errorf("simulate: %w", errors.Join(errs...))
	}
	return rep, nil
}

// connect opens one connection per worker and spreads the devices over
// them (device i on connection i % Conns). Either all connect or none stay
// open.
func connect(ctx context.Context, cfg *Config, devs []*device) ([]*worker, error) {
	d, err := newDialer(cfg)
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	workers := make([]*worker, cfg.Conns)
	for i := range workers {
		c, err := d.dial(ctx, fmt.Sprintf("%s-%d", cfg.ClientIDPrefix, i))
		if err != nil {
			for _, w := range workers[:i] {
				_, _ = w.pub.finish(ctx)
			}
			return nil, fmt.Errorf("simulate: %w", err)
		}
		var mine []*device
		for j := i; j < len(devs); j += cfg.Conns {
			mine = append(mine, devs[j])
		}
		quota := int64(math.MaxInt64)
		if cfg.Count > 0 {
			quota = cfg.Count / int64(cfg.Conns)
			if int64(i) < cfg.Count%int64(cfg.Conns) {
				quota++
			}
		}
		workers[i] = newWorker(newPublisher(c, cfg.QoS, cfg.MaxInflight), mine, quota)
	}
	return workers, nil
}

type workerResult struct {
	unacked int64
	err     error
}

// runAndFinish sends until runCtx ends, then drains acknowledgements
// (bounded by drainTimeout, even when ctx is cancelled) and disconnects.
func (w *worker) runAndFinish(runCtx, ctx context.Context, pl *plan) workerResult {
	err := w.run(runCtx, pl)
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
	defer cancel()
	unacked, ferr := w.pub.finish(dctx)
	if err == nil && !errors.Is(ferr, errStopped) {
		err = ferr
	}
	return workerResult{unacked: unacked, err: err}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startProgress prints a line every second until the returned func is
// called.
func startProgress(out io.Writer, workers []*worker, alerts *alertMatcher, start time.Time) func() {
	if out == nil {
		return func() {}
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		var prev int64
		prevT := start
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				var sent, errs int64
				for _, w := range workers {
					sent += w.sent.Load()
					if w.pub.failed() {
						errs++
					}
				}
				rate := float64(sent-prev) / now.Sub(prevT).Seconds()
				line := fmt.Sprintf("%6.1fs  sent %d  rate %.0f msg/s  errors %d", now.Sub(start).Seconds(), sent, rate, errs)
				if alerts != nil {
					got, want := alerts.progress()
					line += fmt.Sprintf("  alerts %d/%d", got, want)
				}
				fmt.Fprintln(out, line)
				prev, prevT = sent, now
			}
		}
	}()
	return func() { close(stop); <-done }
}
