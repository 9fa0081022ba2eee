package simulate

import (
	"context"
	"math"
	"sync/atomic"
	"time"
)

// unpacedBatch is how many messages an unpaced sender writes between
// flushes and checks of its limits.
const unpacedBatch = 256

// plan is what all senders of a run share.
type plan struct {
	start    time.Time
	timeMode bool    // silent devices stop by time (Duration set), else by message count
	rate     float64 // messages/s per connection; 0 = unpaced
}

// worker sends the messages of the devices on one connection.
type worker struct {
	pub    *publisher
	active []*device // devices that have not gone silent
	devs   []*device // all devices of this connection
	rr     int       // round robin position in active
	quota  int64     // messages left to send (math.MaxInt64 = no count limit)
	buf    []byte

	sent      atomic.Int64 // published so far, updated per batch (read by the progress line)
	malformed int64
	anomalies int64
	lastWrite time.Time
	alerts    *alertMatcher // Config.ExpectAlerts: where expected alert events go; nil = not tracked
}

func newWorker(pub *publisher, devs []*device, quota int64) *worker {
	return &worker{pub: pub, devs: devs, active: append([]*device(nil), devs...), quota: quota, buf: make([]byte, 0, 512)}
}

// run sends until the quota is used, every device is silent, or ctx is
// done (the run's deadline or cancellation). It returns nil then, or the
// connection's error.
func (w *worker) run(ctx context.Context, pl *plan) error {
	var tick <-chan time.Time
	var pace pacer
	if pl.rate > 0 {
		t := time.NewTicker(tickFor(pl.rate))
		defer t.Stop()
		tick, pace = t.C, pacer{rate: pl.rate, last: time.Now()}
	}
	w.lastWrite = time.Now()
	var sent int64
	defer func() { w.sent.Store(sent) }()
	for w.quota > 0 && len(w.active) > 0 && ctx.Err() == nil {
		budget := min(int64(unpacedBatch), w.quota)
		if tick != nil {
			budget = min(pace.take(time.Now()), w.quota)
		}
		wrote := budget > 0
		for budget > 0 && len(w.active) > 0 {
			ok, err := w.sendOne(ctx, pl)
			if err == errStopped {
				w.quota = 0
				break
			}
			if err != nil {
				return err
			}
			if ok {
				budget--
				w.quota--
				sent++
			}
		}
		w.sent.Store(sent)
		if err := w.endBatch(ctx, tick, wrote); err != nil {
			return err
		}
	}
	return nil
}

// endBatch flushes what the batch wrote and, when paced, waits for the
// next tick (pinging the broker when the connection has been idle).
func (w *worker) endBatch(ctx context.Context, tick <-chan time.Time, wrote bool) error {
	now := time.Now()
	if wrote {
		w.lastWrite = now
		if err := w.pub.flush(); err != nil {
			return err
		}
	} else if now.Sub(w.lastWrite) > keepAlive/2 {
		w.lastWrite = now
		if err := w.pub.ping(); err != nil {
			return err
		}
	}
	if tick == nil {
		return nil
	}
	select {
	case <-tick:
	case <-ctx.Done():
	case <-w.pub.dead:
		return w.pub.readErr
	}
	return nil
}

// sendOne publishes the next message of the next active device. It
// returns false when that device went silent instead, and errStopped when
// the run ended while it waited for room in the QoS 1 window.
func (w *worker) sendOne(ctx context.Context, pl *plan) (bool, error) {
	if w.rr >= len(w.active) {
		w.rr = 0
	}
	d := w.active[w.rr]
	if err := w.pub.reserve(ctx); err != nil {
		return false, err
	}
	now := time.Now()
	if d.silent(pl.timeMode, now.Sub(pl.start)) {
		last := len(w.active) - 1
		w.active[w.rr], w.active[last] = w.active[last], nil
		w.active = w.active[:last]
		return false, nil
	}
	w.rr++
	nowNs := now.UnixNano()
	topic, payload, cls := d.emit(w.buf, nowNs)
	w.buf = payload[:0]
	switch cls {
	case classMalformed:
		w.malformed++
	case classAnomaly:
		w.anomalies++
	}
	if w.alerts != nil && d.edge.kind != edgeNone {
		w.alerts.expect(d, nowNs) // before the reading is written: its alert cannot arrive first
	}
	return true, w.pub.publish(topic, payload, nowNs)
}

// pacer hands out send tokens at a fixed rate. A sender that falls behind
// catches up by at most 100 ms worth of messages.
type pacer struct {
	rate   float64
	tokens float64
	last   time.Time
}

func (p *pacer) take(now time.Time) int64 {
	p.tokens += p.rate * now.Sub(p.last).Seconds()
	p.last = now
	p.tokens = min(p.tokens, p.rate/10+1)
	n := math.Floor(p.tokens)
	p.tokens -= n
	return int64(n)
}

// tickFor is the pacing interval for a per-connection rate: about one
// message per tick at low rates, bursts every 2 ms at high rates.
func tickFor(rate float64) time.Duration {
	d := time.Duration(float64(time.Second) / rate)
	return min(max(d, 2*time.Millisecond), 100*time.Millisecond)
}
