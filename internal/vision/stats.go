package vision

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Stats is a snapshot of the pipeline (GET /api/v1/vision).
type Stats struct {
	Up          bool          `json:"up"`
	Error       string        `json:"error,omitempty"`
	QueueLength int           `json:"queue_length"`
	Cameras     []CameraStats `json:"cameras"`
}

// CameraStats are one camera's counters and recent latencies (the last
// 512 processed frames). Sampled = Processed + the sum of Dropped, once
// the frames in flight have been processed.
type CameraStats struct {
	ID             string            `json:"id"`
	Up             bool              `json:"up"`
	FramesIn       uint64            `json:"frames_in"`
	Sampled        uint64            `json:"sampled"`
	Processed      uint64            `json:"processed"`
	Dropped        map[string]uint64 `json:"dropped"`
	Detections     uint64            `json:"detections"`
	Restarts       uint64            `json:"restarts"`
	LastError      string            `json:"last_error,omitempty"`
	InferenceAvgMS float64           `json:"inference_ms_avg"`
	InferenceP99MS float64           `json:"inference_ms_p99"`
	FrameAgeAvgMS  float64           `json:"frame_age_ms_avg"`
	FrameAgeP99MS  float64           `json:"frame_age_ms_p99"`
}

// DroppedTotal is the sum of Dropped.
func (s CameraStats) DroppedTotal() uint64 {
	var n uint64
	for _, v := range s.Dropped {
		n += v
	}
	return n
}

const statWindow = 512

// camStats are a camera's counters, updated from its goroutines and the workers.
type camStats struct {
	framesIn, sampled, processed, detections, restarts atomic.Uint64
	dropped                                            [len(dropReasons)]atomic.Uint64
	up                                                 atomic.Bool

	mu        sync.Mutex
	lastErr   string
	inference ring
	age       ring
}

// ring keeps the last statWindow durations in milliseconds.
type ring struct {
	v    [statWindow]float64
	n, i int
}

func (r *ring) add(d time.Duration) {
	r.v[r.i] = float64(d) / float64(time.Millisecond)
	r.i = (r.i + 1) % statWindow
	r.n = min(r.n+1, statWindow)
}

// avgP99 returns the mean and the 99th percentile (nearest rank).
func (r *ring) avgP99() (float64, float64) {
	if r.n == 0 {
		return 0, 0
	}
	v := slices.Clone(r.v[:r.n])
	slices.Sort(v)
	var sum float64
	for _, x := range v {
		sum += x
	}
	idx := min(r.n-1, (99*r.n+99)/100-1)
	return sum / float64(r.n), v[idx]
}

// observeInference counts a processed frame and its model run time.
func (s *camStats) observeInference(d time.Duration) {
	s.processed.Add(1)
	s.mu.Lock()
	s.inference.add(d)
	s.mu.Unlock()
}

// observeAge records a frame's age once its detections were delivered.
func (s *camStats) observeAge(d time.Duration) {
	s.mu.Lock()
	s.age.add(d)
	s.mu.Unlock()
}

func (s *camStats) setErr(err error) {
	s.mu.Lock()
	s.lastErr = err.Error()
	s.mu.Unlock()
}

func (s *camStats) snapshot(id string) CameraStats {
	out := CameraStats{ID: id, Up: s.up.Load(), FramesIn: s.framesIn.Load(), Sampled: s.sampled.Load(),
		Processed: s.processed.Load(), Detections: s.detections.Load(), Restarts: s.restarts.Load(),
		Dropped: map[string]uint64{}}
	for i, r := range dropReasons {
		out.Dropped[r] = s.dropped[i].Load()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out.LastError = s.lastErr
	out.InferenceAvgMS, out.InferenceP99MS = s.inference.avgP99()
	out.FrameAgeAvgMS, out.FrameAgeP99MS = s.age.avgP99()
	return out
}
