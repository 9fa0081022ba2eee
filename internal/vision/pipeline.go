package vision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/vision/ort"
	"github.com/borda-edge/borda/internal/vision/preprocess"
)

// Engine is a loaded model (ort.Model through OpenORT).
type Engine interface {
	NewSession() (Session, error)
	Close() error
}

// Session runs the model on its Input buffer; one per worker.
type Session interface {
	Input() []float32
	Run() ([]float32, error)
	Close() error
}

// Sink receives detections in batches, on one goroutine that is neither
// a worker nor the broker's. It must bound its own waits; while it is
// slow, detections queue (1024) and then are dropped and counted.
type Sink interface {
	Detections(ctx context.Context, ds []Detection)
}

// Deps are what the pipeline needs.
type Deps struct {
	Logger   *slog.Logger // component=vision
	Limited  *slog.Logger // rate-limited, for per-frame lines
	Registry prometheus.Registerer
	Sink     Sink
	// Open loads the model; OpenORT when nil.
	Open func(ModelConfig) (Engine, error)
}

// OpenORT loads the model on ONNX Runtime.
func OpenORT(m ModelConfig) (Engine, error) {
	e, err := ort.Open(m.Config)
	if err != nil {
		return nil, err
	}
	return ortEngine{e}, nil
}

type ortEngine struct{ *ort.Model }

func (e ortEngine) NewSession() (Session, error) { return e.Model.NewSession() }

// Pipeline is the vision stage. Create with New, then Run.
type Pipeline struct {
	cfg     Config
	d       Deps
	m       *metrics
	q       *queue
	cameras []*camera
	ready   chan struct{}

	mu  sync.Mutex
	up  bool
	err string
}

// New builds the pipeline from a validated, enabled Config. Nothing is
// opened until Run.
func New(cfg Config, d Deps) *Pipeline {
	if d.Open == nil {
		d.Open = OpenORT
	}
	if cfg.ORTLibrary != "" {
		cfg.Model.Library = cfg.ORTLibrary
	}
	p := &Pipeline{cfg: cfg, d: d, q: newQueue(cfg.QueueSize, cfg.DropPolicy == DropNewest),
		ready: make(chan struct{})}
	p.m = newMetrics(d.Registry, func() float64 { return float64(p.q.len()) })
	for _, c := range cfg.Cameras {
		p.cameras = append(p.cameras, newCamera(c.withDefaults(cfg.Model), cfg.FFmpeg, p.m, d.Limited))
	}
	return p
}

// Ready is closed once the workers and cameras run, or once vision has
// found itself unavailable (no runtime library, no cgo).
func (p *Pipeline) Ready() <-chan struct{} { return p.ready }

// Unavailable reports the errors that leave vision off without stopping
// the gateway: the ONNX Runtime library is missing or the build has no cgo.
func Unavailable(err error) bool {
	return errors.Is(err, ort.ErrNoLibrary) || errors.Is(err, ort.ErrUnavailable)
}

// Run loads the model, starts the workers and cameras and runs until ctx
// ends. A model that cannot be used (wrong input shape, bad file, labels)
// is an error; a missing runtime is logged once and vision stays off.
// Shutdown: cameras stop first (ffmpeg killed and reaped), frames still
// queued are counted as dropped (stopped), workers finish their frame,
// then the remaining detections go to the sink.
func (p *Pipeline) Run(ctx context.Context) error {
	cls, err := loadClasses(p.cfg.Model)
	if err != nil {
		return fmt.Errorf("vision: %w", err)
	}
	eng, sessions, err := p.open()
	if err != nil {
		if !Unavailable(err) {
			return fmt.Errorf("vision: %w", err)
		}
		p.setState(false, err)
		p.d.Logger.Error("vision unavailable; the rest of borda runs without it", "error", err)
		close(p.ready)
		<-ctx.Done()
		return nil
	}
	defer eng.Close()
	p.run(ctx, sessions, cls)
	for _, s := range sessions {
		_ = s.Close()
	}
	return nil
}

// run starts workers, the delivery goroutine and the cameras, and stops
// them in that reverse order once ctx ends.
func (p *Pipeline) run(ctx context.Context, sessions []Session, cls *classes) {
	p.setState(true, nil)
	results := make(chan Detection, 1024)
	var workers, sink, cams sync.WaitGroup
	for _, s := range sessions {
		w := &worker{p: p, s: s, pre: preprocess.New(p.cfg.Model.spec()), cls: cls, results: results}
		workers.Go(func() { w.run(ctx) })
	}
	sink.Go(func() { p.deliver(context.WithoutCancel(ctx), results) })
	for _, c := range p.cameras {
		b := backoff{min: p.cfg.ReconnectMin, max: p.cfg.ReconnectMax}
		cams.Go(func() { c.run(ctx, p.q, b, p.cfg.StallTimeout) })
	}
	p.d.Logger.Info("vision running", "cameras", len(p.cameras), "workers", len(sessions),
		"model", p.cfg.Model.Path)
	close(p.ready)
	<-ctx.Done()
	cams.Wait()
	for _, j := range p.q.close() {
		j.cam.drop(dropStopped, nil)
	}
	workers.Wait()
	close(results)
	sink.Wait()
	p.setState(false, nil)
}

// open loads the model and one session per worker.
func (p *Pipeline) open() (Engine, []Session, error) {
	eng, err := p.d.Open(p.cfg.Model)
	if err != nil {
		return nil, nil, err
	}
	var sessions []Session
	for range p.cfg.Workers {
		s, err := eng.NewSession()
		if err != nil {
			for _, s := range sessions {
				_ = s.Close()
			}
			return nil, nil, errors.Join(err, eng.Close())
		}
		sessions = append(sessions, s)
	}
	return eng, sessions, nil
}

func (p *Pipeline) setState(up bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up = up
	if err != nil {
		p.err = err.Error()
	}
	if up {
		p.m.up.Set(1)
	} else {
		p.m.up.Set(0)
	}
}

// deliver hands detections to the sink in batches of up to 64.
func (p *Pipeline) deliver(ctx context.Context, results <-chan Detection) {
	batch := make([]Detection, 0, 64)
	for d := range results {
		batch = append(batch[:0], d)
	more:
		for len(batch) < cap(batch) {
			select {
			case d, ok := <-results:
				if !ok {
					break more
				}
				batch = append(batch, d)
			default:
				break more
			}
		}
		if p.d.Sink != nil {
			p.d.Sink.Detections(ctx, batch)
		}
	}
}

// Stats is a snapshot of every camera's counters and latencies.
func (p *Pipeline) Stats() Stats {
	p.mu.Lock()
	s := Stats{Up: p.up, Error: p.err, QueueLength: p.q.len()}
	p.mu.Unlock()
	for _, c := range p.cameras {
		s.Cameras = append(s.Cameras, c.stats.snapshot(c.cfg.ID))
	}
	return s
}

// worker preprocesses and infers frames from the queue on its own session.
type worker struct {
	p       *Pipeline
	s       Session
	pre     *preprocess.Preprocessor
	cls     *classes
	results chan<- Detection
	top     []int
}

func (w *worker) run(ctx context.Context) {
	for ctx.Err() == nil {
		j := w.p.q.pop(ctx)
		if j == nil {
			return
		}
		w.process(j)
	}
}

func (w *worker) process(j *job) {
	c, f := j.cam, j.frame
	if err := w.pre.Into(w.s.Input(), f.RGB, f.Width, f.Height); err != nil {
		c.drop(dropError, err)
		return
	}
	start := time.Now()
	out, err := w.s.Run()
	infer := time.Since(start)
	if err != nil {
		c.drop(dropError, err)
		return
	}
	age := time.Since(f.Time)
	c.processed.Inc()
	c.inference.Observe(infer.Seconds())
	c.age.Observe(age.Seconds())
	c.stats.observe(infer, age)
	m := w.p.cfg.Model
	if m.Softmax {
		softmax(out)
	}
	w.top = topK(out, m.TopK, m.Threshold, w.top)
	for _, id := range w.top {
		label := w.cls.label(id)
		d := Detection{Camera: c.cfg.ID, Location: c.cfg.Location, Frame: j.seq, ClassID: id, Label: label,
			Confidence: float64(out[id]), InferenceMS: ms(infer), FrameAgeMS: ms(age), Time: f.Time,
			Alert: w.cls.isAlert(id, label)}
		c.detections.WithLabelValues(label).Inc()
		c.stats.detections.Add(1)
		select {
		case w.results <- d:
		default:
			w.p.m.resultsDropped.Inc()
			w.p.d.Limited.Warn("detection dropped: sink behind", "camera", c.cfg.ID)
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
