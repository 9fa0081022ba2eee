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

// Uplink is every configured output.
type Uplink struct {
	bridges []*mqttbridge.Bridge
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
	}
	return u, nil
}

// Ready is closed once every output's queue is open.
func (u *Uplink) Ready() <-chan struct{} { return u.ready }

// Run runs every output until ctx ends. An output that fails (its queue
// cannot be opened) stops the others and its error is returned.
func (u *Uplink) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(u.bridges))
	for i, b := range u.bridges {
		wg.Go(func() {
			if errs[i] = b.Run(ctx); errs[i] != nil {
				cancel()
			}
		})
	}
	go u.waitReady(ctx)
	wg.Wait()
	<-ctx.Done() // with no outputs, or after one failed (then cancelled)
	return errors.Join(errs...)
}

func (u *Uplink) waitReady(ctx context.Context) {
	for _, b := range u.bridges {
		select {
		case <-b.Ready():
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
