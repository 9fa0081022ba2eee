package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/tsdb/tombstones"
)

// headWindow is how far back from the newest sample in the head the first
// rebuild window reaches: series active within it cost one or two chunks.
const headWindow = 10 * time.Minute

// rebuildStats describes one rebuild of the device index.
type rebuildStats struct {
	Series     int // device series found
	HeadSeries int // of these, found in the head (in-order or out-of-order)
	Blocks     int // persisted blocks whose index was read
	ChunksRead int // chunks decoded to find last samples
}

var deviceMatcher = labels.MustNewMatcher(labels.MatchNotEqual, labelDeviceID, "")

// rebuildDevices builds the latest-value index from the TSDB without
// reading every sample:
//
//  1. The head, through a chunk querier with a device_id matcher, newest
//     window first: [newest-10m, ∞), then the rest of the head (including
//     the out-of-order head). A series found in a window has its newest
//     sample there (the querier merges every source overlapping the window,
//     blocks included), so later windows skip it without loading chunks.
//  2. Every persisted block, newest first, through its index: for each
//     device series the chunk metadata (from the index, no chunk data) tells
//     which chunk holds its newest sample, and only a chunk that can hold a
//     sample newer than the one already found is decoded. A device silent
//     for days therefore costs one chunk read, not a scan of its history.
//
// Tombstoned samples are skipped. The index returned is not capped (an
// evicted series found again in an older block would come back with a too
// old sample); deviceIndex.adopt applies the cap.
func rebuildDevices(ctx context.Context, db *tsdb.DB) (*deviceIndex, rebuildStats, error) {
	ix := newDeviceIndex(math.MaxInt)
	var st rebuildStats
	h := db.Head()
	hmin := min(h.MinTime(), h.MinOOOTime())
	hmax := max(h.MaxTime(), h.MaxOOOTime())
	if hmin <= hmax { // the head holds samples
		split := hmin
		if hmax-hmin > headWindow.Milliseconds() {
			split = hmax - headWindow.Milliseconds()
		}
		if err := rebuildWindow(ctx, db, ix, split, math.MaxInt64, &st); err != nil {
			return ix, st, err
		}
		if split > hmin {
			if err := rebuildWindow(ctx, db, ix, hmin, split-1, &st); err != nil {
				return ix, st, err
			}
		}
	}
	st.HeadSeries = ix.n
	err := rebuildBlocks(ctx, db, ix, &st)
	st.Series = ix.n
	return ix, st, err
}

// rebuildWindow records the newest sample in [mint, maxt] of every device
// series not found yet.
func rebuildWindow(ctx context.Context, db *tsdb.DB, ix *deviceIndex, mint, maxt int64, st *rebuildStats) error {
	q, err := db.ChunkQuerier(mint, maxt)
	if err != nil {
		return err
	}
	defer q.Close()
	// Untrimmed chunks: no re-encoding of the chunks at the window's edge.
	// Their extra samples are real samples of the series; the newest one
	// is still right, as every newer window has already been read.
	hints := &storage.SelectHints{Start: mint, End: maxt, DisableTrimming: true}
	set := q.Select(ctx, false, hints, deviceMatcher)
	var (
		it    chunks.Iterator
		metas []chunks.Meta
		cit   chunkenc.Iterator
	)
	open := func(m chunks.Meta) (chunkenc.Iterator, error) {
		cit = m.Chunk.Iterator(cit)
		return cit, nil
	}
	for i := 0; set.Next(); i++ {
		if i%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		lset := set.At().Labels()
		h := lset.Hash()
		if ix.lastT(lset, h) != math.MinInt64 {
			continue // found in a newer window
		}
		metas = metas[:0]
		it = set.At().Iterator(it)
		for it.Next() {
			metas = append(metas, it.At())
		}
		if err := it.Err(); err != nil {
			return err
		}
		t, v, found, n, err := lastSample(metas, math.MinInt64, nil, open)
		st.ChunksRead += n
		if err != nil {
			return err
		}
		if found {
			ix.observe(lset, h, t, v)
		}
	}
	return set.Err()
}

// rebuildBlocks reads the persisted blocks, newest first. A block that is
// being closed (compaction or retention running concurrently) is retried
// with the DB's new block list; reading a block twice is harmless.
func rebuildBlocks(ctx context.Context, db *tsdb.DB, ix *deviceIndex, st *rebuildStats) error {
	done := map[string]bool{}
	for range 5 {
		blocks := slices.Clone(db.Blocks())
		slices.SortFunc(blocks, func(a, b *tsdb.Block) int { return cmp.Compare(b.MaxTime(), a.MaxTime()) })
		retry := false
		for _, b := range blocks {
			id := b.Meta().ULID.String()
			if done[id] {
				continue
			}
			err := rebuildBlock(ctx, b, ix, st)
			if errors.Is(err, tsdb.ErrClosing) {
				retry = true
				continue
			}
			if err != nil {
				return fmt.Errorf("block %s: %w", id, err)
			}
			done[id] = true
			st.Blocks++
		}
		if !retry {
			return nil
		}
	}
	return errors.New("blocks kept changing while being read")
}

func rebuildBlock(ctx context.Context, b *tsdb.Block, ix *deviceIndex, st *rebuildStats) (err error) {
	ir, err := b.Index()
	if err != nil {
		return err
	}
	defer closeInto(ir, &err)
	cr, err := b.Chunks()
	if err != nil {
		return err
	}
	defer closeInto(cr, &err)
	tr, err := b.Tombstones()
	if err != nil {
		return err
	}
	defer closeInto(tr, &err)

	var (
		sb    labels.ScratchBuilder
		metas []chunks.Meta
		cit   chunkenc.Iterator
	)
	open := func(m chunks.Meta) (chunkenc.Iterator, error) {
		c, iterable, err := cr.ChunkOrIterable(m)
		switch {
		case err != nil:
			return nil, err
		case c != nil:
			cit = c.Iterator(cit)
		case iterable != nil:
			cit = iterable.Iterator(cit)
		default:
			return nil, errors.New("empty chunk")
		}
		return cit, nil
	}
	bmax := b.MaxTime() - 1 // block ranges are half-open
	p := ir.PostingsForAllLabelValues(ctx, labelDeviceID)
	for i := 0; p.Next(); i++ {
		if i%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		ref := p.At()
		if err := ir.Series(ref, &sb, &metas); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				continue
			}
			return err
		}
		lset := sb.Labels()
		h := lset.Hash()
		after := ix.lastT(lset, h)
		if after >= bmax {
			continue // nothing in this block can be newer
		}
		var deleted tombstones.Intervals
		if deleted, err = tr.Get(ref); err != nil {
			return err
		}
		t, v, found, n, err := lastSample(metas, after, deleted, open)
		st.ChunksRead += n
		if err != nil {
			return err
		}
		if found {
			ix.observe(lset, h, t, v)
		}
	}
	return p.Err()
}

// lastSample returns the newest float sample newer than after held by the
// chunks of one series. It decodes the chunks in decreasing MaxTime order
// and stops as soon as no remaining chunk can hold a newer sample, so
// usually exactly one chunk is decoded. Samples in deleted and staleness
// markers are skipped. metas is modified.
func lastSample(metas []chunks.Meta, after int64, deleted tombstones.Intervals,
	open func(chunks.Meta) (chunkenc.Iterator, error),
) (t int64, v float64, found bool, decoded int, err error) {
	t = after
	for {
		j := -1
		for i := range metas {
			if metas[i].MaxTime > t && (j < 0 || metas[i].MaxTime > metas[j].MaxTime) {
				j = i
			}
		}
		if j < 0 {
			return t, v, found, decoded, nil
		}
		m := metas[j]
		metas[j].MaxTime = math.MinInt64 // tried
		it, err := open(m)
		if err != nil {
			return t, v, found, decoded, err
		}
		decoded++
		for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
			if vt != chunkenc.ValFloat {
				continue
			}
			ts, val := it.At()
			if ts > t && !value.IsStaleNaN(val) && !inIntervals(deleted, ts) {
				t, v, found = ts, val, true
			}
		}
		if err := it.Err(); err != nil {
			return t, v, found, decoded, err
		}
	}
}

func inIntervals(in tombstones.Intervals, t int64) bool {
	for _, r := range in {
		if r.InBounds(t) {
			return true
		}
	}
	return false
}

func closeInto(c interface{ Close() error }, err *error) {
	if cerr := c.Close(); cerr != nil && *err == nil {
		*err = cerr
	}
}
