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
// a worker nor the broker's; ds is reused after the call returns. It
// must bound its own waits; while it is slow, processed frames queue
// (1024) and then their detections are dropped and counted. The time
// it takes is part of each frame's age (borda_vision_frame_age_seconds).
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
	results := make(chan result, resultBuffer)
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
		j.cam.drop(j, dropStopped, nil)
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

// resultBuffer bounds the processed frames waiting for the sink.
const resultBuffer = 1024

// result is one processed frame's detections on their way to the sink.
type result struct {
	cam  *camera
	read time.Time // when the frame was read
	ds   []Detection
}

// deliver hands detections to the sink in batches of up to 64 frames.
// Each detection's FrameAgeMS is its frame's age when handed over; once
// the sink has returned (published, stored) each frame's age is
// observed: borda_vision_frame_age_seconds and the stats are end to end.
func (p *Pipeline) deliver(ctx context.Context, results <-chan result) {
	batch := make([]result, 0, 64)
	var ds []Detection
	for r := range results {
		batch = append(batch[:0], r)
	more:
		for len(batch) < cap(batch) {
			select {
			case r, ok := <-results:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		ds = ds[:0]
		for _, r := range batch {
			for _, d := range r.ds {
				d.FrameAgeMS = ms(time.Since(r.read))
				ds = append(ds, d)
			}
		}
		if p.d.Sink != nil && len(ds) > 0 {
			p.d.Sink.Detections(ctx, ds)
		}
		for _, r := range batch {
			age := time.Since(r.read)
			r.cam.age.Observe(age.Seconds())
			r.cam.stats.observeAge(age)
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
	results chan<- result
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

// process runs one frame through the model and passes its detections
// (none when no class reaches the threshold) on to the delivery.
func (w *worker) process(j *job) {
	c, f := j.cam, j.frame
	err := w.pre.Into(w.s.Input(), f.RGB, f.Width, f.Height)
	if err != nil {
		c.drop(j, dropError, err)
		return
	}
	f.Release() // the pixels are in the session's input now
	start := time.Now()
	out, err := w.s.Run()
	infer := time.Since(start)
	if err != nil {
		c.drop(nil, dropError, err)
		return
	}
	c.processed.Inc()
	c.inference.Observe(infer.Seconds())
	c.stats.observeInference(infer)
	r := result{cam: c, read: f.Time, ds: w.detections(j, out, infer)}
	select {
	case w.results <- r:
	default:
		w.p.m.resultsDropped.Add(float64(len(r.ds)))
		w.p.d.Limited.Warn("detections dropped: sink behind", "camera", c.cfg.ID, "detections", len(r.ds))
	}
}

// detections are the top-k classes of out at or above the threshold.
func (w *worker) detections(j *job, out []float32, infer time.Duration) []Detection {
	c, m := j.cam, w.p.cfg.Model
	if m.Softmax {
		softmax(out)
	}
	w.top = topK(out, m.TopK, m.Threshold, w.top)
	if len(w.top) == 0 {
		return nil
	}
	ds := make([]Detection, 0, len(w.top))
	for _, id := range w.top {
		label := w.cls.label(id)
		ds = append(ds, Detection{Camera: c.cfg.ID, Location: c.cfg.Location, Frame: j.seq, ClassID: id,
			Label: label, Confidence: float64(out[id]), InferenceMS: ms(infer), Time: j.frame.Time,
			Alert: w.cls.isAlert(id, label)})
		c.detections.WithLabelValues(label).Inc()
		c.stats.detections.Add(1)
	}
	return ds
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
