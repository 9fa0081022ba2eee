package store

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Reasons a sample is not stored, the values of the reason label of
// borda_store_samples_rejected_total and the keys of AppendResult.Rejected.
const (
	ReasonOutOfBounds        = "out_of_bounds"       // older than the head accepts (OOO disabled)
	ReasonOutOfOrder         = "out_of_order"        // older than its series' newest sample (OOO disabled)
	ReasonTooOld             = "too_old"             // older than the out-of-order window
	ReasonDuplicateTimestamp = "duplicate_timestamp" // no free millisecond within the shift bound
	ReasonTooManySeries      = "too_many_series"     // would create a series past max_series
	ReasonInvalid            = "invalid"             // empty name, reserved or clashing label names
	ReasonStorage            = "storage"             // any other TSDB error
)

type metrics struct {
	appended   prometheus.Counter
	rejected   *prometheus.CounterVec
	duplicates prometheus.Counter
	shifted    prometheus.Counter
	duration   prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, s *Store) *metrics {
	m := &metrics{
		appended: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "borda_store_samples_appended_total",
			Help: "Samples committed to the TSDB.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "borda_store_samples_rejected_total",
			Help: "Samples not stored, by reason.",
		}, []string{"reason"}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "borda_store_samples_duplicate_total",
			Help: "Samples identical (timestamp and value) to a stored one, skipped as no-ops.",
		}),
		shifted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "borda_store_samples_shifted_total",
			Help: "Samples moved to a later millisecond because their timestamp held a different value.",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "borda_store_append_duration_seconds",
			Help:    "Time to append and commit one batch.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}),
	}
	for _, r := range []string{ReasonOutOfBounds, ReasonOutOfOrder, ReasonTooOld,
		ReasonDuplicateTimestamp, ReasonTooManySeries, ReasonInvalid, ReasonStorage} {
		m.rejected.WithLabelValues(r)
	}
	headSeries := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "borda_store_head_series",
		Help: "Series in the in-memory head block.",
	}, func() float64 { return float64(s.limiter.n.Load()) })
	walBytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "borda_store_wal_size_bytes",
		Help: "Size of the write-ahead log directory.",
	}, func() float64 { return walSize(s.dir) })
	reg.MustRegister(m.appended, m.rejected, m.duplicates, m.shifted, m.duration, headSeries, walBytes)
	return m
}
