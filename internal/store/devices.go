package store

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"
)

// Labels that identify a device (see the ingest's default mapping).
const (
	labelDeviceID   = "device_id"
	labelNode       = "node" // set by collectors (fleet): the gateway a reading came from
	labelDeviceType = "device_type"
)

// deviceIndex is the in-memory latest-value index behind /api/v1/devices:
// for every series with a device_id label, its newest sample. Append updates
// it once per committed batch (one lock per batch, one pointer per sample,
// see apply); Run fills it from the TSDB before the store opens (rebuild.go).
//
// Bounds: one entry per device series that still has data in the TSDB.
// Entries whose newest sample is older than the oldest stored data (removed
// by retention) are dropped by prune. Series that only left the in-memory
// head (head GC) keep their entry: their data is still in the blocks and the
// device must still be listed. As at most max_series series are in the head,
// anything beyond is a series silent for hours (device-id churn); the index
// is capped at 2×max_series entries and on overflow drops the entries with
// the oldest newest sample first (counted in evicted).
type deviceIndex struct {
	mu      sync.RWMutex
	max     int                   // hard cap on entries
	n       int                   // entries
	series  map[uint64]*latest    // by label hash
	clashes map[uint64][]*latest  // hash collisions, like the TSDB's stripeSeries
	devices map[string]*deviceRec // by device_id

	nSeries  atomic.Int64 // for the gauges, readable without mu
	nDevices atomic.Int64
	evicted  atomic.Int64
}

// latest is the newest sample of one device series.
type latest struct {
	lset    labels.Labels
	hash    uint64
	dev     *deviceRec
	t       int64 // math.MinInt64: no sample yet
	v       float64
	removed bool // dropped from the index; holders must resolve again
}

// deviceRec is one device_id and its series.
type deviceRec struct {
	id     string
	series []*latest
}

// noDevice marks a seriesState whose series has no device_id label: it is
// resolved once per cache entry and never indexed.
var noDevice = &latest{}

// touch is one committed sample, recorded by Append for apply.
type touch struct {
	st *seriesState
	t  int64
	v  float64
}

func newDeviceIndex(limit int) *deviceIndex {
	return &deviceIndex{
		max:     limit,
		series:  map[uint64]*latest{},
		clashes: map[uint64][]*latest{},
		devices: map[string]*deviceRec{},
	}
}

// apply records the committed samples of one batch: one lock for the batch,
// a pointer dereference and a comparison per sample (the map is only
// consulted the first time a series is seen by the series cache). An older
// sample (out of order) never replaces a newer one. Called with
// Store.appendMu held, which guards the seriesState fields.
func (ix *deviceIndex) apply(ts []touch) {
	if len(ts) == 0 {
		return
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for i := range ts {
		u := &ts[i]
		e := u.st.dev
		if e == nil || e.removed {
			e = ix.resolveLocked(u.st.lset, u.st.hash)
			u.st.dev = e
		}
		if e == noDevice {
			continue
		}
		if u.t > e.t {
			e.t, e.v = u.t, u.v
		}
	}
}

// resolveLocked returns the entry of lset, creating it (with no sample yet)
// if lset has a device_id, or noDevice.
func (ix *deviceIndex) resolveLocked(lset labels.Labels, h uint64) *latest {
	if e := ix.getLocked(lset, h); e != nil {
		return e
	}
	id := lset.Get(labelDeviceID)
	if id == "" {
		return noDevice
	}
	e := &latest{lset: lset, hash: h, t: math.MinInt64}
	ix.insertLocked(e, id)
	return e
}

func (ix *deviceIndex) getLocked(lset labels.Labels, h uint64) *latest {
	if e, ok := ix.series[h]; ok && labels.Equal(e.lset, lset) {
		return e
	}
	for _, e := range ix.clashes[h] {
		if labels.Equal(e.lset, lset) {
			return e
		}
	}
	return nil
}

func (ix *deviceIndex) insertLocked(e *latest, id string) {
	if ix.n >= ix.max {
		ix.evictLocked(ix.max - max(1, ix.max/4))
	}
	ix.n++
	if _, ok := ix.series[e.hash]; ok {
		ix.clashes[e.hash] = append(ix.clashes[e.hash], e)
	} else {
		ix.series[e.hash] = e
	}
	d := ix.devices[id]
	if d == nil {
		d = &deviceRec{id: id}
		ix.devices[id] = d
	}
	d.series = append(d.series, e)
	e.dev = d
	ix.updateGauges()
}

func (ix *deviceIndex) updateGauges() {
	ix.nSeries.Store(int64(ix.n))
	ix.nDevices.Store(int64(len(ix.devices)))
}

// removeLocked drops e from the index and marks it removed, so that a
// seriesState pointing at it resolves again.
func (ix *deviceIndex) removeLocked(e *latest) {
	e.removed = true
	ix.n--
	if ix.series[e.hash] == e {
		delete(ix.series, e.hash)
		if c := ix.clashes[e.hash]; len(c) > 0 { // promote a clashing entry
			ix.series[e.hash] = c[0]
			ix.dropClash(e.hash, c[0])
		}
	} else {
		ix.dropClash(e.hash, e)
	}
	d := e.dev
	if i := slices.Index(d.series, e); i >= 0 {
		d.series = slices.Delete(d.series, i, i+1)
	}
	if len(d.series) == 0 {
		delete(ix.devices, d.id)
	}
}

func (ix *deviceIndex) dropClash(h uint64, e *latest) {
	c := slices.DeleteFunc(ix.clashes[h], func(x *latest) bool { return x == e })
	if len(c) == 0 {
		delete(ix.clashes, h)
	} else {
		ix.clashes[h] = c
	}
}

// evictLocked drops the entries with the oldest newest sample until at
// most keep are left. On insert at the cap a quarter goes at once
// (amortized O(log n) per insert). Only series that have left the head can
// be that old unless the cap is far below the number of live series.
func (ix *deviceIndex) evictLocked(keep int) {
	if ix.n <= keep {
		return
	}
	all := ix.allLocked()
	slices.SortFunc(all, func(a, b *latest) int { return cmp.Compare(a.t, b.t) })
	n := ix.n - keep
	for _, e := range all[:n] {
		ix.removeLocked(e)
	}
	ix.evicted.Add(int64(n))
	ix.updateGauges()
}

func (ix *deviceIndex) allLocked() []*latest {
	all := make([]*latest, 0, len(ix.series))
	for _, e := range ix.series {
		all = append(all, e)
	}
	for _, c := range ix.clashes {
		all = append(all, c...)
	}
	return all
}

// prune drops the entries whose newest sample is older than mint, the
// oldest sample still stored: retention has deleted all their data.
func (ix *deviceIndex) prune(mint int64) int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	n := 0
	for _, e := range ix.allLocked() {
		if e.t < mint {
			ix.removeLocked(e)
			n++
		}
	}
	if n > 0 {
		ix.updateGauges()
	}
	return n
}

// adopt replaces the contents of ix with those of o (a freshly rebuilt,
// uncapped index nobody else references) and applies the cap.
func (ix *deviceIndex) adopt(o *deviceIndex) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, e := range ix.allLocked() {
		e.removed = true
	}
	ix.series, ix.clashes, ix.devices, ix.n = o.series, o.clashes, o.devices, o.n
	ix.evictLocked(ix.max)
	ix.updateGauges()
}

// observe records a sample found while rebuilding (only on an unpublished
// index, so without the hot-path shortcuts): the newer one wins.
func (ix *deviceIndex) observe(lset labels.Labels, h uint64, t int64, v float64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	e := ix.resolveLocked(lset, h)
	if e != noDevice && t > e.t {
		e.t, e.v = t, v
	}
}

// lastT returns the newest sample time known for lset (math.MinInt64 if none).
func (ix *deviceIndex) lastT(lset labels.Labels, h uint64) int64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if e := ix.getLocked(lset, h); e != nil {
		return e.t
	}
	return math.MinInt64
}

// dataMinTime is the oldest timestamp the TSDB may still hold: samples
// before it were deleted by retention.
func dataMinTime(db *tsdb.DB) int64 {
	st, err := db.StartTime()
	if err != nil {
		return math.MinInt64
	}
	return min(st, db.Head().MinOOOTime())
}

func registerDeviceMetrics(reg prometheus.Registerer, ix *deviceIndex) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "borda_store_devices",
			Help: "Devices (distinct device_id values) in the latest-value index of /api/v1/devices.",
		}, func() float64 { return float64(ix.nDevices.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "borda_store_device_series",
			Help: "Series with a device_id label tracked by the latest-value index.",
		}, func() float64 { return float64(ix.nSeries.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "borda_store_device_series_evicted_total",
			Help: "Latest-value index entries dropped because the index reached 2×max_series (oldest first).",
		}, func() float64 { return float64(ix.evicted.Load()) }),
	)
}
