package rules

import "math"

// ring is a series' history of the tracked field, oldest overwritten
// first. Its capacity is what the rule's count windows need; duration
// windows make it grow (doubling) while its oldest reading is still inside
// the longest window, up to MaxWindow readings. It never shrinks.
type ring struct {
	v    []float64
	t    []int64 // Unix ns
	head int     // next write position (the oldest reading when full)
	n    int
}

// idx is the slot of the i-th newest reading (0 = newest).
func (r *ring) idx(i int) int {
	j := r.head - 1 - i
	if j < 0 {
		j += len(r.v)
	}
	return j
}

func (r *ring) value(i int) float64 { return r.v[r.idx(i)] }

// countAfter is how many of the newest readings are later than cut.
func (r *ring) countAfter(cut int64) int {
	k := 0
	for k < r.n && r.t[r.idx(k)] > cut {
		k++
	}
	return k
}

// push appends a reading. need is the capacity count windows need; with
// spans, keepAfter is the start of the longest duration window.
func (r *ring) push(t int64, v float64, need int, spans bool, keepAfter int64) {
	if len(r.v) < need {
		r.grow(need)
	}
	if spans && r.n == len(r.v) && len(r.v) < MaxWindow && (r.n == 0 || r.t[r.head] > keepAfter) {
		r.grow(min(max(2*len(r.v), 8), MaxWindow))
	}
	if len(r.v) == 0 {
		return
	}
	r.v[r.head], r.t[r.head] = v, t
	r.head++
	if r.head == len(r.v) {
		r.head = 0
	}
	if r.n < len(r.v) {
		r.n++
	}
}

// grow reallocates to capacity c (>= r.n), keeping the readings in order.
func (r *ring) grow(c int) {
	v, t := make([]float64, c), make([]int64, c)
	for i := range r.n {
		j := r.idx(r.n - 1 - i)
		v[i], t[i] = r.v[j], r.t[j]
	}
	r.v, r.t = v, t
	r.head = r.n % c
}

// ewma is an exponentially weighted mean and variance (West/Finch
// incremental form) of the readings seen so far.
type ewma struct {
	mean, variance float64
	n              int
}

func (s *ewma) update(x, alpha float64) {
	if s.n == 0 {
		s.mean, s.variance = x, 0
	} else {
		d := x - s.mean
		inc := alpha * d
		s.mean += inc
		s.variance = (1 - alpha) * (s.variance + d*inc)
	}
	if s.n < math.MaxInt32 {
		s.n++
	}
}

// warmup is how many readings zscore() needs before it scores: about the
// EWMA's memory, 1/alpha, and at least 2.
func warmup(alpha float64) int { return max(2, int(math.Ceil(1/alpha))) }

// median returns the median of xs (reordering xs) in expected O(n).
func median(xs []float64) float64 {
	n := len(xs)
	if n == 0 {
		return math.NaN()
	}
	hi := selectKth(xs, n/2)
	if n%2 == 1 {
		return hi
	}
	lo := xs[0] // selectKth left xs[:n/2] holding the smaller half
	for _, x := range xs[1 : n/2] {
		lo = math.Max(lo, x)
	}
	return (lo + hi) / 2
}

// selectKth partially sorts xs so that xs[k] is the k-th smallest, with
// smaller-or-equal values before it, and returns it (Hoare's quickselect
// with a median-of-three pivot).
func selectKth(xs []float64, k int) float64 {
	lo, hi := 0, len(xs)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if xs[mid] < xs[lo] {
			xs[mid], xs[lo] = xs[lo], xs[mid]
		}
		if xs[hi] < xs[lo] {
			xs[hi], xs[lo] = xs[lo], xs[hi]
		}
		if xs[hi] < xs[mid] {
			xs[hi], xs[mid] = xs[mid], xs[hi]
		}
		pivot := xs[mid]
		i, j := lo, hi
		for i <= j {
			for xs[i] < pivot {
				i++
			}
			for xs[j] > pivot {
				j--
			}
			if i <= j {
				xs[i], xs[j] = xs[j], xs[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return xs[k]
		}
	}
	return xs[k]
}
