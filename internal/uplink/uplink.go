package uplink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/uplink/mqttbridge"
)

// Local is the embedded broker as the outputs see it (broker.Broker).
type Local = mqttbridge.Publisher

// Deps are the uplink's collaborators.
type Deps struct {
	Logger   *slog.Logger // component=uplink
	Limited  *slog.Logger // rate-limited
	Registry prometheus.Registerer
	Local    Local
	DataDir  string
	Now      func() time.Time // nil: time.Now
}

// output is what Run needs of every output.
type output interface {
	Name() string
	Run(ctx context.Context) error
	Ready() <-chan struct{}
	Pause()
	Resume()
}

// Pause stops every output from connecting and sending (the connectivity
// monitor found the network down); readings keep being queued.
func (u *Uplink) Pause() {
	for _, o := range u.all {
		o.Pause()
	}
}

// Resume lets every output connect and send again.
func (u *Uplink) Resume() {
	for _, o := range u.all {
		o.Resume()
	}
}

// Uplink is every configured output.
type Uplink struct {
	bridges []*mqttbridge.Bridge // fed by the broker (Forward)
	points  []PointOutput        // fed by the ingest pipeline (Append) and the alerts (Notify)
	all     []output
	alerts  *alertFeed
	log     *slog.Logger
	ready   chan struct{}
}

// New builds every output of a validated Config; nothing is opened
// before Run.
func New(cfg Config, d Deps) (*Uplink, error) {
	u := &Uplink{log: d.Logger, ready: make(chan struct{})}
	for _, c := range cfg.MQTT {
		b, err := mqttbridge.New(c, mqttbridge.Deps{Logger: d.Logger, Limited: d.Limited,
			Registry: d.Registry, Local: d.Local, DataDir: d.DataDir, Now: d.Now})
		if err != nil {
			return nil, fmt.Errorf("uplink: %w", err)
		}
		u.bridges = append(u.bridges, b)
		u.all = append(u.all, b)
	}
	points, err := newPointOutputs(cfg, d)
	if err != nil {
		return nil, err
	}
	u.points = points
	for _, p := range points {
		u.all = append(u.all, p)
	}
	u.alerts = newAlertFeed(points, d)
	return u, nil
}

// HasPointOutputs reports whether any output takes readings from the
// ingest pipeline (Append) and alerts (Notify).
func (u *Uplink) HasPointOutputs() bool { return len(u.points) > 0 }

// Ready is closed once every output's queue is open.
func (u *Uplink) Ready() <-chan struct{} { return u.ready }

// Run runs every output until ctx ends. An output that fails (its queue
// cannot be opened) stops the others and its error is returned. On the
// way out the alert events still buffered are queued before the outputs
// close their queues.
func (u *Uplink) Run(ctx context.Context) error {
	fctx, stopFeed := context.WithCancel(ctx) // ends on ctx or the first failure
	defer stopFeed()
	octx, stopOutputs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopOutputs()
	var wg sync.WaitGroup
	errs := make([]error, len(u.all))
	for i, o := range u.all {
		wg.Go(func() {
			if errs[i] = o.Run(octx); errs[i] != nil {
				stopFeed()
			}
		})
	}
	go u.waitReady(fctx)
	if len(u.points) > 0 {
		u.alerts.run(fctx) // returns once fctx ended and its buffer is queued
	} else {
		<-fctx.Done()
	}
	stopOutputs()
	wg.Wait()
	return errors.Join(errs...)
}

func (u *Uplink) waitReady(ctx context.Context) {
	for _, o := range u.all {
		select {
		case <-o.Ready():
		case <-ctx.Done():
			return
		}
	}
	close(u.ready)
}

// Wants reports whether any bridge forwards topic.
func (u *Uplink) Wants(topic string) bool {
	for _, b := range u.bridges {
		if b.Wants(topic) {
			return true
		}
	}
	return false
}

// Forward queues a local publish in every bridge that wants it, except the
// one it came in from. It returns once every queue has committed it; the
// errors of the bridges that could not (counted by each) are joined.
func (u *Uplink) Forward(ctx context.Context, topic string, payload []byte, retain bool, origin string) error {
	var errs []error
	for _, b := range u.bridges {
		if b.Name() == origin || !b.Wants(topic) {
			continue
		}
		if err := b.Offer(ctx, topic, payload, retain); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
