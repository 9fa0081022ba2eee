// Package httpout is the shared core of the uplink's HTTP batch outputs
// (InfluxDB line protocol, Prometheus remote_write): selected points are
// encoded once into their wire form and appended to a durable queue; one
// sender goroutine concatenates queue entries into batches, POSTs them
// under a bandwidth cap, acknowledges them on HTTP 2xx, retries with
// backoff on outages, and isolates data the server rejects for good by
// bisection into a dead-letter queue. The wire format is a Format.
package httpout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/borda-edge/borda/internal/uplink/link"
	"github.com/borda-edge/borda/internal/uplink/queue"
)

// ErrClosed is returned by Append and AppendAlert after Run has ended.
var ErrClosed = errors.New("uplink output closed")

// Format is one wire format. AppendPoints and AppendAlert may be called
// concurrently; Split and Request only from the sender goroutine.
type Format interface {
	// Group is stored with every entry; only entries of one group are sent
	// in one request (influx: the timestamp precision).
	Group() string
	// AppendPoints appends the wire form of the points keep selects to
	// dst and reports how many points (batch units: lines, samples) it
	// wrote and how many selected points it could not encode.
	AppendPoints(dst []byte, pts []telemetry.Point, keep func(measurement string) bool) (out []byte, points, skipped int)
	// AppendAlert appends the wire form of an alert event.
	AppendAlert(dst []byte, a telemetry.Alert) (out []byte, points int)
	// Split divides a payload into one payload per point (to isolate the
	// points a server rejects).
	Split(payload []byte) ([][]byte, error)
	// Request returns what to POST for the concatenated payloads of one
	// group: URL, body (compressed) and headers. The body may reuse a
	// buffer until the next call.
	Request(group string, payload []byte) (Request, error)
}

// Request is one POST.
type Request struct {
	URL    string
	Body   []byte
	Header http.Header
}

// Deps are an output's collaborators.
type Deps struct {
	Logger   *slog.Logger          // nil: discard
	Limited  *slog.Logger          // rate-limited logger for per-batch problems; nil: Logger
	Registry prometheus.Registerer // nil: no metrics
	Local    link.Publisher        // nil: the status is not published
	DataDir  string                // the queue is <DataDir>/uplink-<name>.db
	Now      func() time.Time      // nil: time.Now
}

// Output is one HTTP batch output. Run must be called once.
type Output struct {
	cfg     Common
	format  Format
	deps    Deps
	log     *slog.Logger
	limited *slog.Logger
	sel     *selector
	met     *link.Metrics
	xmet    *metrics
	status  *link.Status
	client  *http.Client
	bw      *link.Bandwidth
	gate    *link.Gate

	ready chan struct{} // closed when the queue is open
	done  chan struct{} // closed when Run has ended
	bufs  sync.Pool     // *[]byte for Append

	mu      sync.Mutex
	q       *queue.Queue
	started bool
}

// New checks the common settings and builds the HTTP client (TLS files
// are read now); nothing is opened before Run.
func New(c Common, f Format, d Deps) (*Output, error) {
	if err := errors.Join(c.Validate()...); err != nil {
		return nil, fmt.Errorf("uplink output %q: %w", c.Name, err)
	}
	if d.DataDir == "" {
		return nil, fmt.Errorf("uplink output %q: no data dir", c.Name)
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Limited == nil {
		d.Limited = d.Logger
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	client, err := newClient(c)
	if err != nil {
		return nil, fmt.Errorf("uplink output %q: %w", c.Name, err)
	}
	log := d.Logger.With("component", "uplink", "output", c.Name)
	o := &Output{cfg: c, format: f, deps: d, log: log,
		limited: d.Limited.With("component", "uplink", "output", c.Name),
		sel:     newSelector(c.Measurements, c.ExcludeMeasurements),
		met:     link.NewMetrics(c.Name), xmet: newMetrics(c.Name), client: client,
		bw: link.NewBandwidth(c.MaxBytesPerSecond), gate: link.NewGate(),
		ready: make(chan struct{}), done: make(chan struct{})}
	o.status = link.NewStatus(link.StatusTopic(c.Name, c.StatusTopic), d.Local, o.met, log)
	return o, nil
}

// Name is the output's name.
func (o *Output) Name() string { return o.cfg.Name }

// Pause stops sending (after the request under way) until Resume: the
// connectivity monitor found the network down. Append keeps queueing.
func (o *Output) Pause() {
	if o.gate.Pause() {
		o.log.Info("uplink paused")
	}
}

// Resume lets the output send again.
func (o *Output) Resume() {
	if o.gate.Resume() {
		o.log.Info("uplink resumed")
	}
}

// Ready is closed once Run has opened the queue.
func (o *Output) Ready() <-chan struct{} { return o.ready }

// Append encodes the points this output selects into one queue entry and
// returns once it is durable (group commit with concurrent callers).
// Without selected points it returns nil at once. Before Run has opened
// the queue it waits (or ctx ends); after Run it returns ErrClosed.
func (o *Output) Append(ctx context.Context, pts []telemetry.Point) error {
	bp := o.getBuf()
	defer o.putBuf(bp)
	data := beginEntry((*bp)[:0], o.format.Group())
	data, n, skipped := o.format.AppendPoints(data, pts, o.sel.keep)
	*bp = data
	if skipped > 0 {
		o.xmet.points.WithLabelValues(resultSkipped).Add(float64(skipped))
		o.limited.Warn("points the output cannot encode are skipped", "points", skipped)
	}
	if n == 0 {
		return nil
	}
	finishEntry(data, n)
	return o.append(ctx, queue.Entry{Priority: queue.Low, Data: data, Time: o.deps.Now()})
}

// AppendAlert queues an alert event with high priority: a backlog drains
// alerts before telemetry. With Alerts off it returns nil.
func (o *Output) AppendAlert(ctx context.Context, a telemetry.Alert) error {
	if !o.cfg.Alerts {
		return nil
	}
	if a.Time.IsZero() {
		a.Time = o.deps.Now()
	}
	data := beginEntry(nil, o.format.Group())
	data, n := o.format.AppendAlert(data, a)
	if n == 0 {
		return nil
	}
	finishEntry(data, n)
	return o.append(ctx, queue.Entry{Priority: queue.High, Data: data, Time: o.deps.Now()})
}

func (o *Output) append(ctx context.Context, e queue.Entry) error {
	select {
	case <-o.ready:
	case <-o.done:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("uplink %s: append: %w", o.cfg.Name, ctx.Err())
	}
	o.mu.Lock()
	q := o.q
	o.mu.Unlock()
	if q == nil {
		return ErrClosed
	}
	if err := q.Append(ctx, []queue.Entry{e}); err != nil {
		if errors.Is(err, queue.ErrClosed) {
			return ErrClosed
		}
		return fmt.Errorf("uplink %s: %w", o.cfg.Name, err)
	}
	return nil
}

// putBuf keeps buffers up to 1 MiB for the next Append (the queue has
// copied the data when Append returns).
func (o *Output) putBuf(bp *[]byte) {
	if cap(*bp) <= 1<<20 {
		o.bufs.Put(bp)
	}
}

func (o *Output) getBuf() *[]byte {
	if bp, ok := o.bufs.Get().(*[]byte); ok {
		return bp
	}
	b := make([]byte, 0, 4096)
	return &b
}

// Run opens the queue, then sends until ctx ends; an unreachable server
// is retried with backoff meanwhile. It returns nil when ctx ends, after
// closing the queue and publishing "offline".
func (o *Output) Run(ctx context.Context) (err error) {
	o.mu.Lock()
	if o.started {
		o.mu.Unlock()
		return fmt.Errorf("uplink output %q: Run called twice", o.cfg.Name)
	}
	o.started = true
	o.mu.Unlock()
	defer close(o.done)
	defer o.client.CloseIdleConnections()
	q, err := o.openQueue()
	if err != nil {
		return err
	}
	g, err := registerAll(o.deps.Registry, o.met, o.xmet)
	if err != nil {
		_ = q.Close()
		return fmt.Errorf("uplink output %q: %w", o.cfg.Name, err)
	}
	defer g.unregister()
	dl := newDeadLetters(o)
	defer func() {
		o.mu.Lock()
		o.q = nil
		o.mu.Unlock()
		err = errors.Join(err, q.Close(), dl.close())
		if err != nil {
			err = fmt.Errorf("uplink output %q: %w", o.cfg.Name, err)
		}
	}()
	close(o.ready)
	o.status.Set(link.Offline)
	newSender(o, q, dl).loop(ctx)
	o.status.Set(link.Offline)
	return nil
}

func (o *Output) openQueue() (*queue.Queue, error) {
	q, err := queue.Open(QueuePath(o.deps.DataDir, o.cfg.Name), o.cfg.Queue, queue.Deps{Logger: o.deps.Logger.With("component", "uplink"),
		Limited:  o.deps.Limited.With("component", "uplink"),
		Registry: o.deps.Registry, Name: o.cfg.Name, Now: o.deps.Now})
	if err != nil {
		return nil, fmt.Errorf("uplink output %q: %w", o.cfg.Name, err)
	}
	o.mu.Lock()
	o.q = q
	o.mu.Unlock()
	return q, nil
}
