package alerts

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// maxBatch bounds the events written to a history backend at once.
const maxBatch = 256

// embeddedAttempts is how often a failing embedded-history write is tried
// (disk errors are rarely transient); Redis writes are retried until the
// events would have expired anyway.
const embeddedAttempts = 3

// Run opens the embedded history (and the Redis client), delivers queued
// webhooks and history writes, and purges expired history until ctx is
// cancelled. Then it keeps delivering what is queued for at most
// drain_timeout, counts what is left as dropped, and closes the history.
func (d *Dispatcher) Run(ctx context.Context) error {
	if d.started.Swap(true) {
		return errors.New("alerts: Run called twice")
	}
	h, err := d.openEmbedded()
	if err != nil {
		d.stopped.Store(true)
		return err
	}
	var rh *RedisHistory
	if d.redisQ != nil {
		rh = NewRedisHistory(d.cfg.History.Redis, d.cfg.History.TTL, d.now)
	}
	d.log.Info("alert history open", "path", d.path, "entries", h.Len(), "ttl", d.cfg.History.TTL.String(),
		"redis", d.cfg.History.Redis.Address)
	close(d.ready)

	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { d.historyWorker(work, stop, d.historyQ, h, backendBolt, outHistory, embeddedAttempts) })
	if rh != nil {
		wg.Go(func() { d.historyWorker(work, stop, d.redisQ, rh, outRedis, outRedis, 0) })
	}
	for range d.cfg.WebhookWorkers {
		wg.Go(func() { drainLoop(stop, d.webhookQ, func(j webhookJob) { d.deliver(work, j) }) })
	}
	wg.Go(func() { d.purgeLoop(ctx, h, rh) })

	<-ctx.Done()
	close(stop)
	timer := time.AfterFunc(d.cfg.DrainTimeout, cancel)
	wg.Wait()
	timer.Stop()
	d.stopped.Store(true)
	d.countLeftovers()
	d.open.Store(false)
	d.client.CloseIdleConnections()
	errs := []error{h.Close()}
	if rh != nil {
		errs = append(errs, rh.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	return nil
}

func (d *Dispatcher) openEmbedded() (*BoltHistory, error) {
	if err := os.MkdirAll(filepath.Dir(d.path), 0o755); err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	h, err := OpenBoltHistory(d.path, d.cfg.History.TTL, d.cfg.History.MaxEntries, d.now)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	d.embedded.Store(h)
	d.open.Store(true)
	return h, nil
}

// drainLoop handles values from q until stop is closed, then handles
// what is still queued and returns.
func drainLoop[T any](stop <-chan struct{}, q <-chan T, handle func(T)) {
	for {
		select {
		case v := <-q:
			handle(v)
		case <-stop:
			for {
				select {
				case v := <-q:
					handle(v)
				default:
					return
				}
			}
		}
	}
}

func (d *Dispatcher) historyWorker(ctx context.Context, stop <-chan struct{}, q chan entry, rec recorder,
	backend, out string, attempts int) {
	batch := make([]entry, 0, maxBatch)
	drainLoop(stop, q, func(first entry) {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxBatch {
			select {
			case e := <-q:
				batch = append(batch, e)
			default:
				break fill
			}
		}
		d.writeHistory(ctx, rec, batch, backend, out, attempts)
	})
}

// writeHistory writes batch, retrying with backoff up to attempts times
// (0: until the events would have expired). Events given up are counted
// as dropped for out.
func (d *Dispatcher) writeHistory(ctx context.Context, rec recorder, batch []entry, backend, out string, attempts int) {
	if batch = d.encodable(batch, out); len(batch) == 0 {
		return
	}
	wait := d.retryMin
	for attempt := 1; ; attempt++ {
		if ctx.Err() == nil {
			err := rec.recordBatch(ctx, batch)
			if err == nil {
				d.m.historyWritten.WithLabelValues(backend).Add(float64(len(batch)))
				return
			}
			d.m.historyErrors.WithLabelValues(backend).Inc()
			d.limited.Warn("alert history write failed", "backend", backend, "events", len(batch),
				"attempt", attempt, "err", err)
		}
		batch = d.unexpired(batch, out)
		if len(batch) == 0 {
			return
		}
		if ctx.Err() != nil || (attempts > 0 && attempt >= attempts) {
			d.m.droppedBy[out].Add(float64(len(batch)))
			d.limited.Warn("alert history write given up", "backend", backend, "events", len(batch))
			return
		}
		sleep(ctx, jitter(wait))
		wait = min(2*wait, d.retryMax)
	}
}

// encodable encodes the events once and drops (and counts) those that
// cannot be (a time outside years 0..9999), so that one bad event cannot
// hold up a batch.
func (d *Dispatcher) encodable(batch []entry, out string) []entry {
	kept := batch[:0]
	for _, e := range batch {
		if _, err := e.json(); err != nil {
			d.m.droppedBy[out].Inc()
			d.limited.Warn("alert event cannot be recorded", "output", out, "rule", e.alert.Rule, "err", err)
			continue
		}
		kept = append(kept, e)
	}
	return kept
}

// unexpired drops (and counts) events older than the TTL.
func (d *Dispatcher) unexpired(batch []entry, out string) []entry {
	cutoff := d.now().Add(-d.cfg.History.TTL)
	kept := batch[:0]
	for _, e := range batch {
		if e.at.Before(cutoff) {
			d.m.droppedBy[out].Inc()
			continue
		}
		kept = append(kept, e)
	}
	return kept
}

// jitter returns a random duration in [d/2, d).
func jitter(d time.Duration) time.Duration {
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half)
}

// sleep waits for d or until ctx ends, and reports whether it waited.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// purgeLoop deletes expired history, at start and then every ttl/10
// (between 1s and 1m), a bounded amount per tick.
func (d *Dispatcher) purgeLoop(ctx context.Context, h *BoltHistory, rh *RedisHistory) {
	every := min(max(d.cfg.History.TTL/10, time.Second), time.Minute)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := h.Purge(ctx); err != nil {
			d.limited.Warn("alert history purge failed", "err", err)
		} else if n > 0 {
			d.log.Debug("alert history purged", "events", n)
		}
		if rh != nil {
			if _, err := rh.Purge(ctx); err != nil {
				d.log.Debug("redis stream trim failed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// countLeftovers counts events still queued once the workers have stopped.
func (d *Dispatcher) countLeftovers() {
	left := map[string]int{outWebhook: len(d.webhookQ), outHistory: len(d.historyQ), outRedis: len(d.redisQ)}
	for out, n := range left {
		if n > 0 {
			d.m.droppedBy[out].Add(float64(n))
			d.log.Warn("alert events not delivered before shutdown", "output", out, "events", n)
		}
	}
}
