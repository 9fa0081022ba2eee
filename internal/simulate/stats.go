package simulate

import (
	"encoding/json"
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Percentiles summarises a latency distribution. In JSON the durations are
// milliseconds as floats: {"count":N,"p50_ms":0.21,...}.
type Percentiles struct {
	Count int64
	P50   time.Duration
	P90   time.Duration
	P99   time.Duration
	Max   time.Duration
}

type percentilesJSON struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func toMillis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func fromMillis(f float64) time.Duration {
	return time.Duration(math.Round(f * float64(time.Millisecond)))
}

// MarshalJSON writes the durations as float milliseconds.
func (p Percentiles) MarshalJSON() ([]byte, error) {
	return json.Marshal(percentilesJSON{p.Count, toMillis(p.P50), toMillis(p.P90), toMillis(p.P99), toMillis(p.Max)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Percentiles) UnmarshalJSON(b []byte) error {
	var j percentilesJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*p = Percentiles{j.Count, fromMillis(j.P50), fromMillis(j.P90), fromMillis(j.P99), fromMillis(j.Max)}
	return nil
}

// histogram is a log-linear latency histogram in nanoseconds: 16 linear
// sub-buckets per power of two, so a percentile is within ~6% of the true
// value; the maximum is exact. Buckets are atomic so that a reader can take
// a snapshot while one goroutine records.
type histogram struct {
	counts [histBuckets]atomic.Int64
	max    atomic.Int64
}

const (
	histSub     = 16
	histBuckets = 64 * histSub
)

func bucketOf(v int64) int {
	if v < histSub {
		return int(max(v, 0))
	}
	e := bits.Len64(uint64(v)) - 5 // v>>e is in [16, 32)
	return (e+1)*histSub + int(v>>e) - histSub
}

// bucketUpper is the largest value that falls into bucket i.
func bucketUpper(i int) int64 {
	if i < histSub {
		return int64(i)
	}
	e := i/histSub - 1
	return (int64(i%histSub+histSub+1) << e) - 1
}

func (h *histogram) record(d int64) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(d)].Add(1)
	h.raiseMax(d)
}

// merge adds o's counts to h.
func (h *histogram) merge(o *histogram) {
	for i := range o.counts {
		if n := o.counts[i].Load(); n != 0 {
			h.counts[i].Add(n)
		}
	}
	h.raiseMax(o.max.Load())
}

func (h *histogram) raiseMax(d int64) {
	for m := h.max.Load(); d > m && !h.max.CompareAndSwap(m, d); m = h.max.Load() {
	}
}

// percentiles summarises the histogram; a percentile is reported as the
// upper bound of its bucket, never above the exact maximum.
func (h *histogram) percentiles() Percentiles {
	var counts [histBuckets]int64
	var total int64
	for i := range h.counts {
		counts[i] = h.counts[i].Load()
		total += counts[i]
	}
	if total == 0 {
		return Percentiles{}
	}
	mx := h.max.Load()
	at := func(q float64) time.Duration {
		rank := int64(math.Ceil(q * float64(total)))
		var seen int64
		for i, n := range counts {
			if seen += n; seen >= rank {
				return time.Duration(min(bucketUpper(i), mx))
			}
		}
		return time.Duration(mx)
	}
	return Percentiles{Count: total, P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: time.Duration(mx)}
}
