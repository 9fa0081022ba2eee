package main

import (
	"sync"

	"github.com/borda-edge/borda/internal/dashboard"
	"github.com/borda-edge/borda/internal/vision"
)

// recentDetections keeps the last detections of every camera for the
// dashboard's Cameras page: bounded per camera, oldest replaced.
type recentDetections struct {
	mu   sync.Mutex
	keep int
	by   map[string][]dashboard.Detection // ring per camera
	next map[string]int
}

func newRecentDetections(keep int) *recentDetections {
	return &recentDetections{keep: keep, by: map[string][]dashboard.Detection{}, next: map[string]int{}}
}

func (r *recentDetections) add(ds []vision.Detection) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range ds {
		det := dashboard.Detection{Time: d.Time, Label: d.Label, Confidence: d.Confidence}
		ring := r.by[d.Camera]
		if len(ring) < r.keep {
			r.by[d.Camera] = append(ring, det)
			continue
		}
		ring[r.next[d.Camera]] = det
		r.next[d.Camera] = (r.next[d.Camera] + 1) % r.keep
	}
}

// Recent returns up to n of camera's latest detections, newest first.
func (r *recentDetections) Recent(camera string, n int) []dashboard.Detection {
	r.mu.Lock()
	defer r.mu.Unlock()
	ring := r.by[camera]
	out := make([]dashboard.Detection, 0, min(n, len(ring)))
	start := 0
	if len(ring) == r.keep {
		start = r.next[camera]
	}
	for i := len(ring) - 1; i >= 0 && len(out) < n; i-- { // oldest is at start
		out = append(out, ring[(start+i)%len(ring)])
	}
	return out
}
