// Package mqttbridge is the MQTT bridge output of the uplink: local
// publishes selected by Out mappings are appended to a durable queue
// (internal/uplink/queue) and drained to a cloud broker, acknowledged on
// PUBACK; cloud messages selected by In mappings are republished locally.
package mqttbridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/uplink/link"
	"github.com/borda-edge/borda/internal/uplink/mqttmsg"
	"github.com/borda-edge/borda/internal/uplink/queue"
)

// ErrClosed is returned by Offer after Run has ended.
var ErrClosed = errors.New("mqtt bridge closed")

// ReasonQueueError counts offers the queue could not commit (disk full,
// I/O error): the message is delivered locally but not to this output.
const ReasonQueueError = "queue_error"

// Publisher is the local broker's inline client: the status topic is
// published through Publish, In messages through PublishFrom with the
// bridge's name as origin (so they are not forwarded back to this cloud).
type Publisher interface {
	link.Publisher
	PublishFrom(origin, topic string, payload []byte, retain bool, qos byte) error
}

// Deps are the bridge's collaborators.
type Deps struct {
	Logger   *slog.Logger          // nil: discard
	Limited  *slog.Logger          // rate-limited logger for per-message problems; nil: Logger
	Registry prometheus.Registerer // nil: no metrics
	Local    Publisher             // nil: In messages and status are not published
	DataDir  string                // the queue file is <DataDir>/uplink-<name>.db
	Now      func() time.Time      // nil: time.Now
}

// Bridge is one MQTT bridge output. Run must be called once.
type Bridge struct {
	cfg    Config
	deps   Deps
	log    *slog.Logger
	met    *metrics
	status *link.Status
	bw     *link.Bandwidth
	gate   *link.Gate

	ready chan struct{} // closed when the queue is open
	done  chan struct{} // closed when Run has ended

	mu      sync.Mutex
	q       *queue.Queue
	started bool
}

// New checks cfg and returns a bridge; nothing is opened before Run.
func New(cfg Config, d Deps) (*Bridge, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("mqtt bridge %q: %w", cfg.Name, err)
	}
	if d.DataDir == "" {
		return nil, fmt.Errorf("mqtt bridge %q: no data dir", cfg.Name)
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if d.Limited == nil {
		d.Limited = d.Logger
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	var status link.Publisher
	if d.Local != nil {
		status = d.Local
	}
	log := d.Logger.With("output", cfg.Name)
	met := newMetrics(cfg.Name)
	return &Bridge{cfg: cfg, deps: d, log: log, met: met,
		status: link.NewStatus(link.StatusTopic(cfg.Name, cfg.StatusTopic), status, met.Metrics, log),
		bw:     link.NewBandwidth(cfg.MaxBytesPerSecond),
		gate:   link.NewGate(),
		ready:  make(chan struct{}), done: make(chan struct{})}, nil
}

// Pause disconnects from the cloud and stops reconnecting until Resume
// (the connectivity monitor found the network down); Offer keeps queueing.
func (b *Bridge) Pause() {
	if b.gate.Pause() {
		b.log.Info("uplink paused")
	}
}

// Resume lets the bridge connect again.
func (b *Bridge) Resume() {
	if b.gate.Resume() {
		b.log.Info("uplink resumed")
	}
}

// Name is the output's name.
func (b *Bridge) Name() string { return b.cfg.Name }

// Ready is closed once Run has opened the queue: Offer no longer waits.
func (b *Bridge) Ready() <-chan struct{} { return b.ready }

// Wants reports whether topic matches an Out filter.
func (b *Bridge) Wants(topic string) bool {
	_, ok := findMapping(b.cfg.Out, topic)
	return ok
}

// Offer appends a local publish to the durable queue and returns once it
// is committed (then the local publisher may be acknowledged). Topics that
// match no Out filter are ignored. Before Run has opened the queue Offer
// waits for it (or ctx); after Run has ended it returns ErrClosed.
func (b *Bridge) Offer(ctx context.Context, topic string, payload []byte, retain bool) error {
	m, ok := findMapping(b.cfg.Out, topic)
	if !ok {
		return nil
	}
	prio, _ := parsePriority(m.Priority) // validated
	select {
	case <-b.ready:
	case <-b.done:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("offer %s: %w", topic, ctx.Err())
	}
	b.mu.Lock()
	q := b.q
	b.mu.Unlock()
	if q == nil {
		return ErrClosed
	}
	data := mqttmsg.Encode(mqttmsg.Message{Topic: topic, Payload: payload, Retain: retain})
	e := queue.Entry{Priority: prio, Key: topic, Data: data, Time: b.deps.Now()}
	if err := q.Append(ctx, []queue.Entry{e}); err != nil {
		if errors.Is(err, queue.ErrClosed) {
			return ErrClosed
		}
		b.met.Dropped.WithLabelValues(ReasonQueueError).Inc()
		return fmt.Errorf("offer %s: %w", topic, err)
	}
	return nil
}

// Run opens the queue, then connects to the cloud broker (retrying with
// jittered exponential backoff until ctx ends) and drains the queue while
// connected. It returns nil when ctx ends, after closing the queue.
func (b *Bridge) Run(ctx context.Context) (err error) {
	b.mu.Lock()
	if b.started {
		b.mu.Unlock()
		return fmt.Errorf("mqtt bridge %q: Run called twice", b.cfg.Name)
	}
	b.started = true
	b.mu.Unlock()
	defer close(b.done)
	q, err := b.openQueue()
	if err != nil {
		return err
	}
	if err := b.met.register(b.deps.Registry); err != nil {
		_ = q.Close()
		return fmt.Errorf("mqtt bridge %q: %w", b.cfg.Name, err)
	}
	defer b.met.unregister()
	defer func() {
		b.mu.Lock()
		b.q = nil
		b.mu.Unlock()
		if cerr := q.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("mqtt bridge %q: %w", b.cfg.Name, cerr)
		}
	}()
	close(b.ready)
	b.status.Set(link.Offline)
	b.loop(ctx, q)
	return nil
}

func (b *Bridge) openQueue() (*queue.Queue, error) {
	path := filepath.Join(b.deps.DataDir, "uplink-"+b.cfg.Name+".db")
	q, err := queue.Open(path, b.cfg.Queue, queue.Deps{Logger: b.deps.Logger, Limited: b.deps.Limited,
		Registry: b.deps.Registry, Name: b.cfg.Name, Now: b.deps.Now})
	if err != nil {
		return nil, fmt.Errorf("mqtt bridge %q: %w", b.cfg.Name, err)
	}
	b.mu.Lock()
	b.q = q
	b.mu.Unlock()
	return q, nil
}
