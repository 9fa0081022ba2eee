package netmon

import (
	"slices"
	"time"
)

// window keeps the last n probe results of one uplink.
type window struct {
	n    int
	rtts []time.Duration // -1: failed probe
}

func (w *window) add(rtt time.Duration, ok bool) {
	if !ok {
		rtt = -1
	}
	w.rtts = append(w.rtts, rtt)
	if len(w.rtts) > w.n {
		w.rtts = slices.Delete(w.rtts, 0, len(w.rtts)-w.n)
	}
}

// stats returns the average and 95th percentile (nearest rank) of the
// successful probes and the share of failed ones.
func (w *window) stats() (avg, p95 time.Duration, loss float64) {
	if len(w.rtts) == 0 {
		return 0, 0, 0
	}
	ok := make([]time.Duration, 0, len(w.rtts))
	var sum time.Duration
	for _, r := range w.rtts {
		if r >= 0 {
			ok = append(ok, r)
			sum += r
		}
	}
	loss = float64(len(w.rtts)-len(ok)) / float64(len(w.rtts))
	if len(ok) == 0 {
		return 0, 0, loss
	}
	slices.Sort(ok)
	rank := (95*len(ok) + 99) / 100 // ceil(0.95 n)
	return sum / time.Duration(len(ok)), ok[rank-1], loss
}
