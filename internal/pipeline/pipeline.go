// Package pipeline carries readings from the broker's tap to the sinks:
// it decodes each message on the publisher's goroutine (parallel across
// clients), queues the points in a bounded queue, and appends them to
// storage in batches. QoS 1/2 publishes wait for their batch to be stored
// before they are acknowledged; QoS 0 follows the configured overflow policy.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/borda-edge/borda/internal/ingest"
	"github.com/borda-edge/borda/internal/telemetry"
)

// Router turns one message into points (ingest.Router).
type Router interface {
	Route(topic string, payload []byte, received time.Time, dst []telemetry.Point) ([]telemetry.Point, error)
}

// Sink stores points. An error means none of the batch was stored.
type Sink interface {
	Append(ctx context.Context, pts []telemetry.Point) error
}

// ErrStopped is returned to publishers once the pipeline has stopped.
var ErrStopped = errors.New("ingest pipeline stopped")

// Evaluator sees every decoded reading before it is queued for storage
// (the rules engine), on the publisher's goroutine. It must not block.
type Evaluator interface {
	Evaluate(topic string, pts []telemetry.Point, received time.Time)
}

// Deps are what the pipeline needs.
type Deps struct {
	Logger  *slog.Logger // component=ingest
	Limited *slog.Logger // rate-limited, for per-message lines
	Metrics *Metrics
	Router  Router
	Sink    Sink
	Rules   Evaluator // optional
}

type item struct {
	pts  []telemetry.Point
	done chan error // nil for QoS 0
}

// Pipeline is the ingest stage. Create with New, Run it, feed it with Ingest.
type Pipeline struct {
	cfg     Config
	d       Deps
	subs    ingest.Filters // compiled cfg.Subscriptions
	in      chan item
	sending atomic.Int64 // Ingest calls between the stop check and their send
	stopped chan struct{}
	ready   chan struct{}
}

// New builds a pipeline from a validated Config.
func New(cfg Config, d Deps) *Pipeline {
	subs, _ := ingest.ParseFilters(cfg.Subscriptions) // checked by Validate
	return &Pipeline{cfg: cfg, d: d, subs: subs, in: make(chan item, cfg.QueueSize),
		stopped: make(chan struct{}), ready: make(chan struct{})}
}

// Ready is closed once Run is consuming.
func (p *Pipeline) Ready() <-chan struct{} { return p.ready }

// Wants reports whether topic matches one of the subscriptions.
func (p *Pipeline) Wants(topic string) bool { return p.subs.Match(topic) }

// Ingest decodes one message and queues its points. For qos > 0 it returns
// once the points are stored (or storing failed). A payload that cannot be
// decoded is counted and logged, and is not an error: the MQTT message
// itself is still delivered to subscribers.
func (p *Pipeline) Ingest(topic string, payload []byte, qos byte, received time.Time) error {
	pts := p.decode(topic, payload, received)
	if len(pts) == 0 {
		return nil
	}
	if qos == 0 && p.cfg.QoS0Overflow == OverflowDrop && len(p.in) == cap(p.in) {
		p.d.Metrics.dropped.Add(float64(len(pts)))
		p.d.Limited.Warn("reading dropped: ingest queue full (qos0_overflow: drop)", "topic", topic)
		return nil
	}
	done, err := p.queue(pts, qos > 0)
	if err != nil || done == nil {
		return err
	}
	return <-done
}

// IngestAsync is Ingest at QoS 1 for a source that acknowledges on its own
// (an external broker): it decodes, evaluates the rules and queues the
// points in the caller's order — waiting while the queue is full — and
// returns a channel that receives the store's result once (nil at once
// when the message held nothing to store).
func (p *Pipeline) IngestAsync(topic string, payload []byte, received time.Time) <-chan error {
	pts := p.decode(topic, payload, received)
	var err error
	if len(pts) > 0 {
		var done <-chan error
		if done, err = p.queue(pts, true); err == nil {
			return done
		}
	}
	res := make(chan error, 1)
	res <- err
	return res
}

// decode routes a message to points, counting rejections, and evaluates
// the rules on them.
func (p *Pipeline) decode(topic string, payload []byte, received time.Time) []telemetry.Point {
	m := p.d.Metrics
	m.messages.Inc()
	pts, err := p.d.Router.Route(topic, payload, received, nil)
	if err != nil {
		for _, r := range ingest.Rejections(err) {
			m.rejected.WithLabelValues(r.Reason).Inc()
			p.d.Limited.Warn("reading rejected: "+r.Reason, "topic", topic, "error", r.Err)
		}
	}
	if len(pts) > 0 && p.d.Rules != nil {
		p.d.Rules.Evaluate(topic, pts, received)
	}
	return pts
}

// queue hands points to the store loop; with wait it returns the channel
// the store's result arrives on. Points that cannot be queued (stopped)
// are counted as dropped.
func (p *Pipeline) queue(pts []telemetry.Point, wait bool) (<-chan error, error) {
	it := item{pts: pts}
	if wait {
		it.done = make(chan error, 1)
	}
	if err := p.send(context.Background(), it); err != nil {
		p.d.Metrics.dropped.Add(float64(len(pts)))
		return nil, err
	}
	return it.done, nil
}

// Write queues points decoded elsewhere (the HTTP line-protocol API) and
// returns once they are stored, like a QoS 1 publish. While the queue is
// full it waits, until ctx ends; nothing is queued then.
func (p *Pipeline) Write(ctx context.Context, pts []telemetry.Point) error {
	if len(pts) == 0 {
		return nil
	}
	if p.d.Rules != nil {
		p.d.Rules.Evaluate("", pts, time.Now())
	}
	it := item{pts: pts, done: make(chan error, 1)}
	if err := p.send(ctx, it); err != nil {
		return err
	}
	return <-it.done
}

// send queues it, blocking while the queue is full; ErrStopped once
// stopped, ctx's error if ctx ends first. Run's final drain waits for
// every send that got past the stop check.
func (p *Pipeline) send(ctx context.Context, it item) error {
	p.sending.Add(1)
	defer p.sending.Add(-1)
	select {
	case <-p.stopped:
		return ErrStopped
	default:
	}
	select {
	case p.in <- it:
		return nil
	case <-p.stopped:
		return ErrStopped
	case <-ctx.Done():
		return fmt.Errorf("waiting for room in the ingest queue: %w", context.Cause(ctx))
	}
}

// Run appends queued points in batches until ctx is cancelled, then
// stores what is still queued and returns. Stop the broker (the source)
// before cancelling ctx, so nothing is queued after the final drain.
func (p *Pipeline) Run(ctx context.Context) error {
	close(p.ready)
	batch := make([]item, 0, 64)
	for {
		select {
		case it := <-p.in:
			batch = p.fill(append(batch[:0], it))
			p.flush(batch)
		case <-ctx.Done():
			close(p.stopped)
			for {
				batch = p.fill(batch[:0])
				if len(batch) > 0 {
					p.flush(batch)
					continue
				}
				if p.sending.Load() == 0 {
					p.d.Logger.Info("stopped: queue drained")
					return nil
				}
				time.Sleep(time.Millisecond) // a send is finishing
			}
		}
	}
}

// fill adds queued items to batch without waiting, up to MaxBatch points.
func (p *Pipeline) fill(batch []item) []item {
	n := 0
	for _, it := range batch {
		n += len(it.pts)
	}
	for n < p.cfg.MaxBatch {
		select {
		case it := <-p.in:
			batch = append(batch, it)
			n += len(it.pts)
		default:
			return batch
		}
	}
	return batch
}

func (p *Pipeline) flush(batch []item) {
	m := p.d.Metrics
	m.queueLength.Set(float64(len(p.in)))
	var pts []telemetry.Point
	if len(batch) == 1 {
		pts = batch[0].pts
	} else {
		for _, it := range batch {
			pts = append(pts, it.pts...)
		}
	}
	m.batchSize.Observe(float64(len(pts)))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err := p.d.Sink.Append(ctx, pts)
	cancel()
	if err != nil {
		m.failed.Add(float64(len(pts)))
		p.d.Limited.Error("storing a batch failed", "points", len(pts), "error", err)
	} else {
		m.points.Add(float64(len(pts)))
	}
	for _, it := range batch {
		if it.done != nil {
			it.done <- err
		}
	}
}
