package uplink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/borda-edge/borda/internal/uplink/httpout"
	"github.com/borda-edge/borda/internal/uplink/influx"
	"github.com/borda-edge/borda/internal/uplink/remotewrite"
)

// PointOutput is an output fed with decoded readings by the ingest
// pipeline and with alert events (influx, remotewrite).
type PointOutput interface {
	output
	// Append queues the points the output selects; nil means they are
	// durable in its queue.
	Append(ctx context.Context, pts []telemetry.Point) error
	// AppendAlert queues an alert event at high priority.
	AppendAlert(ctx context.Context, a telemetry.Alert) error
}

// Append hands a batch of stored readings to every point output at once
// and waits for all of them (the ingest pipeline calls it for every batch,
// before the publishers are acknowledged). An output that cannot queue
// does not fail the batch: local storage has it; the output counts the
// miss itself and the errors are returned joined for logging.
func (u *Uplink) Append(ctx context.Context, pts []telemetry.Point) error {
	switch len(u.points) {
	case 0:
		return nil
	case 1:
		return u.points[0].Append(ctx, pts)
	}
	errs := make([]error, len(u.points))
	var wg sync.WaitGroup
	for i, o := range u.points {
		wg.Go(func() { errs[i] = o.Append(ctx, pts) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Notify takes an alert event from the rules engine without blocking: it
// is queued for the point outputs in a bounded buffer; when that is full
// the event is dropped for them, counted and logged.
func (u *Uplink) Notify(a telemetry.Alert) {
	if len(u.points) > 0 {
		u.alerts.offer(a)
	}
}

// alertBuffer bounds the alert events waiting to be queued in the point
// outputs (an alert storm while the disk is slow).
const alertBuffer = 4096

// alertFeed moves alert events from the rules engine's goroutine to the
// point outputs' queues.
type alertFeed struct {
	outs    []PointOutput
	ch      chan telemetry.Alert
	dropped prometheus.Counter
	limited *slog.Logger
}

func newAlertFeed(outs []PointOutput, d Deps) *alertFeed {
	f := &alertFeed{outs: outs, ch: make(chan telemetry.Alert, alertBuffer), limited: d.Limited,
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_uplink_alerts_dropped_total",
			Help: "Alert events not handed to the HTTP outputs because their buffer was full."})}
	if f.limited == nil {
		f.limited = slog.New(slog.DiscardHandler)
	}
	if d.Registry != nil && len(outs) > 0 {
		d.Registry.MustRegister(f.dropped)
	}
	return f
}

func (f *alertFeed) offer(a telemetry.Alert) {
	select {
	case f.ch <- a:
	default:
		f.dropped.Inc()
		f.limited.Warn("alert not sent to the uplink outputs: buffer full", "rule", a.Rule, "series", a.Series)
	}
}

// run queues events until ctx ends, then what is still buffered.
func (f *alertFeed) run(ctx context.Context) {
	for {
		select {
		case a := <-f.ch:
			f.queue(ctx, a)
		case <-ctx.Done():
			for {
				select {
				case a := <-f.ch:
					f.queue(context.WithoutCancel(ctx), a)
				default:
					return
				}
			}
		}
	}
}

func (f *alertFeed) queue(ctx context.Context, a telemetry.Alert) {
	for _, o := range f.outs {
		if err := o.AppendAlert(ctx, a); err != nil {
			f.limited.Warn("alert not queued for an uplink output", "output", o.Name(), "rule", a.Rule, "err", err)
		}
	}
}

// newPointOutputs builds the InfluxDB and remote_write outputs.
func newPointOutputs(cfg Config, d Deps) ([]PointOutput, error) {
	hd := httpout.Deps{Logger: d.Logger, Limited: d.Limited, Registry: d.Registry, DataDir: d.DataDir, Now: d.Now}
	if d.Local != nil {
		hd.Local = d.Local
	}
	var outs []PointOutput
	for _, c := range cfg.InfluxDB {
		o, err := influx.New(c, hd)
		if err != nil {
			return nil, fmt.Errorf("uplink: %w", err)
		}
		outs = append(outs, o)
	}
	for _, c := range cfg.RemoteWrite {
		o, err := remotewrite.New(c, hd)
		if err != nil {
			return nil, fmt.Errorf("uplink: %w", err)
		}
		outs = append(outs, o)
	}
	return outs, nil
}
