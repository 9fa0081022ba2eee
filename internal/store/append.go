package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// maxShift bounds the duplicate-timestamp policy: a sample whose timestamp
// already holds a different value moves to the next free millisecond, at
// most this many milliseconds later.
const maxShift = 1000

// AppendResult counts what happened to the samples of one Append call.
// Every sample lands in exactly one of Appended, Duplicates or Rejected.
type AppendResult struct {
	Appended   int            // committed samples, including shifted ones
	Shifted    int            // of Appended: moved to a later millisecond (duplicate-timestamp policy)
	Duplicates int            // identical timestamp and value already stored: an idempotent no-op
	Rejected   map[string]int // not stored, by reason (the Reason constants)
}

// Append stores the fields of pts as samples, all in one TSDB appender with
// one commit. Field "value" becomes metric <measurement>, any other field
// <measurement>_<field>; tags become labels. A sample that cannot be stored
// is counted in Rejected and skipped; its neighbours are still committed.
// Append is safe for concurrent use. It returns an error only when the store
// is not open (ErrNotReady) or the commit fails, in which case nothing of
// this call is stored.
func (s *Store) Append(ctx context.Context, pts []telemetry.Point) (AppendResult, error) {
	res := AppendResult{Rejected: map[string]int{}}
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	db, err := s.acquire()
	if err != nil {
		return res, err
	}
	defer s.release()
	start := time.Now()
	s.cache.trim()
	b := &batch{s: s, db: db, app: db.Appender(ctx), res: &res, pending: map[pendingKey]float64{},
		ctx: context.WithoutCancel(ctx), touched: s.touched[:0]} // lookups must not fail half-way
	defer b.recycle()
	for i := range pts {
		b.addPoint(&pts[i])
	}
	if err := b.app.Commit(); err != nil {
		s.cache.reset() // the bookkeeping of this batch is void
		res.Rejected[ReasonStorage] += res.Appended
		s.m.rejected.WithLabelValues(ReasonStorage).Add(float64(res.Appended))
		res.Appended, res.Shifted = 0, 0
		return res, fmt.Errorf("store: commit: %w", err)
	}
	s.devices.apply(b.touched) // one lock for the batch
	s.m.duration.Observe(time.Since(start).Seconds())
	s.m.appended.Add(float64(res.Appended))
	s.m.shifted.Add(float64(res.Shifted))
	s.m.duplicates.Add(float64(res.Duplicates))
	for r, n := range res.Rejected {
		s.m.rejected.WithLabelValues(r).Add(float64(n))
	}
	if len(res.Rejected) > 0 {
		s.log.Debug("samples rejected", "rejected", res.Rejected, "appended", res.Appended)
	}
	return res, nil
}

// batch is the state of one Append call.
type batch struct {
	s       *Store
	ctx     context.Context
	db      *tsdb.DB
	app     storage.Appender
	res     *AppendResult
	sb      labels.ScratchBuilder
	tags    []labels.Label
	pending map[pendingKey]float64 // samples appended in this batch
	touched []touch                // the same, for the device index after the commit
}

// recycle keeps the touched buffer for the next batch (Store.appendMu is
// held), unless it grew unusually large.
func (b *batch) recycle() {
	clear(b.touched) // drop the seriesState pointers
	if cap(b.touched) <= 1<<16 {
		b.s.touched = b.touched[:0]
	} else {
		b.s.touched = nil
	}
}

type pendingKey struct {
	st *seriesState
	t  int64
}

func (b *batch) addPoint(p *telemetry.Point) {
	ts := p.Time.UnixMilli()
	name := telemetry.MetricName(p.Measurement)
	tagsOK := b.buildTags(p.Tags)
	for _, f := range p.Fields {
		if name == "" || !tagsOK {
			b.reject(ReasonInvalid)
			continue
		}
		metric := telemetry.SeriesName(p.Measurement, f.Key)
		b.sb.Reset()
		b.sb.Add(labels.MetricName, metric)
		for _, l := range b.tags {
			b.sb.Add(l.Name, l.Value)
		}
		b.sb.Sort()
		b.addSample(b.sb.Labels(), ts, f.Value)
	}
}

// buildTags sanitizes tag keys into b.tags, dropping empty values (an empty
// label is the same as no label in Prometheus). It reports false for
// reserved (__*) or clashing names.
func (b *batch) buildTags(tags []telemetry.Tag) bool {
	b.tags = b.tags[:0]
	for _, t := range tags {
		if t.Value == "" {
			continue
		}
		n := telemetry.LabelName(t.Key)
		if n == "" || (len(n) >= 2 && n[:2] == "__") {
			return false
		}
		for _, l := range b.tags {
			if l.Name == n {
				return false
			}
		}
		b.tags = append(b.tags, labels.Label{Name: n, Value: t.Value})
	}
	return true
}

// addSample applies the duplicate-timestamp policy and appends one sample.
func (b *batch) addSample(lset labels.Labels, t int64, v float64) {
	st := b.s.cache.lookup(lset)
	if !st.known {
		b.initState(st)
	}
	var stored map[int64]float64
	if t < st.lastT { // out of order: the slots may hold stored samples
		stored = b.storedSamples(st, t, t+maxShift)
	}
	for shift := int64(0); shift <= maxShift; shift++ {
		ts := t + shift
		switch b.known(st, stored, ts, v) {
		case slotSame:
			b.res.Duplicates++
			return
		case slotTaken:
			continue
		}
		ref, err := b.app.Append(st.ref, lset, ts, v)
		if errors.Is(err, storage.ErrDuplicateSampleForTimestamp) {
			continue
		}
		if err != nil {
			b.reject(classify(err))
			return
		}
		st.ref = ref
		if ts > st.lastT {
			st.lastT, st.lastV, st.hasLast = ts, v, true
		}
		b.pending[pendingKey{st, ts}] = v
		b.touched = append(b.touched, touch{st, ts, v})
		b.res.Appended++
		if shift > 0 {
			b.res.Shifted++
		}
		return
	}
	b.reject(ReasonDuplicateTimestamp)
}

type slot int

const (
	slotFree  slot = iota // nothing known there: let the TSDB decide
	slotSame              // holds this very value
	slotTaken             // holds a different value
)

// known reports what is known about timestamp ts of series st: samples
// appended earlier in this batch, its newest sample and the stored samples
// looked up for an out-of-order timestamp.
func (b *batch) known(st *seriesState, stored map[int64]float64, ts int64, v float64) slot {
	if pv, ok := b.pending[pendingKey{st, ts}]; ok {
		return sameOrTaken(pv, v)
	}
	if st.hasLast && ts == st.lastT {
		return sameOrTaken(st.lastV, v)
	}
	if sv, ok := stored[ts]; ok {
		return sameOrTaken(sv, v)
	}
	return slotFree
}

// initState learns the newest stored sample of a series the cache does not
// know (first use, after a restart or a cache reset). Only samples that can
// still be appended to matter: those from the head's start or the
// out-of-order window, whichever is earlier. Without one, lastT is set just
// below that bound.
func (b *batch) initState(st *seriesState) {
	h := b.db.Head()
	mint := min(h.MinTime(), h.MaxTime()-b.s.cfg.OutOfOrderWindow.Milliseconds())
	st.known, st.hasLast, st.lastT = true, false, mint-1
	b.scan(st, mint, math.MaxInt64, func(t int64, v float64) {
		if !st.hasLast || t > st.lastT {
			st.lastT, st.lastV, st.hasLast = t, v, true
		}
	})
}

// storedSamples returns the stored samples of st between mint and maxt.
func (b *batch) storedSamples(st *seriesState, mint, maxt int64) map[int64]float64 {
	out := map[int64]float64{}
	b.scan(st, mint, maxt, func(t int64, v float64) { out[t] = v })
	return out
}

// scan calls fn for every committed float sample of st in [mint, maxt].
func (b *batch) scan(st *seriesState, mint, maxt int64, fn func(int64, float64)) {
	q, err := b.db.Querier(mint, maxt)
	if err != nil {
		return
	}
	defer q.Close()
	ms := make([]*labels.Matcher, 0, st.lset.Len())
	st.lset.Range(func(l labels.Label) {
		ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, l.Name, l.Value))
	})
	set := q.Select(b.ctx, false, &storage.SelectHints{Start: mint, End: maxt}, ms...)
	var it chunkenc.Iterator
	for set.Next() {
		if !labels.Equal(set.At().Labels(), st.lset) {
			continue // a series with more labels
		}
		it = set.At().Iterator(it)
		for it.Next() == chunkenc.ValFloat {
			if t, v := it.At(); t >= mint && t <= maxt {
				fn(t, v)
			}
		}
	}
}

func sameOrTaken(a, b float64) slot {
	if math.Float64bits(a) == math.Float64bits(b) {
		return slotSame
	}
	return slotTaken
}

func (b *batch) reject(reason string) { b.res.Rejected[reason]++ }

func classify(err error) string {
	switch {
	case errors.Is(err, errTooManySeries):
		return ReasonTooManySeries
	case errors.Is(err, storage.ErrOutOfBounds):
		return ReasonOutOfBounds
	case errors.Is(err, storage.ErrTooOldSample):
		return ReasonTooOld
	case errors.Is(err, storage.ErrOutOfOrderSample):
		return ReasonOutOfOrder
	}
	return ReasonStorage
}

// seriesState is the store's bookkeeping for one series: its head reference
// and the newest sample appended through this store.
type seriesState struct {
	lset    labels.Labels
	hash    uint64  // lset.Hash()
	dev     *latest // its device index entry (noDevice without device_id), nil until resolved
	ref     storage.SeriesRef
	known   bool    // lastT is valid: no stored sample is newer
	hasLast bool    // a sample is stored at lastT, with value lastV
	lastT   int64   // newest sample timestamp
	lastV   float64 // and its value
}

// seriesCache maps label hashes to seriesState. It is bounded: when it has
// grown past max entries it is emptied at the start of the next batch (the
// TSDB itself still refuses conflicting samples at the newest timestamp, so
// forgetting only costs an extra round trip). Guarded by Store.appendMu.
type seriesCache struct {
	m   map[uint64]*seriesState
	max int
}

func (c *seriesCache) lookup(lset labels.Labels) *seriesState {
	h := lset.Hash()
	if st, ok := c.m[h]; ok {
		if labels.Equal(st.lset, lset) {
			return st
		}
		return &seriesState{lset: lset, hash: h} // hash collision: do not cache
	}
	st := &seriesState{lset: lset, hash: h}
	c.m[h] = st
	return st
}

func (c *seriesCache) trim() {
	if len(c.m) > c.max {
		c.reset()
	}
}

func (c *seriesCache) reset() { clear(c.m) }
