package vision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/vision/source"
)

// camera is one source with its sampling, one-frame buffer and counters.
type camera struct {
	cfg     CameraConfig
	src     source.Source
	slot    chan *job // the latest sampled frame (buffer of one)
	seq     uint64    // frames read; touched only by the reader goroutine
	stats   camStats
	limited *slog.Logger

	frames, sampled, processed, restarts prometheus.Counter
	dropped                              [len(dropReasons)]prometheus.Counter
	up                                   prometheus.Gauge
	inference, age                       prometheus.Observer
	detections                           *prometheus.CounterVec
}

func newCamera(cfg CameraConfig, ffmpeg string, m *metrics, limited *slog.Logger) *camera {
	id := cfg.ID
	c := &camera{cfg: cfg, src: newSource(cfg, ffmpeg), slot: make(chan *job, 1),
		limited:    limited.With("camera", id),
		frames:     m.frames.WithLabelValues(id),
		sampled:    m.sampled.WithLabelValues(id),
		processed:  m.processed.WithLabelValues(id),
		restarts:   m.restarts.WithLabelValues(id),
		up:         m.sourceUp.WithLabelValues(id),
		inference:  m.inference.WithLabelValues(id),
		age:        m.age.WithLabelValues(id),
		detections: m.detections.MustCurryWith(prometheus.Labels{"camera": id}),
	}
	for i, r := range dropReasons {
		c.dropped[i] = m.dropped.WithLabelValues(id, r)
	}
	return c
}

func newSource(c CameraConfig, ffmpeg string) source.Source {
	switch c.Type {
	case TypeMJPEG:
		return &source.MJPEG{URL: c.URL, Client: &http.Client{}}
	case TypeDir:
		return &source.Dir{Path: c.URL, FPS: c.FPS, Loop: c.Loop}
	default:
		return &source.FFmpeg{Bin: ffmpeg, Input: c.URL, InputArgs: c.InputArgs,
			Width: c.Width, Height: c.Height, FPS: c.FPS}
	}
}

// drop counts a sampled frame that will not be processed and gives its
// buffer back to the source (j is nil when that happened already).
func (c *camera) drop(j *job, reason string, err error) {
	if j != nil {
		j.frame.Release()
	}
	for i, r := range dropReasons {
		if r == reason {
			c.dropped[i].Inc()
			c.stats.dropped[i].Add(1)
		}
	}
	if reason != dropStale && reason != dropStopped {
		c.limited.Warn("frame dropped: "+reason, "error", err)
	}
}

// run reads the source, reconnecting with backoff, and feeds sampled
// frames to q until ctx ends. Frames still in the buffer then are
// counted as stopped.
func (c *camera) run(ctx context.Context, q *queue, b backoff, stall time.Duration) {
	var wg sync.WaitGroup
	wg.Go(func() { c.feed(ctx, q) })
	c.read(ctx, b, stall)
	wg.Wait()
	select {
	case j := <-c.slot:
		c.drop(j, dropStopped, nil)
	default:
	}
}

func (c *camera) read(ctx context.Context, b backoff, stall time.Duration) {
	for {
		before := c.stats.framesIn.Load()
		err := c.runOnce(ctx, stall)
		c.up.Set(0)
		c.stats.up.Store(false)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("source ended")
		}
		if c.stats.framesIn.Load() > before {
			b.reset() // it worked for a while: start the backoff again
		}
		wait := b.next()
		c.restarts.Inc()
		c.stats.restarts.Add(1)
		c.stats.setErr(err)
		c.limited.Warn("camera source failed; reconnecting", "source", c.src.String(), "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// errStalled ends a source that delivered no frame for the stall timeout.
var errStalled = errors.New("no frame")

// runOnce runs the source once; a source silent for stall is stopped
// (and the error says so).
func (c *camera) runOnce(ctx context.Context, stall time.Duration) error {
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(stall, func() { cancel(errStalled) })
	defer watchdog.Stop()
	err := c.src.Run(runCtx, func(f source.Frame) bool {
		watchdog.Reset(stall)
		return c.emit(f)
	})
	if ctx.Err() == nil && errors.Is(context.Cause(runCtx), errStalled) {
		return fmt.Errorf("%w for %v from %s", errStalled, stall, c.src)
	}
	return err
}

// emit takes every frame the source reads (on the reader goroutine) and
// keeps every Nth in the one-frame buffer, replacing an older one; it
// returns whether it kept f (the source reuses a skipped frame's buffer).
func (c *camera) emit(f source.Frame) bool {
	c.seq++
	c.frames.Inc()
	c.stats.framesIn.Add(1)
	if !c.stats.up.Load() {
		c.stats.up.Store(true)
		c.up.Set(1)
	}
	if c.seq%uint64(c.cfg.EveryNth) != 0 {
		return false
	}
	c.sampled.Inc()
	c.stats.sampled.Add(1)
	j := &job{cam: c, seq: c.seq, frame: f}
	for {
		select {
		case c.slot <- j:
			return true
		default:
		}
		select {
		case old := <-c.slot:
			c.drop(old, dropStale, nil)
		default: // the feeder just took it
		}
	}
}

// feed moves the latest frame into the shared queue, decoding it first
// when the source delivers pictures.
func (c *camera) feed(ctx context.Context, q *queue) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-c.slot:
			f, err := j.frame.Decode()
			if err != nil {
				c.drop(j, dropDecode, err)
				continue
			}
			j.frame = f
			if d := q.push(j); d != nil {
				d.cam.drop(d, dropQueueFull, nil)
			}
		}
	}
}
