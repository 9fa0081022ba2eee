package vision

import "github.com/prometheus/client_golang/prometheus"

// Reasons a sampled frame was not processed (label reason of
// borda_vision_frames_dropped_total).
const (
	dropStale     = "stale"      // replaced in the camera's one-frame buffer by a newer frame
	dropQueueFull = "queue_full" // evicted (drop_oldest) or refused (drop_newest) by the full queue
	dropDecode    = "decode"     // the picture did not decode
	dropError     = "error"      // preprocessing or inference failed
	dropStopped   = "stopped"    // still waiting when vision stopped
)

var dropReasons = [...]string{dropStale, dropQueueFull, dropDecode, dropError, dropStopped}

type metrics struct {
	frames, sampled, processed *prometheus.CounterVec
	dropped, detections        *prometheus.CounterVec
	restarts                   *prometheus.CounterVec
	sourceUp                   *prometheus.GaugeVec
	inference, age             *prometheus.HistogramVec
	resultsDropped             prometheus.Counter
	up                         prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, queueLen func() float64) *metrics {
	cam := []string{"camera"}
	buckets := prometheus.ExponentialBuckets(0.001, 2, 12) // 1 ms .. 2 s
	m := &metrics{
		frames: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_vision_frames_total",
			Help: "Frames read from the camera."}, cam),
		sampled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_vision_frames_sampled_total",
			Help: "Frames kept for inference (every Nth); each is processed or dropped."}, cam),
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_vision_frames_processed_total",
			Help: "Frames run through the model."}, cam),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_vision_frames_dropped_total",
			Help: "Sampled frames not processed, by reason (stale, queue_full, decode, error, stopped)."},
			[]string{"camera", "reason"}),
		detections: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_vision_detections_total",
			Help: "Detections (class at or above the threshold), by camera and label."}, []string{"camera", "label"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "borda_vision_source_restarts_total",
			Help: "Times a camera source failed and was reconnected."}, cam),
		sourceUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "borda_vision_source_up",
			Help: "1 while the camera delivers frames, 0 while it reconnects."}, cam),
		inference: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "borda_vision_inference_seconds",
			Help: "Model run time per frame.", Buckets: buckets}, cam),
		age: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "borda_vision_frame_age_seconds",
			Help:    "From reading a frame to the sink returning with its detections (published and stored).",
			Buckets: buckets}, cam),
		resultsDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_vision_results_dropped_total",
			Help: "Detections dropped because the sink fell behind (1024 processed frames waiting)."}),
		up: prometheus.NewGauge(prometheus.GaugeOpts{Name: "borda_vision_up",
			Help: "1 when the model is loaded and the workers run, 0 when vision is unavailable."}),
	}
	queue := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "borda_vision_queue_length",
		Help: "Frames waiting for a worker."}, queueLen)
	reg.MustRegister(m.frames, m.sampled, m.processed, m.dropped, m.detections, m.restarts,
		m.sourceUp, m.inference, m.age, m.resultsDropped, m.up, queue)
	return m
}
